"""Exporting every row of `SELECT * FROM posts` (1M posts) to CSV, against Python's csv module.

`B7.export_ratio` is the time of `tursotui.console.export.export_result` (the console's
export: the query streamed through the `file:` connection, rows written on a thread)
divided by Python's `csv.writer` writing the same rows from a raw `sqlite3` cursor,
in the same run; bar <= 2. Both files are compared for equality.

The tenant is B1's cached one under `.cache/bench/` (`--quick`: 5,000 posts).
"""

from __future__ import annotations

import csv
import filecmp
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure

ID = "B7"

QUERY = "SELECT * FROM posts"


def _raw_csv(db_path: Path, out: Path) -> float:
    start = time.perf_counter()
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    cursor = db.execute(QUERY)
    with out.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow([d[0] for d in cursor.description])
        while rows := cursor.fetchmany(5000):
            writer.writerows(rows)
    db.close()
    return (time.perf_counter() - start) * 1000


async def _ours(db_path: Path, out: Path) -> tuple[float, int]:
    from tursotui.console.export import export_result
    from tursotui.db import connect

    connection = await connect(f"file:{db_path}", read_only=True)
    try:
        start = time.perf_counter()
        done = await export_result(connection, QUERY, out, "csv")
        return (time.perf_counter() - start) * 1000, done.rows
    finally:
        await connection.close()


async def run(quick: bool) -> list[Figure]:
    from benchmarks.b1_page_query import bench_tenant

    path = await bench_tenant(quick)
    repeat = 3
    raw_times, our_times = [], []
    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        raw_file, our_file = Path(tmp) / "raw.csv", Path(tmp) / "ours.csv"
        for _ in range(repeat):  # interleaved: load on the machine hits both alike
            raw_times.append(_raw_csv(path, raw_file))
            elapsed, rows = await _ours(path, our_file)
            our_times.append(elapsed)
        assert filecmp.cmp(raw_file, our_file, shallow=False), "the exports differ"
    raw_ms, our_ms = min(raw_times), min(our_times)
    size = "5k" if quick else "1M"
    return [
        Figure(
            "B7.export_ratio",
            our_ms / raw_ms,
            "x",
            None,
            "<= 2",
            f"{size} posts: {our_ms:,.0f} ms vs csv+sqlite3 {raw_ms:,.0f} ms ({rows:,} rows)",
        ),
    ]
