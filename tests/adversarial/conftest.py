"""The adversarial suite's shared plumbing: figures saved at the end of the session."""

from __future__ import annotations

import adversarial_stats
from fault_fixtures import proxied_server, tenant  # noqa: F401 - fixtures for every module


def pytest_sessionfinish(session, exitstatus) -> None:
    adversarial_stats.save()
