"""The posts page query on a 1M-post tenant: tursotui's file: connection vs raw sqlite3.

`B1.ratio` is the median time of the posts screen's first-page query (status
filter, newest 50, join on users: the SQL of `tursotui.tenant.moderation.fetch_posts`)
through `tursotui.db.connect("file:...")`, divided by the same query on a raw
persistent `sqlite3` connection in the same run. Bar <= 2.5, aim 1.5.
libsql-client's own `file:` client is measured too (`B1.libsql_client_ratio`).

The tenant is built once by the demo's bulk loader and cached under
`.cache/bench/` (`--quick`: 5,000 posts).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from pathlib import Path

from benchmarks.common import Figure

ID = "B1"

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "bench"
FULL_POSTS = 1_000_000
QUICK_POSTS = 5_000

PAGE_SQL = (
    "SELECT p.rowid, p.id, substr(p.title, 1, 300), p.status, p.published_at, p.author_id, u.name "
    "FROM posts AS p LEFT JOIN users AS u ON u.id = p.author_id "
    "WHERE p.status = ? AND p.published_at IS NOT NULL "
    "ORDER BY p.published_at DESC, p.id DESC LIMIT ?"
)
"""The first page of a status filter, as `moderation.fetch_posts` asks it."""

STATUSES = ("published", "archived", "published", "archived")


async def bench_tenant(quick: bool) -> Path:
    """The cached benchmark tenant (built on first use by the demo's bulk loader)."""
    from tursotui.demo.build import build_tenant_file

    posts = QUICK_POSTS if quick else FULL_POSTS
    path = CACHE / f"posts-{posts}.db"
    if not path.exists():
        start = time.perf_counter()
        await build_tenant_file(path, posts, seed=1)
        print(f"# built {path.name} in {time.perf_counter() - start:.1f} s", flush=True)
    else:
        # a cache from an older checkout gets the built-in migrations added since
        from tursotui.db import connect
        from tursotui.tenant.migrations import load_folder, migrate

        async with await connect(f"file:{path}") as connection:
            await migrate(connection, load_folder(None))
    return path


async def _pass(raw: sqlite3.Connection, client, repeat: int) -> tuple[float, float]:
    """Median ms of the page query: (raw sqlite3, `client`), the two interleaved.

    Interleaving makes a busy machine hit both alike. Each client gets its own pass
    with the raw connection: a third client in the same loop changes the timing of
    the others (its CPU time delays the wake-up of tursotui's SQLite thread).
    """
    raw_ms: list[float] = []
    client_ms: list[float] = []
    for i in range(repeat + 10):
        args = [STATUSES[i % len(STATUSES)], 50]
        start = time.perf_counter()
        raw_rows = raw.execute(PAGE_SQL, args).fetchall()
        mid = time.perf_counter()
        client_rows = (await client.execute(PAGE_SQL, args)).rows
        end = time.perf_counter()
        if i < 10:
            continue  # warm-up: page cache, statement cache, thread start
        assert len(raw_rows) == len(client_rows) == 50
        raw_ms.append((mid - start) * 1000)
        client_ms.append((end - mid) * 1000)
    return statistics.median(raw_ms), statistics.median(client_ms)


async def run(quick: bool) -> list[Figure]:
    import libsql_client

    from tursotui.db import connect

    path = await bench_tenant(quick)
    repeat = 60 if quick else 400
    raw = sqlite3.connect(path, isolation_level=None)
    ours = await connect(f"file:{path}", read_only=True)
    theirs = libsql_client.create_client(f"file:{path}")
    try:
        raw_ms, ours_ms = await _pass(raw, ours, repeat)
        raw_ms_2, theirs_ms = await _pass(raw, theirs, repeat)
    finally:
        raw.close()
        await ours.close()
        await theirs.close()
    size = f"{QUICK_POSTS if quick else FULL_POSTS:,} posts"
    load = os.getloadavg()[0]
    return [
        Figure(
            "B1.ratio",
            ours_ms / raw_ms,
            "x",
            None,
            "<= 2.5 (aim 1.5)",
            f"tursotui {ours_ms:.3f} ms / raw sqlite3 {raw_ms:.3f} ms, {size}, load {load:.1f}",
        ),
        Figure("B1.tursotui_ms", ours_ms, "ms", raw_ms, None, "median page query"),
        Figure(
            "B1.libsql_client_ratio",
            theirs_ms / raw_ms_2,
            "x",
            None,
            None,
            f"libsql-client file: {theirs_ms:.3f} ms / raw {raw_ms_2:.3f} ms (second baseline)",
        ),
    ]
