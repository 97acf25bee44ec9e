"""The fleet overview, index advice and the search across tenants, on real files and servers."""

from __future__ import annotations

import sqlite3
import time

import pytest

from support import fleet_fixtures
from support.fleet_fixtures import BASE_TIME, add_local, fill, open_workspace, rows
from tursotui.fleet import overview as fleet
from tursotui.fleet.search import search_titles
from tursotui.tenant import indexes

# The real servers' fixtures, used by name below.
fleet_sqld = fleet_fixtures.fleet_sqld
sqld_tenant_url = fleet_fixtures.sqld_tenant_url
slow_proxy = fleet_fixtures.slow_proxy


def closed_port_url() -> str:
    from support.servers import free_port

    return f"http://127.0.0.1:{free_port()}"


async def test_overview_mixes_healthy_unmigrated_dead_and_broken_tenants() -> None:
    workspace = await open_workspace()
    try:
        alpha = await add_local(workspace, "alpha")
        fill(alpha, drafts=2, published=3, comments=4)
        bare = await add_local(workspace, "bare", indexes=False)
        fill(bare, drafts=1, comments=1, start=BASE_TIME + 10_000)
        await add_local(workspace, "empty", migrated=False)
        await workspace.registry.add("dead", closed_port_url())
        # A registry row the app wrote by hand: no URL. It must show as a row, not crash.
        db = sqlite3.connect(workspace.settings.data_dir / "registry.db")
        db.execute("INSERT INTO organizations VALUES ('x', 'Broken', 'broken', '', '', 0)")
        db.commit()
        db.close()
        tenants = await workspace.registry.tenants()
        got = {row.slug: row async for row in fleet.overview(workspace, tenants, concurrency=2)}
    finally:
        await workspace.close()
    assert set(got) == {"alpha", "bare", "empty", "dead", "broken"}
    a = got["alpha"]
    assert a.reachable and a.error is None
    assert (a.count("draft"), a.count("published"), a.count("archived")) == (2, 3, 0)
    assert a.comments == 4
    assert a.newest_activity == BASE_TIME + 5 * 60  # the newest post's published_at
    assert a.health.schema == "current"
    assert a.indexes is not None and a.indexes.label == "ok"
    b = got["bare"]
    assert b.health.schema == "behind by 1"
    assert b.indexes is not None and len(b.indexes.missing) == 4
    assert {i.label for i in b.indexes.missing} >= {"posts(status, published_at)"}
    assert b.newest_activity == BASE_TIME + 10_000 + 60
    e = got["empty"]
    assert e.reachable and e.health.schema == "not migrated"
    assert "no posts table" in (e.error or "")
    assert e.indexes is not None and e.indexes.no_table == ("posts", "comments")
    d = got["dead"]
    assert not d.reachable and d.error and "dead" in d.error
    assert not got["broken"].reachable and "no database URL" in (got["broken"].error or "")


async def test_a_row_read_in_one_statement_is_the_long_ways_row() -> None:
    """A local tenant with every table is read in one statement, its columns and index
    advice remembered by its schema's text; whatever the schema, the row (and the health)
    is the one the statement-by-statement way finds."""
    import dataclasses

    from tursotui.db.peek import peek
    from tursotui.tenant.health import local_answers
    from tursotui.tenant.migrations import load_folder

    workspace = await open_workspace()
    try:
        fill(await add_local(workspace, "alpha"), drafts=2, published=1, comments=3)
        fill(await add_local(workspace, "bare", indexes=False), drafts=1)
        drift = await add_local(workspace, "drift")
        fill(drift, drafts=1)
        db = sqlite3.connect(drift)
        db.execute("ALTER TABLE posts RENAME COLUMN title TO headline")
        db.commit()
        db.close()
        await add_local(workspace, "empty", migrated=False)
        folder = load_folder(workspace.settings.migrations_dir)
        got = {}
        for tenant in await workspace.registry.tenants():

            async def both(connection, tenant=tenant):
                return (
                    await fleet._local_row(tenant, connection, folder),
                    await fleet._local_row_long(tenant, connection, folder),
                    await local_answers(tenant, connection, folder),
                )

            got[tenant.slug] = await peek(tenant.location, tenant.slug, both, timeout=5.0)
    finally:
        await workspace.close()

    def timeless(row):
        return dataclasses.replace(row, health=dataclasses.replace(row.health, latency_ms=None))

    for slug, (quick, long, health) in got.items():
        assert timeless(quick) == timeless(long), slug
        assert dataclasses.replace(health, latency_ms=None) == timeless(long).health, slug
    assert got["alpha"][0].error is None and got["alpha"][0].comments == 3
    assert got["bare"][0].indexes is not None and len(got["bare"][0].indexes.missing) == 4
    assert "posts lacks title" in (got["drift"][0].error or "")
    assert "no posts table" in (got["empty"][0].error or "")


