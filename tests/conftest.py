"""Shared fixtures: every test runs with its own data, config and working directories."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the developer's settings, `.env` files, data or config."""
    for name in (
        "TURSO_DATABASE_URL",
        "TURSO_AUTH_TOKEN",
        "TURSO_ORG",
        "TURSO_PLATFORM_API_TOKEN",
        "TURSOTUI_REGISTRY_URL",
        "TURSOTUI_REGISTRY_AUTH_TOKEN",
        "TURSOTUI_REGISTRY_TABLE",
        "TURSOTUI_READ_ONLY",
        "TURSOTUI_MIGRATIONS_DIR",
        "TURSOTUI_PLATFORM_URL",
        "TURSOTUI_GROUP",
        "TURSOTUI_REGISTRY_COLUMNS",
        "TURSOTUI_TENANT_URL_TEMPLATE",
        "TURSOTUI_TOKEN_COMMAND",
        "TURSOTUI_TOKEN_COMMAND_TIMEOUT",
        "TURSOTUI_TOKEN_SOURCE",
        "TURSOTUI_MINTED_TOKEN_TTL",
        "TURSOTUI_GROUP_AUTH_TOKEN",
        "TURSO_GROUP_AUTH_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    work = tmp_path / "work"
    for folder in (home, work):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("TURSOTUI_DATA_DIR", str(tmp_path / "data"))
    config = home / "config.toml"
    config.touch()  # named by TURSOTUI_CONFIG_FILE, so it must exist (empty: no settings)
    monkeypatch.setenv("TURSOTUI_CONFIG_FILE", str(config))
    monkeypatch.setenv("TURSOTUI_OPERATOR", "tester")
    monkeypatch.chdir(work)
    return tmp_path


pytest_plugins = [
    "support.secrets_watch",
    # jwt_kit before servers, which imports it: a plugin imported first is not assert-rewritten.
    "support.jwt_kit",
    "support.servers",
    "support.faults",
    "support.moderation_fixtures",
    "support.provisioning",
]


@pytest.fixture(autouse=True)
async def _close_workspaces_left_open(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Close every workspace a test opened on its event loop and left open.

    A test that fails before its own `workspace.close()` would otherwise leave connections,
    threads and servers' streams behind for the tests after it. Workspaces opened on another
    loop (a CLI command's `asyncio.run`) are closed by that command.
    """
    from tursotui.session.workspace import Workspace

    opened: list[Workspace] = []
    loop = asyncio.get_running_loop()
    open_workspace = Workspace.open.__func__  # type: ignore[attr-defined]

    async def open_and_keep(cls: type[Workspace], *args: object, **kwargs: object) -> Workspace:
        workspace = await open_workspace(cls, *args, **kwargs)
        if asyncio.get_running_loop() is loop:
            opened.append(workspace)
        return workspace

    monkeypatch.setattr(Workspace, "open", classmethod(open_and_keep))
    yield
    for workspace in opened:
        if not workspace.registry.connection.closed:
            with contextlib.suppress(Exception):
                await workspace.close()
