"""What the provisioning and lifecycle tests share: the Platform API test server as fixtures,
and a Turso provisioner on it.

Registered as a plugin in `tests/conftest.py`, so `platform` and `sqld_platform` need no import;
a test module may define its own `platform` (set up differently) and it wins there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.platform_server import PlatformServer, file_backed, sqld_backed
from support.secrets_watch import watch
from tursotui.platform import PlatformClient
from tursotui.provision import TursoProvisioner


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[PlatformServer]:
    """The Platform API test server, file-backed; the test fails on any spec violation."""
    async with file_backed(tmp_path / "platform") as server:
        yield server


@pytest.fixture
async def sqld_platform(tmp_path: Path) -> AsyncIterator[PlatformServer]:
    """The Platform API test server with a real sqld per database."""
    async with sqld_backed(tmp_path / "sqld-platform") as server:
        yield server


def turso(server: PlatformServer) -> TursoProvisioner:
    """A Turso provisioner on the test server; retries do not sleep."""

    async def no_wait(seconds: float) -> None:
        return None

    api = PlatformClient(
        server.org, watch(server.token), base_url=server.url, sleep=no_wait, timeout=5.0
    )
    return TursoProvisioner(api, url_for=server.backend.url_for)