async def test_overview_stopped_early_cancels_the_rest_and_keeps_what_arrived() -> None:
    workspace = await open_workspace()
    try:
        for i in range(6):
            await add_local(workspace, f"t{i}")
        tenants = await workspace.registry.tenants()
        arrived = []
        async for row in fleet.overview(workspace, tenants, concurrency=2):
            arrived.append(row)
            if len(arrived) == 2:
                break
        assert len(arrived) == 2 and all(r.reachable for r in arrived)
        # The workspace is still usable afterwards: nothing left half-open or hung.
        again = [r async for r in fleet.overview(workspace, tenants)]
        assert len(again) == 6
    finally:
        await workspace.close()


async def test_create_missing_indexes_is_audited_and_fixes_the_advice() -> None:
    workspace = await open_workspace()
    try:
        path = await add_local(workspace, "old", indexes=False)
        tenant = await workspace.registry.get("old")
        conn = await workspace.connection(tenant)
        advice = await indexes.advise(conn)
        assert advice.label == "4 missing"
        created = await indexes.create_missing(conn, workspace.audit, "old", advice.missing)
        assert len(created) == 4
        assert (await indexes.advise(conn)).label == "ok"
    finally:
        await workspace.close()
    names = {r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(created) <= names
    entries = [e for e in workspace.audit.entries() if e.action == "create-indexes"]
    assert [e.status for e in entries] == ["pending", "ok"]
    assert entries[-1].tenant == "old" and set(entries[-1].row_ids) == set(created)


async def test_an_index_under_another_name_counts_as_present() -> None:
    workspace = await open_workspace()
    try:
        path = await add_local(workspace, "own", indexes=False)
        db = sqlite3.connect(path)
        db.execute("CREATE INDEX app_made ON posts (status, published_at, title)")
        db.commit()
        db.close()
        conn = await workspace.connection(await workspace.registry.get("own"))
        advice = await indexes.advise(conn)
    finally:
        await workspace.close()
    assert "posts(status, published_at)" not in {i.label for i in advice.missing}
    assert len(advice.missing) == 3


async def test_creating_indexes_in_read_only_mode_is_refused_and_changes_nothing() -> None:
    writable = await open_workspace()
    try:
        path = await add_local(writable, "ro", indexes=False)
    finally:
        await writable.close()
    workspace = await open_workspace(read_only=True)
    try:
        conn = await workspace.connection(await workspace.registry.get("ro"))
        advice = await indexes.advise(conn)
        with pytest.raises(indexes.IndexAdviceError, match="read-only"):
            await indexes.create_missing(conn, workspace.audit, "ro", advice.missing)
    finally:
        await workspace.close()
    assert rows(
        path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE '%_idx'"
    ) == [(0,)]
    assert [e.status for e in workspace.audit.entries()] == ["pending", "failed"]


async def test_search_finds_titles_on_every_tenant_and_reports_the_dead_one() -> None:
    workspace = await open_workspace()
    try:
        for slug in ("one", "two", "three"):
            path = await add_local(workspace, slug)
            fill(path, drafts=2, published=2, prefix=f"{slug} [b]launch[/b] ")
        await workspace.registry.add("gone", closed_port_url())
        tenants = await workspace.registry.tenants()
        answers = [a async for a in search_titles(workspace, tenants, "LAUNCH[/b] draft 1")]
    finally:
        await workspace.close()
    by_slug = {a.tenant.slug: a for a in answers}
    assert set(by_slug) == {"one", "two", "three", "gone"}
    for slug in ("one", "two", "three"):
        assert [p.title for p in by_slug[slug].posts] == [f"{slug} [b]launch[/b] draft 1"]
    assert by_slug["gone"].error and not by_slug["gone"].posts


# -- real servers -----------------------------------------------------------------


@pytest.mark.servers
async def test_overview_with_sqld_tenants_and_a_slow_one_fills_fast_rows_first(
    sqld_tenant_url: str, slow_proxy
) -> None:
    """A slow tenant (behind a proxy) answers last; the others never wait for it."""
    workspace = await open_workspace(timeout=5.0)
    try:
        local = await add_local(workspace, "local")
        fill(local, drafts=1, comments=1)
        await workspace.registry.add("remote", sqld_tenant_url)
        slow_proxy.delay(1500)
        await workspace.registry.add("slow", slow_proxy.url)
        await workspace.registry.add("dead", closed_port_url())
        tenants = await workspace.registry.tenants()
        order = []
        started = time.perf_counter()
        got = {}
        async for row in fleet.overview(workspace, tenants, concurrency=4):
            order.append(row.slug)
            got[row.slug] = (row, time.perf_counter() - started)
    finally:
        await workspace.close()
    assert order[-1] == "slow"
    assert got["remote"][0].reachable and got["remote"][0].health.schema == "current"
    assert got["remote"][0].indexes is not None and got["remote"][0].indexes.label == "ok"
    assert got["remote"][1] < 1.0  # did not wait for the slow one
    assert got["slow"][0].reachable and got["slow"][0].health.latency_ms >= 1400
    assert got["slow"][1] > got["remote"][1] + 0.5
    assert not got["dead"][0].reachable


@pytest.mark.servers
async def test_a_stalled_tenant_becomes_an_error_row_within_the_timeout(slow_proxy) -> None:
    workspace = await open_workspace(timeout=1.0)
    try:
        await add_local(workspace, "fine")
        slow_proxy.stall()
        await workspace.registry.add("stalled", slow_proxy.url)
        tenants = await workspace.registry.tenants()
        started = time.perf_counter()
        got = {row.slug: row async for row in fleet.overview(workspace, tenants)}
        elapsed = time.perf_counter() - started
    finally:
        slow_proxy.pass_through()
        await workspace.close()
    assert got["fine"].reachable
    assert not got["stalled"].reachable and "stalled" in (got["stalled"].error or "")
    assert elapsed < 4.0


async def test_leaving_a_local_fan_out_early_stops_the_pool_threads(tmp_path) -> None:
    """The pool's threads read ahead of the loop only a few chunks, and leaving the loop
    stops them after the file they are on: nothing keeps reading a fleet nobody waits for."""
    import asyncio

    from tursotui.db.peek import CHUNK, peek_all, pool_size
    from tursotui.db.urls import parse_url

    path = tmp_path / "one.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    read: list[int] = []

    async def ask(connection) -> int:
        result = await connection.execute("SELECT count(*) FROM t")
        read.append(1)
        return int(result.rows[0][0])

    jobs = [(parse_url(f"file:{path}"), "one", ask)] * 2000
    answers = peek_all(jobs, timeout=5.0)
    async for _index, answer in answers:
        assert answer == 0
        await asyncio.sleep(0.3)  # the loop busy elsewhere: the threads wait, a few chunks ahead
        break
    ahead = len(read)
    await answers.aclose()
    await asyncio.sleep(0.3)
    assert ahead <= (4 * pool_size() + 2 * pool_size()) * CHUNK < len(jobs)
    assert len(read) <= ahead + pool_size()  # each thread finishes the file it was on
