"""Point-in-time branches, comparing a tenant with one, and restoring rows from it: on local
files (the branch comes from a `tursotui backup`) and through the Platform API test server
(real sqld per database; the branch is seeded from a copy made at that time)."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.platform_server import PlatformServer
from support.provisioning import turso
from test_drizzle_interop import HERE, drizzle  # noqa: F401 - fixture
from tursotui.cli import main
from tursotui.db import connect
from tursotui.provision import ProvisionError, create_tenant, destroy_tenant
from tursotui.provision.branch import branch_tenant, branches, diff_tenant, restore_rows
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace

USERS = [("u1", "u1@example.com", "Author 1", 1_700_000_000)]
POSTS = [
    ("p1", "First", "one", "u1", 1_700_000_100, "published"),
    ("p2", "Second", "two", "u1", None, "draft"),
    ("p3", "Third", "three", "u1", 1_700_000_300, "published"),
]
COMMENTS = [
    ("c1", "nice", "p1", "u1", 1_700_000_150),
    ("c2", "meh", "p3", "u1", 1_700_000_350),
]
SEED = [
    ("INSERT INTO users VALUES (?, ?, ?, ?)", USERS),
    ("INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)", POSTS),
    ("INSERT INTO comments VALUES (?, ?, ?, ?, ?)", COMMENTS),
]
DAMAGE = [
    # "the customer deleted half their posts at 14:00", edited one and wrote a new one
    "DELETE FROM comments WHERE post_id = 'p1'",
    "DELETE FROM posts WHERE id = 'p1'",
    "UPDATE posts SET title = 'Third (edited)', status = 'archived' WHERE id = 'p3'",
    "INSERT INTO posts VALUES ('p4', 'Fourth', 'four', 'u1', NULL, 'draft')",
]


@pytest.fixture
async def workspace() -> AsyncIterator[Workspace]:
    opened = await Workspace.open(load_settings(timeout=5.0))
    try:
        yield opened
    finally:
        await opened.close()


def data_dir() -> Path:
    return Path(os.environ["TURSOTUI_DATA_DIR"])


def seed_file(path: Path) -> None:
    with sqlite3.connect(path) as db:
        for sql, rows in SEED:
            db.executemany(sql, rows)


def damage_file(path: Path) -> None:
    with sqlite3.connect(path) as db:
        for sql in DAMAGE:
            db.execute(sql)


async def run_remote(url: str, token, statements) -> None:
    connection = await connect(url, token)
    try:
        for statement in statements:
            if isinstance(statement, tuple):
                sql, rows = statement
                await connection.batch([(sql, list(row)) for row in rows])
            else:
                await connection.execute(statement)
    finally:
        await connection.close()


def read_with_drizzle(runner: Path, url: str) -> dict:
    shutil.copy(HERE.parent / "drizzle" / "read_rows.mjs", runner / "read_rows.mjs")
    done = subprocess.run(
        ["node", str(runner / "read_rows.mjs"), url],
        check=True,
        capture_output=True,
        timeout=60,
        text=True,
    )
    return json.loads(done.stdout)


EXPECTED_DIFF = {
    ("posts", "p1", "removed"),
    ("posts", "p3", "changed"),
    ("posts", "p4", "added"),
    ("comments", "c1", "removed"),
}


# -- local tenants: a branch from a backup ---------------------------------------------------


def test_local_branch_diff_restore_and_drizzle_reads_the_rows(
    capsys: pytest.CaptureFixture[str],
    drizzle: Path,  # noqa: F811 - the fixture imported above
) -> None:
    """backup → damage → branch at a time after the backup → diff names each change →
    restore the chosen rows in one batch; drizzle-orm reads exactly the old rows back."""
    assert main(["tenants", "create", "acme"]) == 0
    path = data_dir() / "tenants" / "acme.db"
    seed_file(path)
    assert main(["backup", "acme"]) == 0
    backed_up = datetime.datetime.now(datetime.UTC)
    time.sleep(1.1)  # the branch time is after the backup, before nothing else
    damage_file(path)
    at = backed_up.isoformat().replace("+00:00", "Z")
    assert main(["tenants", "branch", "acme", "acme-before", "--at", at]) == 0
    err = capsys.readouterr().err
    assert "create branch ... ok (from the backup of" in err
    assert branches(load_settings())["acme-before"]["of"] == "acme"
    assert main(["tenants", "--json"]) == 0
    listed = {r["slug"]: r["branch_of"] for r in json.loads(capsys.readouterr().out)}
    assert listed == {"acme": None, "acme-before": "acme"}
    assert main(["tenants", "diff", "acme", "acme-before", "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)
    assert {(c["table"], c["id"], c["kind"]) for c in changes} == EXPECTED_DIFF
    [p3] = [c for c in changes if c["id"] == "p3"]
    assert p3["changes"] == {
        "title": {"before": "Third", "after": "Third (edited)"},
        "status": {"before": "published", "after": "archived"},
    }
    assert main(["tenants", "diff", "acme", "acme-before"]) == 0
    text = capsys.readouterr().out
    assert "~ posts p3 (changed) title: Third -> Third (edited); status: published -> archived" in (
        text
    )
    argv = ["tenants", "restore", "acme", "--from", "acme-before", "--post", "p1"]
    argv += ["--post", "p3", "--comment", "c1", "--yes"]
    assert main(argv) == 0
    assert "restored 3 rows of acme-before into acme" in capsys.readouterr().err
    rows = read_with_drizzle(drizzle, f"file:{path}")
    assert [(p["id"], p["title"], p["status"], p["publishedAt"]) for p in rows["posts"]] == [
        ("p1", "First", "published", 1_700_000_100_000),
        ("p2", "Second", "draft", None),
        ("p3", "Third", "published", 1_700_000_300_000),
        ("p4", "Fourth", "draft", None),  # not chosen: the new post stays
    ]
    assert [(c["id"], c["postId"], c["createdAt"]) for c in rows["comments"]] == [
        ("c1", "p1", 1_700_000_150_000),
        ("c2", "p3", 1_700_000_350_000),
    ]
    actions = [json.loads(line) for line in (data_dir() / "audit.jsonl").read_text().splitlines()]
    restore = [a for a in actions if a["action"] == "restore-rows" and a["status"] == "ok"]
    assert restore and sorted(restore[0]["row_ids"]) == ["comments:c1", "posts:p1", "posts:p3"]
    assert main(["tenants", "destroy", "acme-before", "--yes"]) == 0
    assert "acme-before" not in branches(load_settings())


def test_local_branch_needs_a_backup_from_before(capsys: pytest.CaptureFixture[str]) -> None:
    """No backup at or before --at: refused, saying how to make one; nothing is created."""
    assert main(["tenants", "create", "acme"]) == 0
    assert main(["tenants", "branch", "acme", "acme-old", "--at", "2020-01-01T00:00:00Z"]) == 1
    err = capsys.readouterr().err
    assert "no backup of it taken at or before 2020-01-01T00:00:00Z" in err
    assert "tursotui backup acme" in err
    assert not (data_dir() / "tenants" / "acme-old.db").exists()
    assert main(["tenants", "branch", "acme", "acme-old", "--at", "yesterday"]) == 1
    assert "'yesterday' is not a time" in capsys.readouterr().err


async def test_restore_is_refused_when_a_row_changed_since_the_diff(
    workspace: Workspace,
) -> None:
    """The live row moved on after the comparison: the one batch fails, nothing is written."""
    from tursotui.tenant.backup.run import backup_tenants

    tenant = await create_tenant(workspace, "acme")
    path = workspace.settings.data_dir / "tenants" / "acme.db"
    seed_file(path)
    await backup_tenants(
        [tenant], workspace.settings.data_dir / "backups" / "one", workspace.connection
    )
    damage_file(path)
    await branch_tenant(workspace, "acme", "acme-before")
    diff = await diff_tenant(workspace, "acme", "acme-before")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE posts SET title = 'Third (edited again)' WHERE id = 'p3'")
    with pytest.raises(ProvisionError) as refused:
        await restore_rows(workspace, diff, posts=["p1", "p3"])
    assert str(refused.value) == (
        "cannot restore into acme: posts p3 changed since the diff; nothing was restored"
    )
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id FROM posts ORDER BY id").fetchall() == [
            ("p2",),
            ("p3",),
            ("p4",),
        ]
    entries = [(e.action, e.status) for e in workspace.audit.entries()]
    assert ("restore-rows", "failed") in entries
    with pytest.raises(ProvisionError, match="does not differ from branch acme-before"):
        await restore_rows(workspace, diff, posts=["p2"])
    read_only = await Workspace.open(load_settings(read_only=True))
    try:
        with pytest.raises(ProvisionError, match="read-only"):
            await restore_rows(read_only, diff, posts=["p1"])
        with pytest.raises(ProvisionError, match="read-only"):
            await branch_tenant(read_only, "acme", "acme-again")
    finally:
        await read_only.close()


# -- Turso: a database seeded at a time ------------------------------------------------------


async def test_turso_branch_holds_the_data_as_it_was(
    workspace: Workspace, sqld_platform: PlatformServer
) -> None:
    """The branch of a real sqld database at T holds the rows of T (the server's copy made
    then), not today's; diff and restore work across the two databases."""
    tenant = await create_tenant(workspace, "acme", provisioner=turso(sqld_platform))
    await run_remote(tenant.url, tenant.token, SEED)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    before = now - datetime.timedelta(seconds=5)
    await sqld_platform.recovery_point("acme", before)
    tenant = await workspace.registry.get("acme")  # the server restarted behind its proxy
    await run_remote(tenant.url, tenant.token, DAMAGE)
    branch = await branch_tenant(
        workspace, "acme", "acme-before", at=before, provisioner=turso(sqld_platform)
    )
    assert sqld_platform.databases["acme-before"].parent["name"] == "acme"
    diff = await diff_tenant(workspace, "acme", "acme-before")
    assert {(c.table, c.id, c.kind) for c in diff.changes} == EXPECTED_DIFF
    await restore_rows(workspace, diff, posts=["p1", "p4"], comments=["c1"])
    connection = await connect(tenant.url, tenant.token)
    try:
        rows = (await connection.execute("SELECT id, title FROM posts ORDER BY id")).rows
        assert [tuple(r) for r in rows] == [
            ("p1", "First"),
            ("p2", "Second"),
            ("p3", "Third (edited)"),
        ]
    finally:
        await connection.close()
    assert branch.slug == "acme-before"
    await destroy_tenant(workspace, "acme-before", provisioner=turso(sqld_platform))
    assert "acme-before" not in sqld_platform.databases


