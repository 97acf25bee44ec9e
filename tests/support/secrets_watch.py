"""A pytest plugin that fails any test whose output shows a secret.

Tests register the tokens they use with `watch(token)`; every token that
contains `CANARY` is watched without registration. After each test phase, the
captured stdout, stderr and log records and the failure report are searched.
"""

from __future__ import annotations

import pytest

CANARY = "tursotui-canary-7f3a"
"""Put this in any made-up token a test uses; it must never be printed."""

_watched: set[str] = {CANARY}


def watch(secret: str) -> str:
    """Fail every later test phase whose output contains `secret`; returns it."""
    if len(secret) >= 8:
        _watched.add(secret)
    return secret


def leaks(text: str) -> list[str]:
    """The watched secrets that `text` contains (shortened so the report does not leak them)."""
    return [f"{s[:4]}…({len(s)} chars)" for s in _watched if s in text]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    texts = [content for name, content in report.sections if name.endswith(report.when)]
    if report.longrepr is not None:
        texts.append(str(report.longrepr))
    found = sorted({leak for text in texts for leak in leaks(text)})
    if found:
        report.outcome = "failed"
        report.longrepr = f"a secret appeared in the test's output or failure report: {found}"
        report.sections = [(name, redact(content)) for name, content in report.sections]


def redact(text: str) -> str:
    """`text` with every watched secret blanked out, so the report itself does not leak."""
    for secret in _watched:
        text = text.replace(secret, "[REDACTED]")
    return text
