"""Shared fixtures: every test runs with its own data, config and working directories."""

from __future__ import annotations

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
]