@pytest.mark.parametrize(
    ("operation", "step"),
    [("createDatabase", "create branch"), ("createDatabaseToken", "mint token")],
)
async def test_turso_branch_fault_leaves_no_orphan(
    workspace: Workspace, platform: PlatformServer, operation: str, step: str
) -> None:
    """A failure at a step: no branch database, no registry row, no branch record."""
    await create_tenant(workspace, "acme", provisioner=turso(platform))
    platform.fail(operation, 400, error="injected")
    with pytest.raises(ProvisionError) as failed:
        await branch_tenant(workspace, "acme", "acme-b", provisioner=turso(platform))
    assert "acme-b" not in platform.databases
    assert [t.slug for t in await workspace.registry.tenants()] == ["acme"]
    assert branches(workspace.settings) == {}
    if step == "mint token":
        assert "failed at step 'mint token'" in str(failed.value)
        assert "deleted again" in str(failed.value)
    else:
        assert "nothing was created" in str(failed.value)


async def test_turso_branch_register_fault_deletes_the_branch(
    workspace: Workspace, platform: PlatformServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry refuses the row: the branch database is deleted again."""
    from tursotui.session.registry import RegistryError

    await create_tenant(workspace, "acme", provisioner=turso(platform))

    async def failing_add(*args, **kwargs):
        raise RegistryError("registry: disk I/O error")

    monkeypatch.setattr(workspace.registry, "add", failing_add)
    with pytest.raises(ProvisionError, match="failed at step 'register'"):
        await branch_tenant(workspace, "acme", "acme-b", provisioner=turso(platform))
    assert "acme-b" not in platform.databases
    assert branches(workspace.settings) == {}


# -- the TUI ---------------------------------------------------------------------------------


async def test_screen_marks_rows_and_restores_them_in_one_batch() -> None:
    """From the tenants screen's palette command, the comparison lists each change; space
    marks rows, ctrl+s and y restore them; the database holds exactly the chosen rows."""
    from support.moderation_fixtures import settle
    from support.screen import screen_text
    from tursotui.tenant.backup.run import backup_tenants
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.branch_diff import BranchDiffScreen
    from tursotui.ui.screens.confirm import ConfirmScreen

    workspace = await Workspace.open(load_settings())
    tenant = await create_tenant(workspace, "acme")
    path = workspace.settings.data_dir / "tenants" / "acme.db"
    seed_file(path)
    await backup_tenants(
        [tenant], workspace.settings.data_dir / "backups" / "one", workspace.connection
    )
    damage_file(path)
    await branch_tenant(workspace, "acme", "acme-before")
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=(110, 24)) as pilot:
        await settle(app, pilot)
        commands = {name: run for name, run, _help in app.screen.palette_commands()}
        commands["tenant: compare acme with branch acme-before"]()
        await settle(app, pilot)
        assert isinstance(app.screen, BranchDiffScreen)
        text = screen_text(app)
        assert "1 added · 2 removed · 1 changed since the branch" in text
        assert "title: Third → Third (edited)" in text
        await pilot.press("space", "space", "down", "space")
        assert "3 marked" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert "0 added · 0 removed · 0 changed" not in screen_text(app)
        assert "1 added · 0 removed · 0 changed since the branch" in screen_text(app)
    with sqlite3.connect(path) as db:
        posts = db.execute("SELECT id, title, status FROM posts ORDER BY id").fetchall()
        comments = db.execute("SELECT id FROM comments ORDER BY id").fetchall()
    assert posts == [
        ("p1", "First", "published"),
        ("p2", "Second", "draft"),
        ("p3", "Third", "published"),
        ("p4", "Fourth", "draft"),
    ]
    assert comments == [("c1",), ("c2",)]
    await workspace.close()


async def test_restore_failing_half_way_writes_nothing(workspace: Workspace) -> None:
    """A write fails after others in the batch succeeded (a trigger aborts the update of p3):
    the batch is rolled back whole, p1 and c1 are not half-restored; audited as failed."""
    from tursotui.tenant.backup.run import backup_tenants

    tenant = await create_tenant(workspace, "acme")
    path = workspace.settings.data_dir / "tenants" / "acme.db"
    seed_file(path)
    await backup_tenants(
        [tenant], workspace.settings.data_dir / "backups" / "one", workspace.connection
    )
    damage_file(path)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER no_p3 BEFORE UPDATE ON posts WHEN NEW.id = 'p3' "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    await branch_tenant(workspace, "acme", "acme-before")
    diff = await diff_tenant(workspace, "acme", "acme-before")
    with pytest.raises(ProvisionError) as failed:
        await restore_rows(workspace, diff, posts=["p1", "p3"], comments=["c1"])
    assert str(failed.value).startswith("restoring rows into acme failed: ")
    assert "disk full" in str(failed.value) and "nothing was restored" in str(failed.value)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id FROM posts ORDER BY id").fetchall() == [
            ("p2",),
            ("p3",),
            ("p4",),
        ]
        assert db.execute("SELECT id FROM comments ORDER BY id").fetchall() == [("c2",)]
    assert ("restore-rows", "failed") in [(e.action, e.status) for e in workspace.audit.entries()]
