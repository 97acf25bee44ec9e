"""The longest event-loop stall while a 1M-post full scan runs through the file: connection.

`B2.stall_ms`: a ticker task sleeps 1 ms at a time and records how late it wakes
up, while a full scan of `posts` (about 0.7 s on a million posts) runs through
`tursotui.db.connect("file:...")`. The longest lateness is the longest time the
UI would have been frozen. Bar <= 5 ms. The baseline is the same scan through
libsql-client's own `file:` client, which runs SQLite on the event loop (about
the whole scan time).

Uses B1's cached tenant (`--quick`: 5,000 posts, where the scan is short).
"""

from __future__ import annotations

import asyncio
import os
import time

from benchmarks.common import Figure

ID = "B2"

SCAN_SQL = (
    "SELECT count(*), sum(length(content)), max(title) FROM posts "
    "WHERE content LIKE '%zebra%' OR title LIKE '%quokka%'"
)
"""Reads every post (no index can answer it), returns one row."""

TICK_S = 0.001


async def _longest_stall(run_scan) -> tuple[float, float]:
    """(longest lateness of a 1 ms ticker in ms, scan time in ms) while `run_scan()` runs."""
    done = asyncio.Event()
    worst = 0.0

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(TICK_S)
            worst = max(worst, time.perf_counter() - start - TICK_S)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)  # the ticker is running before the scan starts
    worst = 0.0
    start = time.perf_counter()
    await run_scan()
    elapsed = time.perf_counter() - start
    await asyncio.sleep(0.01)
    done.set()
    await task
    return worst * 1000, elapsed * 1000


async def run(quick: bool) -> list[Figure]:
    import libsql_client

    from benchmarks.b1_page_query import bench_tenant
    from tursotui.db import connect

    path = await bench_tenant(quick)
    rounds = 3
    ours = await connect(f"file:{path}", read_only=True)
    theirs = libsql_client.create_client(f"file:{path}")
    stalls, scans, base_stalls, idle_stalls = [], [], [], []
    try:
        await ours.execute(SCAN_SQL)  # warm the page cache for both
        for _ in range(rounds):
            stall, scan = await _longest_stall(lambda: ours.execute(SCAN_SQL))
            stalls.append(stall)
            scans.append(scan)
            base_stall, _ = await _longest_stall(lambda: theirs.execute(SCAN_SQL))
            base_stalls.append(base_stall)
            # the same wait with nothing running: how late the OS alone wakes the ticker
            idle_stall, _ = await _longest_stall(lambda: asyncio.sleep(scan / 1000))  # noqa: B023
            idle_stalls.append(idle_stall)
    finally:
        await ours.close()
        await theirs.close()
    # the median round: one round may catch the machine busy with something else
    stall, scan, base, idle = (
        sorted(v)[rounds // 2] for v in (stalls, scans, base_stalls, idle_stalls)
    )
    return [
        Figure(
            "B2.stall_ms",
            stall,
            "ms",
            base,
            "<= 5",
            f"longest 1 ms-ticker lateness during a {scan:.0f} ms scan (median of {rounds} rounds;"
            f" all: {', '.join(f'{s:.1f}' for s in stalls)})",
        ),
        Figure("B2.scan_ms", scan, "ms", None, None, "the scan itself through tursotui"),
        Figure(
            "B2.idle_stall_ms",
            idle,
            "ms",
            None,
            None,
            f"the ticker's lateness with nothing running, load {os.getloadavg()[0]:.1f} "
            f"(all: {', '.join(f'{s:.1f}' for s in idle_stalls)})",
        ),
    ]
