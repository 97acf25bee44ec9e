"""The command line: exit codes 0/1/2, stdout for data, one stderr line for failures."""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.secrets_watch import CANARY
from tursotui.cli import main
from tursotui.session.audit import AuditLog

TOKEN = f"{CANARY}-cli-token"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `tursotui argv...` in-process: (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return status, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def tenant_db(tmp_path: Path) -> Path:
    """An empty tenant database file."""
    path = tmp_path / "acme.db"
    sqlite3.connect(path).close()
    return path


def test_an_empty_registry_lists_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "tenants", "--json")[:2] == (0, "[]\n")
    status, out, err = run(capsys, "tenants")
    assert (status, out) == (0, "")
    assert "no tenants" in err


def test_add_list_and_remove(capsys: pytest.CaptureFixture[str], tenant_db: Path) -> None:
    status, out, err = run(
        capsys, "tenants", "add", "acme", "--url", f"file:{tenant_db}", "--token", TOKEN,
        "--name", "Acme Corp",
    )  # fmt: skip
    assert (status, out) == (0, "")
    assert "added acme" in err
    status, out, _ = run(capsys, "tenants", "--json")
    assert status == 0
    (record,) = json.loads(out)
    assert {"slug", "name", "url", "reachable", "error", "schema"} <= set(record)
    assert record["slug"] == "acme" and record["name"] == "Acme Corp"
    assert record["url"] == f"file:{tenant_db}"
    assert record["has_token"] is True
    assert record["reachable"] is True
    assert record["schema"] == "not migrated"
    assert "no posts table" in record["error"]
    status, out, _ = run(capsys, "tenants")
    assert status == 0
    assert out.splitlines()[0].split() == [
        "slug",
        "name",
        "url",
        "answers",
        "schema",
        "posts",
        "error",
    ]
    assert "acme" in out and "not migrated" in out
    status, _, err = run(capsys, "tenants", "remove", "acme")
    assert status == 0 and "left alone" in err
    assert tenant_db.exists()
    with sqlite3.connect(tenant_db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert run(capsys, "tenants", "--json")[1] == "[]\n"
    status, _, err = run(capsys, "tenants", "remove", "acme")
    assert status == 1
    assert one_error_line(err) == "error: no tenant 'acme' in the registry"


@pytest.mark.parametrize(
    "argv",
    [
        ["tenants", "add", "acme"],  # no --url
        ["tenants", "frobnicate"],
        ["migrate"],  # neither slugs nor --all
        ["migrate", "acme", "--all"],
        ["demo", "--posts", "0"],
        ["demo", "--tenants", "many"],
        ["no-such-command"],
        ["sql"],
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert "usage:" in err


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [[], ["tenants"], ["tenants", "add"], ["tenants", "remove"], ["migrate"], ["demo"]]
    for argv in [[*c, "--help"] for c in commands]:
        status, out, _ = run(capsys, *argv)
        assert status == 0 and "usage:" in out


def test_a_bad_setting_is_one_line_naming_its_source(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURSOTUI_FLEET_CONCURRENCY", "lots")
    status, out, err = run(capsys, "tenants")
    assert (status, out) == (1, "")
    line = one_error_line(err)
    assert (
        "setting fleet_concurrency (from environment variable TURSOTUI_FLEET_CONCURRENCY)" in line
    )


def test_a_registry_without_its_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sqlite3.connect(tmp_path / "meta.db").close()
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", f"file:{tmp_path / 'meta.db'}")
    status, out, err = run(capsys, "tenants", "--json")
    assert (status, out) == (1, "")
    assert "there is no table 'organizations'" in one_error_line(err)


def test_a_bad_url_is_refused_and_nothing_written(
    capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    status, _, err = run(capsys, "tenants", "add", "acme", "--url", "gopher://x", "--token", TOKEN)
    assert status == 1
    assert one_error_line(err) == "error: tenant acme: unknown scheme 'gopher' in 'gopher://x'"
    assert run(capsys, "tenants", "--json")[1] == "[]\n"


def test_read_only_refuses_registry_writes(
    capsys: pytest.CaptureFixture[str], tenant_db: Path
) -> None:
    assert run(capsys, "tenants")[0] == 0  # creates the owned registry
    for argv in (
        ["--read-only", "tenants", "add", "acme", "--url", f"file:{tenant_db}"],
        ["tenants", "add", "acme", "--url", f"file:{tenant_db}", "--read-only"],
    ):
        status, _, err = run(capsys, *argv)
        assert status == 1
        assert "read-only" in one_error_line(err)
    assert run(capsys, "tenants", "--json")[1] == "[]\n"


def test_a_token_can_come_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tenant_db: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    assert (
        run(capsys, "tenants", "add", "acme", "--url", f"file:{tenant_db}", "--token", "-")[0] == 0
    )
    with sqlite3.connect(Path(os.environ["TURSOTUI_DATA_DIR"]) / "registry.db") as raw:
        assert raw.execute("SELECT db_token FROM organizations").fetchall() == [(TOKEN,)]


def test_hostile_names_cannot_drive_the_terminal(
    capsys: pytest.CaptureFixture[str], tenant_db: Path
) -> None:
    name = "\x1b]0;pwned\x07\x1b[31m[bold]evil[/]\u202e"
    assert (
        run(capsys, "tenants", "add", "evil", "--url", f"file:{tenant_db}", "--name", name)[0] == 0
    )
    status, out, _ = run(capsys, "tenants")
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b]0;pwned\\x07\\x1b[31m[bold]evil[/]\\u202e" in out
    status, out, _ = run(capsys, "tenants", "--json")
    assert json.loads(out)[0]["name"] == name  # machines get the value itself
    assert "\x1b" not in out  # JSON escapes it


def test_an_unreachable_tenant_is_listed_with_the_cause(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURSOTUI_TIMEOUT", "3")
    # port 9 (discard) is closed on a test machine: connection refused, at once
    assert (
        run(capsys, "tenants", "add", "far", "--url", "http://127.0.0.1:9", "--token", TOKEN)[0]
        == 0
    )
    status, out, _ = run(capsys, "tenants", "--json")
    assert status == 0
    (record,) = json.loads(out)
    assert record["reachable"] is False
    assert "far" in record["error"]
    assert record["schema"] is None


def test_silent_tenants_are_asked_at_once_each_with_its_deadline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tenant_db: Path
) -> None:
    """Four tenants that accept connections and never answer cost one timeout, not four."""
    monkeypatch.setenv("TURSOTUI_TIMEOUT", "1")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes handshakes; nobody ever answers
    port = silent.getsockname()[1]
    try:
        for slug in ("mute1", "mute2", "mute3", "mute4"):
            url = f"http://127.0.0.1:{port}/{slug}"
            assert run(capsys, "tenants", "add", slug, "--url", url, "--token", TOKEN)[0] == 0
        assert run(capsys, "tenants", "add", "ok", "--url", f"file:{tenant_db}")[0] == 0
        start = time.perf_counter()
        status, out, _ = run(capsys, "tenants", "--json")
        elapsed = time.perf_counter() - start
    finally:
        silent.close()
    assert status == 0
    records = {r["slug"]: r for r in json.loads(out)}
    assert records["ok"]["reachable"] is True
    for slug in ("mute1", "mute2", "mute3", "mute4"):
        assert records[slug]["reachable"] is False
        assert slug in records[slug]["error"]
    assert elapsed < 3.5, f"the probes were not concurrent ({elapsed:.1f} s)"


def test_migrate_reports_per_tenant_and_fails_if_any_failed(
    capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    assert run(capsys, "demo", "--no-tui", "--tenants", "3", "--posts", "10")[0] == 0
    status, out, err = run(capsys, "migrate", "--all", "--dry-run")
    assert status == 1  # the broken demo row cannot be migrated
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines == {
        "acme": "already current",
        "ghost": "failed: unknown scheme 'ftp' in 'ftp://files.example.com/ghost.db'",
        "laggard": "would apply 1 (0001_tursotui_indexes)",
        "mallory": "already current",
    }
    assert "3 of 4 tenants ok" in err and "dry run" in err
    assert not (isolated_env / "data" / "audit.jsonl").exists()
    status, out, _ = run(capsys, "migrate", "laggard", "acme")
    assert status == 0
    assert out.splitlines() == [
        "laggard  applied 1 (0001_tursotui_indexes)",
        "acme     already current",
    ]
    entries = AuditLog(isolated_env / "data" / "audit.jsonl", "x").entries()
    assert [(e.action, e.tenant, e.status, e.operator) for e in entries] == [
        ("migrate", "laggard", "pending", "tester"),
        ("migrate", "laggard", "ok", "tester"),
    ]
    status, _, err = run(capsys, "migrate", "nobody")
    assert status == 1 and one_error_line(err) == "error: no tenant 'nobody' in the registry"
    status, _, err = run(capsys, "--read-only", "migrate", "--all")
    assert status == 1 and "read-only" in one_error_line(err)


def test_migrate_with_a_bad_journal_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "migrations" / "meta").mkdir(parents=True)
    (tmp_path / "migrations" / "meta" / "_journal.json").write_text("{oops")
    monkeypatch.setenv("TURSOTUI_MIGRATIONS_DIR", str(tmp_path / "migrations"))
    status, out, err = run(capsys, "migrate", "--all")
    assert (status, out) == (1, "")
    assert "meta/_journal.json is malformed" in one_error_line(err)


def test_demo_is_idempotent_from_the_command_line(
    capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    status, out, err = run(capsys, "demo", "--no-tui", "--tenants", "2", "--posts", "5")
    assert (status, out) == (0, "")
    assert "acme: built" in err and "demo fleet ready" in err
    status, _, err = run(capsys, "demo", "--no-tui", "--tenants", "2", "--posts", "5")
    assert status == 0 and "acme: already built" in err and "mallory: already built" in err


def test_the_installed_command_runs(tmp_path: Path) -> None:
    """A smoke test of the real process: entry point, exit codes, stdout/stderr split."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURSO_", "TURSOTUI_"))} | {
        "TURSOTUI_DATA_DIR": str(tmp_path / "data"),
        "TURSOTUI_CONFIG_FILE": str(tmp_path / "empty.toml"),
    }
    (tmp_path / "empty.toml").touch()

    def tursotui(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tursotui", *argv],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    built = tursotui("demo", "--no-tui", "--tenants", "3", "--posts", "10")
    assert built.returncode == 0, built.stderr
    listed = tursotui("tenants", "--json")
    assert listed.returncode == 0, listed.stderr
    records = {r["slug"]: r for r in json.loads(listed.stdout)}
    assert set(records) == {"acme", "mallory", "laggard", "ghost"}
    assert records["laggard"]["schema"] == "behind by 1"
    assert records["ghost"]["broken"] is True
    assert records["acme"]["posts"]["published"] > 0
    usage = tursotui("tenants", "add")
    assert usage.returncode == 2 and usage.stdout == "" and "usage:" in usage.stderr
    missing = tursotui("tenants", "remove", "nobody")
    assert missing.returncode == 1
    assert missing.stderr == "error: no tenant 'nobody' in the registry\n"


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("Acme", "lowercase"),
        ("acme_corp", "only lowercase letters, digits and dashes"),
        ("acme-", "start or end with a dash"),
        ("a" * 64, "at most 63"),
    ],
)
def test_tenants_add_refuses_a_slug_tenants_create_would_refuse(
    capsys: pytest.CaptureFixture[str], tenant_db: Path, slug: str, reason: str
) -> None:
    status, out, err = run(capsys, "tenants", "add", slug, "--url", f"file:{tenant_db}")
    assert status == 1 and out == ""
    assert reason in err and len(err.strip().splitlines()) == 1
    assert run(capsys, "tenants", "--json")[1] == "[]\n"  # nothing was registered


def test_messages_count_one_tenant_in_the_singular(
    capsys: pytest.CaptureFixture[str], tenant_db: Path
) -> None:
    assert run(capsys, "tenants", "add", "far", "--url", "http://127.0.0.1:9")[0] == 0
    _status, _out, err = run(capsys, "tenants")
    assert "1 of 1 tenant is broken or did not answer" in err
    assert "tenants" not in err.replace("tenants add", "")
