"""Backups: consistent SQLite files, a manifest, a verification, the CLI."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from support import fleet_fixtures, servers
from support.fleet_fixtures import add_local, fill, open_workspace, rows
from tursotui.cli import main
from tursotui.tenant.backup.manifest import MANIFEST
from tursotui.tenant.backup.run import backup_tenants
from tursotui.tenant.backup.verify import verify

# The real servers' fixtures, used by name below.
fleet_sqld = fleet_fixtures.fleet_sqld
sqld_tenant_url = fleet_fixtures.sqld_tenant_url
tursodb = servers.tursodb


async def test_backup_of_local_tenants_writes_files_manifest_and_verifies(tmp_path: Path) -> None:
    workspace = await open_workspace()
    try:
        one = await add_local(workspace, "one")
        fill(one, drafts=3, published=2, comments=7)
        two = await add_local(workspace, "two")
        fill(two, drafts=1)
        out = tmp_path / "backup"
        seen: list[str] = []
        run = await backup_tenants(
            await workspace.registry.tenants(),
            out,
            workspace.connection,
            progress=lambda slug, text: seen.append(slug),
        )
    finally:
        await workspace.close()
    assert not run.failures and [r.tenant for r in run.records] == ["one", "two"]
    manifest = json.loads((out / MANIFEST).read_text())
    entry = next(e for e in manifest["backups"] if e["tenant"] == "one")
    assert entry["row_counts"] == {"__drizzle_migrations": 2, "comments": 7, "posts": 5, "users": 1}
    assert entry["schema"]["applied"] == 2 and entry["consistent"] is True
    assert rows(out / entry["file"], "SELECT count(*) FROM posts") == [(5,)]
    assert {"one", "two"} <= set(seen)
    assert all(result.ok for result in verify(out))


async def test_verify_catches_a_changed_file(tmp_path: Path) -> None:
    workspace = await open_workspace()
    try:
        fill(await add_local(workspace, "one"), drafts=2)
        out = tmp_path / "b"
        await backup_tenants(await workspace.registry.tenants(), out, workspace.connection)
    finally:
        await workspace.close()
    db = sqlite3.connect(out / "one.db")
    db.execute("DELETE FROM posts")
    db.commit()
    db.close()
    [result] = verify(out)
    assert not result.ok
    assert any("SHA-256" in p for p in result.problems)
    assert any("table posts: manifest says 2, file has 0" in p for p in result.problems)


def test_backup_while_the_app_writes_is_one_consistent_snapshot(tmp_path: Path) -> None:
    """A writer inserts posts and comments in pairs the whole time; the copy never splits a pair."""

    async def setup() -> Path:
        workspace = await open_workspace()
        try:
            path = await add_local(workspace, "busy")
            fill(path, drafts=1, comments=1)
        finally:
            await workspace.close()
        return path

    path = asyncio.run(setup())
    # Grow it so the copy takes a while.
    db = sqlite3.connect(path)
    author = db.execute("SELECT id FROM users").fetchone()[0]
    db.executemany(
        "INSERT INTO posts VALUES (?, ?, ?, ?, NULL, 'draft')",
        [(str(uuid.uuid4()), "t" * 200, "c" * 2000, author) for _ in range(20_000)],
    )
    db.commit()
    db.close()
    stop = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(path, timeout=10)
        while not stop.is_set():
            post = str(uuid.uuid4())
            with conn:
                conn.execute(
                    "INSERT INTO posts VALUES (?, 'p', 'c', ?, NULL, 'draft')", (post, author)
                )
                conn.execute(
                    "INSERT INTO comments VALUES (?, 'x', ?, ?, 0)",
                    (str(uuid.uuid4()), post, author),
                )
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    out = tmp_path / "b"
    try:
        code = main(["backup", "busy", "--out", str(out)])
    finally:
        stop.set()
        thread.join()
    assert code == 0
    posts, comments = rows(
        out / "busy.db", "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM comments)"
    )[0]
    assert posts - 20_001 == comments - 1  # every pair whole: one snapshot
    manifest = json.loads((out / MANIFEST).read_text())["backups"][0]
    assert manifest["row_counts"]["posts"] == posts
    assert main(["backup", "--verify", str(out)]) == 0
    # The tenant went on growing; the backup is a snapshot of one moment, not the live file.
    assert rows(path, "SELECT count(*) FROM posts")[0][0] >= posts


def test_cli_usage_errors_and_unknown_tenants(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["backup"], ["backup", "x", "--all"], ["backup", "--verify", "d", "--all"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert main(["backup", "nobody", "--out", "somewhere"]) == 1
    assert "no tenant nobody" in capsys.readouterr().err
    assert main(["backup", "--verify", "nowhere"]) == 1
    assert "no manifest.json" in capsys.readouterr().err


def test_cli_all_reports_a_failed_tenant_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support.servers import free_port

    async def setup() -> None:
        workspace = await open_workspace()
        try:
            fill(await add_local(workspace, "good"), drafts=1)
            await workspace.registry.add("dead", f"http://127.0.0.1:{free_port()}", "s3cret-token")
        finally:
            await workspace.close()

    asyncio.run(setup())
    out = tmp_path / "all"
    assert main(["backup", "--all", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "FAILED dead" in err and "s3cret-token" not in err
    assert [e["tenant"] for e in json.loads((out / MANIFEST).read_text())["backups"]] == ["good"]


@pytest.mark.servers
async def test_backup_of_a_sqld_tenant_copies_every_table(
    sqld_tenant_url: str, tmp_path: Path
) -> None:
    workspace = await open_workspace()
    try:
        await workspace.registry.add("remote", sqld_tenant_url)
        tenant = await workspace.registry.get("remote")
        conn = await workspace.connection(tenant)
        user = str(uuid.uuid4())
        await conn.batch(
            [
                ("INSERT INTO users VALUES (?, ?, 'n', 1)", [user, f"{user}@x"]),
                *[
                    (
                        "INSERT INTO posts VALUES (?, 'héllo [b]x[/b]', ?, ?, 5, 'draft')",
                        [str(uuid.uuid4()), b"\x00blob" if i % 2 else "text", user],
                    )
                    for i in range(5)
                ],
            ]
        )
        expected = (await conn.execute("SELECT count(*) FROM posts")).rows[0][0]
        run = await backup_tenants([tenant], tmp_path / "r", workspace.connection)
    finally:
        await workspace.close()
    assert not run.failures, run.failures
    [record] = run.records
    assert record.method == "copy" and record.consistent
    assert record.row_counts["posts"] == expected
    assert (
        rows(
            tmp_path / "r" / record.file, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
        )[0][0]
        >= 5
    )
    assert all(r.ok for r in verify(tmp_path / "r"))


@pytest.mark.servers
async def test_backup_of_a_tursodb_tenant_reads_in_one_batch(tursodb, tmp_path: Path) -> None:
    """tursodb keeps no streams: the copy falls back to one batch, still one transaction."""
    table = f"backup_probe_{uuid.uuid4().hex[:8]}"
    workspace = await open_workspace()
    try:
        await workspace.registry.add("turso", tursodb.http_url)
        tenant = await workspace.registry.get("turso")
        conn = await workspace.connection(tenant)
        await conn.batch(
            [f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)"]
            + [(f"INSERT INTO {table} (v) VALUES (?)", [f"v{i}"]) for i in range(7)]
        )
        try:
            seen: list[str] = []
            run = await backup_tenants(
                [tenant],
                tmp_path / "t",
                workspace.connection,
                progress=lambda _slug, text: seen.append(text),
            )
        finally:
            await conn.execute(f"DROP TABLE {table}")
    finally:
        await workspace.close()
    assert not run.failures, run.failures
    [record] = run.records
    assert record.consistent and record.row_counts[table] == 7
    assert any("one batch" in text for text in seen)
    assert all(r.ok for r in verify(tmp_path / "t"))
