"""What every benchmark module shares: the figure it reports and small measuring helpers."""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """One measured figure.

    Attributes:
        id: `B1.ratio`-style identifier.
        value: The measurement.
        unit: `ms`, `MB`, `x`, `requests`...
        baseline: The baseline measured in the same run (raw sqlite3, a sequential loop,
            the naive widget), or None where the figure is itself a ratio to it.
        bar: The bar the issue sets, as text (`<= 2.5`), for the printed table.
        note: What was measured, in a few words.
    """

    id: str
    value: float
    unit: str
    baseline: float | None = None
    bar: str | None = None
    note: str = ""

    def as_json(self) -> str:
        data = asdict(self)
        data.pop("note")
        data.pop("bar")
        return json.dumps(data)

    def as_text(self) -> str:
        baseline = "" if self.baseline is None else f"  (baseline {self.baseline:.4g} {self.unit})"
        bar = f"  bar {self.bar}" if self.bar else ""
        return f"{self.id:28} {self.value:10.4g} {self.unit:9}{baseline}{bar}  {self.note}"


async def seeded_tenant(url: str, token: str | None, posts: int, seed: int) -> None:
    """Migrate the tenant at `url` and fill it with `posts` demo posts (the same data for the
    same `seed`)."""
    from tursotui.db import connect
    from tursotui.demo.build import seed_tenant
    from tursotui.tenant.migrations import load_folder, migrate

    conn = await connect(url, token, create=url.startswith("file:"), name="template")
    try:
        await migrate(conn, load_folder(None))
        await seed_tenant(conn, posts=posts, seed=seed)
    finally:
        await conn.close()


async def seeded_tenant_file(path: Path, posts: int, seed: int) -> None:
    """A migrated tenant file with `posts` demo posts, checkpointed so it can be copied whole."""
    await seeded_tenant(f"file:{path}", None, posts, seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def next_screenful(table: Any) -> Callable[[], bool]:
    """Whether `table` (a `RowList`) has moved a screenful down from where it is now, with
    the rows of that screenful loaded: what a `pagedown` must show."""
    top, visible = table.scroll_offset.y, table.size.height - 1

    def moved() -> bool:
        y = table.scroll_offset.y
        return y >= top + visible and table.row_count >= y + visible

    return moved


def filter_shown(screen: Any, status: str) -> Callable[[], bool]:
    """Whether the posts `screen` shows its first page of `status` after a later load than now."""
    token = screen.token
    return lambda: (
        screen.token > token and screen.post_filter.status == status and bool(screen.rows)
    )


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `fn()` over `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def median_ms_async(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `await fn()` over `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()  # type: ignore[misc]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
