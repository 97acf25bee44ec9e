"""Probing a local tenant changes nothing on disk: no byte of the file, no `-wal`/`-shm` made.

The health probes, the fleet overview and `tenants --json` read every local tenant of
a fleet; an operator's look must not switch journal modes, leave journal files behind
or touch the bytes of a database the app owns.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from support.shell_fixtures import build_fleet
from tursotui.fleet.overview import overview
from tursotui.session.workspace import Workspace
from tursotui.tenant.health import probe, probe_all

REPO = Path(__file__).resolve().parents[1]


def state(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes and the names in its folder."""
    return path.read_bytes(), sorted(os.listdir(path.parent))


def journal_mode(path: Path) -> str:
    with open(path, "rb") as file:
        header = file.read(20)
    return {1: "delete", 2: "wal"}[header[18]]


async def test_probes_and_the_overview_leave_local_tenants_as_they_were() -> None:
    fleet = await build_fleet(slugs=("acme", "globex"), broken=False)
    acme, globex = fleet.paths["acme"], fleet.paths["globex"]
    # globex in the rollback-journal mode an app may have chosen; acme as tursotui made it.
    db = sqlite3.connect(globex)
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    assert journal_mode(acme) == "wal" and journal_mode(globex) == "delete"
    assert not Path(f"{acme}-wal").exists()
    before = {slug: state(path) for slug, path in fleet.paths.items()}

    workspace = await Workspace.open(fleet.settings)
    try:
        tenants = await workspace.registry.tenants()
        answers = {h.slug: h async for h in probe_all(workspace, tenants)}
        single = await probe(workspace, await workspace.registry.get("acme"))
        rows = {r.slug: r async for r in overview(workspace, tenants)}
    finally:
        await workspace.close()

    assert all(h.reachable and h.error is None for h in answers.values()), answers
    assert single.reachable and single.counts == answers["acme"].counts
    assert all(r.reachable and r.error is None and r.comments for r in rows.values())
    for slug, path in fleet.paths.items():
        assert state(path) == before[slug], f"{slug} changed"
    assert journal_mode(acme) == "wal" and journal_mode(globex) == "delete"


def test_tenants_json_leaves_local_tenants_as_they_were(tmp_path: Path) -> None:
    import asyncio

    fleet = asyncio.run(build_fleet(slugs=("acme",), broken=False))
    acme = fleet.paths["acme"]
    before = state(acme)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "TURSOTUI_DATA_DIR": str(fleet.settings.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tursotui", "tenants", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert [r["slug"] for r in records] == ["acme"] and records[0]["reachable"]
    assert state(acme) == before


async def test_a_tenant_being_written_is_read_through_its_writers_journal() -> None:
    """With the app's connection open (its `-wal` beside the file), the probe reads what
    it committed, not the older main file, and leaves the main file's bytes alone."""
    fleet = await build_fleet(slugs=("acme",), broken=False)
    acme = fleet.paths["acme"]
    writer = sqlite3.connect(acme, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")  # what it writes stays in its -wal
        before_counts = dict(
            writer.execute("SELECT status, count(*) FROM posts GROUP BY status").fetchall()
        )
        author = writer.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
        writer.execute(
            "INSERT INTO posts (id, title, content, author_id, status) "
            "VALUES ('p-new', 'New', 'Body', ?, 'draft')",
            [author],
        )
        assert Path(f"{acme}-wal").stat().st_size > 0
        main_bytes = acme.read_bytes()
        workspace = await Workspace.open(fleet.settings)
        try:
            health = await probe(workspace, await workspace.registry.get("acme"))
        finally:
            await workspace.close()
        assert health.reachable
        assert health.counts is not None
        assert health.counts["draft"] == before_counts.get("draft", 0) + 1
        assert acme.read_bytes() == main_bytes
    finally:
        writer.close()
