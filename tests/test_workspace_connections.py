"""Cached tenant connections: a fleet of local tenants stays within open-file limits."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys

from support.shell_fixtures import add_tenant, build_fleet
from tursotui.session.registry import Registry
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace


async def closed_soon(connection) -> bool:
    """Whether `connection` is closed once the workspace's background closes ran."""
    for _ in range(100):
        if connection.closed:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_least_recently_used_idle_local_connections_are_closed() -> None:
    fleet = await build_fleet(slugs=("a", "b", "c", "d", "e", "f"), broken=False)
    workspace = await Workspace.open(fleet.settings)
    workspace.local_connection_cap = 3
    try:
        tenants = {t.slug: t for t in await workspace.registry.tenants()}
        a, b, c = [await workspace.connection(tenants[s]) for s in "abc"]
        assert await workspace.connection(tenants["a"]) is a  # a is now the most recent
        d = await workspace.connection(tenants["d"])
        assert await closed_soon(b) and not (a.closed or c.closed or d.closed)
        # A connection in the middle of a scan is in use: it stays open, however old.
        scan = c.stream("SELECT id FROM posts", chunk_size=2)
        await anext(scan)
        e = await workspace.connection(tenants["e"])
        f = await workspace.connection(tenants["f"])
        assert await closed_soon(a) and await closed_soon(d)
        assert not (c.closed or e.closed or f.closed)
        assert len([row async for row in scan]) > 0  # the scan goes on to its end
        await scan.aclose()
        again = await workspace.connection(tenants["b"])  # a closed one is opened again
        assert not again.closed and (await again.execute("SELECT count(*) FROM posts")).rows
        assert await closed_soon(c)  # idle now, and the least recently used
    finally:
        await workspace.close()


async def test_every_tenant_of_a_fleet_answers_under_a_low_open_file_limit(tmp_path) -> None:
    """150 local tenants asked with 256 open files allowed: every one answers (each open
    connection holds three files; with all of them kept open, tenants beyond about 80
    failed to open). The workspace keeps 64 open then (`local_connection_cap`)."""
    settings = load_settings()
    registry = await Registry.open(settings)
    try:
        template = await add_tenant(registry, settings, "t000", posts=3)
        for index in range(1, 150):
            slug = f"t{index:03d}"
            path = template.with_name(f"{slug}.db")
            shutil.copyfile(template, path)
            await registry.add(slug, f"file:{path}", None, slug.title())
    finally:
        await registry.close()
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))\n"
        "from tursotui.cli import main\n"
        "sys.exit(main(['tenants', '--json']))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    records = json.loads(ran.stdout)
    assert len(records) == 150
    failed = [(r["slug"], r["error"]) for r in records if not r["reachable"]]
    assert failed == []
