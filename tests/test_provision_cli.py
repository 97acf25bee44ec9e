"""`tursotui tenants create|destroy|rotate-token` as a user runs them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from support.platform_server import FileBackend, platform_in_thread
from support.secrets_watch import CANARY
from test_drizzle_interop import drizzle, drizzle_migrate  # noqa: F401 - fixture
from tursotui.cli import main
from tursotui.tenant.migrations import load_folder


def data_dir() -> Path:
    return Path(os.environ["TURSOTUI_DATA_DIR"])


def registry_rows() -> list[tuple[str, str, str]]:
    with sqlite3.connect(data_dir() / "registry.db") as db:
        return db.execute("SELECT slug, name, db_url FROM organizations ORDER BY slug").fetchall()


def drizzle_rows(path: Path) -> list[tuple[object, str, int]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            'SELECT id, hash, created_at FROM "__drizzle_migrations" ORDER BY created_at'
        ).fetchall()


def test_create_makes_a_local_tenant_that_drizzle_finds_up_to_date(
    capsys: pytest.CaptureFixture[str],
    drizzle: Path,  # noqa: F811 - the fixture imported above
) -> None:
    """`tenants create acme` without a Turso account: a migrated, registered local file that
    drizzle-orm's own migrator leaves as it is."""
    assert main(["tenants", "create", "acme", "--name", "Acme Inc"]) == 0
    err = capsys.readouterr().err
    assert "creating tenant acme in a local file" in err
    assert "  migrate ... ok (2 migrations applied)" in err
    assert "  register ... ok" in err
    path = data_dir() / "tenants" / "acme.db"
    assert registry_rows() == [("acme", "Acme Inc", f"file:{path}")]
    expected = [(None, m.hash, m.when) for m in load_folder(None).migrations]
    assert drizzle_rows(path) == expected  # drizzle's rows have a NULL id, so do ours
    drizzle_migrate(drizzle, path, load_folder(None).path)
    assert drizzle_rows(path) == expected  # drizzle applied nothing: it is up to date


def test_destroy_yes_removes_file_and_row(capsys: pytest.CaptureFixture[str]) -> None:
    """`tenants destroy acme --yes` leaves no file, no WAL, no registry row."""
    assert main(["tenants", "create", "acme"]) == 0
    assert main(["tenants", "destroy", "acme", "--yes"]) == 0
    assert "destroyed tenant acme: removed its database and registry row" in (
        capsys.readouterr().err
    )
    assert list((data_dir() / "tenants").iterdir()) == []
    assert registry_rows() == []


def test_destroy_without_yes_needs_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --yes and no terminal to ask on, nothing is destroyed."""
    assert main(["tenants", "create", "acme"]) == 0
    capsys.readouterr()
    assert main(["tenants", "destroy", "acme"]) == 1
    assert capsys.readouterr().err == (
        "error: destroying acme deletes its database; add --yes to confirm\n"
    )
    assert [slug for slug, _, _ in registry_rows()] == ["acme"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["tenants", "create", "Acme"],
            "error: cannot create tenant 'Acme': the slug must be lowercase\n",
        ),
        (["tenants", "destroy", "nobody", "--yes"], "error: no tenant 'nobody' in the registry\n"),
        (["tenants", "rotate-token", "nobody"], "error: no tenant 'nobody' in the registry\n"),
    ],
)
def test_clear_one_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mistakes are one line on stderr and exit status 1."""
    assert main(argv) == 1
    assert capsys.readouterr().err.endswith(message)


def test_creating_twice_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """The second create of a slug says it exists; the first tenant is untouched."""
    assert main(["tenants", "create", "acme"]) == 0
    assert main(["tenants", "create", "acme"]) == 1
    assert capsys.readouterr().err.endswith("error: tenant acme is already in the registry\n")
    assert (data_dir() / "tenants" / "acme.db").exists()


def test_platform_api_create_that_cannot_be_reached_leaves_no_orphan(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Through the Platform API, a new database whose host does not answer is deleted again;
    the platform token appears nowhere."""
    token = f"platform-{CANARY}"
    with platform_in_thread(
        FileBackend(tmp_path / "platform"), token=token, domain="turso.invalid"
    ) as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", token)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        monkeypatch.setenv("TURSOTUI_TIMEOUT", "0.3")
        assert main(["tenants", "create", "acme", "--group", "eu"]) == 1
        assert server.databases == {}
        assert [op for op, _, _ in server.requests] == [
            "createDatabase",
            "createDatabaseToken",
            "deleteDatabase",
        ]
    err = capsys.readouterr().err
    assert "creating tenant acme in Turso" in err
    assert "  wait until ready ... FAILED" in err
    assert "  create database ... undone (the new database was deleted again)" in err
    assert "nothing is left behind" in err
    assert token not in err
    assert registry_rows() == []


def test_platform_api_destroy_and_rotate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A registered Turso tenant: rotate-token calls the API (the host does not answer, so
    the check fails and says so); destroy deletes the database and the row."""
    with platform_in_thread(FileBackend(tmp_path / "platform"), domain="turso.invalid") as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", server.token)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        monkeypatch.setenv("TURSOTUI_TIMEOUT", "0.3")
        host = f"acme-{server.org}.turso.invalid"
        assert main(["tenants", "add", "acme", "--url", f"libsql://{host}"]) == 0
        import asyncio

        from tursotui.platform import PlatformClient

        async def make() -> None:
            async with PlatformClient(server.org, server.token, base_url=server.url) as api:
                await api.create_database("acme", "default")

        asyncio.run(make())
        capsys.readouterr()
        assert main(["tenants", "rotate-token", "acme"]) == 1
        err = capsys.readouterr().err
        assert "error: rotating the token of acme failed at step 'verify'" in err
        assert server.calls("invalidateDatabaseTokens") == 1
        assert main(["tenants", "destroy", "acme", "--yes"]) == 0
        assert server.databases == {}
    assert registry_rows() == []
