"""Embedded replicas: remote tenants read at local speed (sqld, JWT, +100 ms per request).

All in one run, on a real sqld with JWT auth behind the tests' `FaultProxy`, which delays
every HTTP request (the replica's syncs too) by 100 ms:

- `B11.first_page_ms` / `B11.next_page_ms`: the posts screen's reads of its first page
  (the page, then the status counts) and of the next page, from a synced replica; the
  baseline is the same reads of the same tenant from its primary (bar: first page
  <= 50 ms from the replica).
- `B11.first_page_ratio`: primary time / replica time for the first page (bar >= 5x).
- `B11.fleet_replica_ms`: the fleet overview of 20 replica-backed tenants (replicas on
  disk, workspace freshly opened); baseline: the same 20 tenants read from their
  primaries. The 20 registry rows point at the one sqld database through the proxy,
  each with its own connection and its own replica.
- `B11.sync_10k_ms`: one sync of a replica after 10,000 rows changed on the primary.

`--quick` uses 4 tenants, 1,000 changed rows and a 20 ms delay.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.common import Figure, seeded_tenant

ID = "B11"
REPO = Path(__file__).resolve().parents[1]
POSTS = 500
REPEAT = 5


def _settings(data_dir: Path, **extra: object):
    from tursotui.session.settings import Settings

    return Settings(data_dir=data_dir, registry_url=None, **extra)


async def _registry(data_dir: Path, rows: list[tuple[str, str]], token: str) -> None:
    from tursotui.session.registry import Registry

    registry = await Registry.open(_settings(data_dir))
    try:
        await registry.connection.batch(
            [
                (
                    "INSERT INTO organizations (id, name, slug, db_url, db_token, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [str(uuid.uuid4()), slug, slug, url, token, int(time.time())],
                )
                for slug, url in rows
            ]
        )
    finally:
        await registry.close()


async def _pages(data_dir: Path, replicas: str) -> tuple[float, float]:
    """Median ms of (first page + counts) and of the next page, connection already open."""
    import statistics

    from tursotui.session.workspace import Workspace
    from tursotui.tenant import moderation

    workspace = await Workspace.open(_settings(data_dir, replicas=replicas))
    try:
        tenant = await workspace.registry.get("r00")
        connection = await workspace.connection(tenant)
        await moderation.fetch_posts(connection, None)  # warm: connection and caches
        firsts, nexts = [], []
        for _ in range(REPEAT):
            start = time.perf_counter()
            page = await moderation.fetch_posts(connection, None)
            await moderation.status_counts(connection)
            firsts.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await moderation.fetch_posts(connection, None, after=page.next)
            nexts.append((time.perf_counter() - start) * 1000)
    finally:
        await workspace.close()
    return statistics.median(firsts), statistics.median(nexts)


async def _fleet(data_dir: Path, replicas: str) -> float:
    from tursotui.fleet import overview as fleet
    from tursotui.session.workspace import Workspace

    workspace = await Workspace.open(_settings(data_dir, replicas=replicas))
    try:
        tenants = await workspace.registry.tenants()
        start = time.perf_counter()
        rows = [row async for row in fleet.overview(workspace, tenants)]
        elapsed = (time.perf_counter() - start) * 1000
    finally:
        await workspace.close()
    bad = [r.error for r in rows if not r.reachable or r.error]
    if bad:
        raise RuntimeError(f"B11: {len(bad)} tenants failed, e.g. {bad[0]}")
    return elapsed


async def _sync_all(data_dir: Path) -> None:
    from tursotui.session.workspace import Workspace

    workspace = await Workspace.open(_settings(data_dir))
    try:
        for tenant in await workspace.registry.tenants():
            await workspace.replicas.sync(tenant)
    finally:
        await workspace.close()


async def _sync_after_changes(data_dir: Path, url: str, token: str, rows: int) -> float:
    from tursotui.db import connect
    from tursotui.session.workspace import Workspace

    conn = await connect(url, token, name="sqld")
    try:
        await conn.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
            "INSERT INTO users (id, email, name, created_at) "
            "SELECT 'b11-' || x, 'b11-' || x || '@example.com', 'Bench ' || x, 0 FROM c",
            [rows],
        )
    finally:
        await conn.close()
    workspace = await Workspace.open(_settings(data_dir))
    try:
        tenant = await workspace.registry.get("r00")
        start = time.perf_counter()
        await workspace.replicas.sync(tenant)
        elapsed = (time.perf_counter() - start) * 1000
        info = workspace.replicas.store.info("r00")
        assert info is not None
        import sqlite3

        db = sqlite3.connect(f"file:{info.path}?mode=ro", uri=True)
        try:
            (count,) = db.execute("SELECT count(*) FROM users WHERE id LIKE 'b11-%'").fetchone()
        finally:
            db.close()
        if count != rows:
            raise RuntimeError(f"B11: the replica has {count} of the {rows} changed rows")
    finally:
        await workspace.close()
    return elapsed


async def run(quick: bool) -> list[Figure]:
    """Measure B11."""
    tenants, changed, delay = (4, 1_000, 20.0) if quick else (20, 10_000, 100.0)
    sys.path.insert(0, str(REPO / "tests"))
    from support.faults import FaultProxy
    from support.jwt_kit import JWTKeys
    from support.servers import start_sqld

    keys = JWTKeys()
    os.environ["SQLD_DISABLE_INTELLIGENT_THROTTLING"] = "true"  # 20 tenants, one database
    try:
        server = start_sqld(keys.public_key)
    finally:
        os.environ.pop("SQLD_DISABLE_INTELLIGENT_THROTTLING", None)
    proxy = FaultProxy(("127.0.0.1", server.port)).start()
    token = keys.token()
    figures = []
    try:
        await seeded_tenant(server.http_url, token, POSTS, seed=11)
        with tempfile.TemporaryDirectory(prefix="b11-") as tmp:
            data_dir = Path(tmp)
            await _registry(data_dir, [(f"r{i:02d}", proxy.url) for i in range(tenants)], token)
            await _sync_all(data_dir)  # not timed: the replicas exist, as after `replica sync`
            proxy.delay(delay)
            remote_first, remote_next = await _pages(data_dir, "off")
            local_first, local_next = await _pages(data_dir, "on-demand")
            remote_fleet = await _fleet(data_dir, "off")
            replica_fleet = await _fleet(data_dir, "on-demand")
            sync_ms = await _sync_after_changes(data_dir, proxy.url, token, changed)
    finally:
        proxy.stop()
        server.stop()
    where = f"+{delay:g} ms per request"
    figures.append(
        Figure(
            f"{ID}.first_page_ms",
            local_first,
            "ms",
            remote_first,
            "<= 50",
            f"posts first page + counts from the replica; baseline: primary, {where}",
        )
    )
    figures.append(
        Figure(
            f"{ID}.next_page_ms",
            local_next,
            "ms",
            remote_next,
            None,
            f"posts next page from the replica; baseline: primary, {where}",
        )
    )
    figures.append(
        Figure(
            f"{ID}.first_page_ratio",
            remote_first / max(local_first, 1e-6),
            "x",
            None,
            ">= 5",
            "primary time / replica time, first page",
        )
    )
    figures.append(
        Figure(
            f"{ID}.fleet_{tenants}_ms",
            replica_fleet,
            "ms",
            remote_fleet,
            None,
            f"fleet overview of {tenants} replica-backed tenants; baseline: primaries, {where}",
        )
    )
    figures.append(
        Figure(
            f"{ID}.sync_{changed // 1000}k_ms",
            sync_ms,
            "ms",
            None,
            None,
            f"one sync after {changed:,} rows changed on the primary, {where}",
        )
    )
    return figures
