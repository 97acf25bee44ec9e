"""The SQL console on `SELECT * FROM posts` of the 1M-post tenant: first rows, RSS, stalls, cancel.

Runs the real `ConsoleScreen` headless (Textual's test driver) in this process:

- `B6.first_rows_ms`: from ctrl+r until the first rows are in the grid and painted; bar <= 300.
  Baseline: raw `sqlite3` execute + fetch of the same first page.
- `B6.rss_mb`: the process's resident memory after scrolling through 10,000 rows; bar <= 250.
  Baseline: the resident memory before the query.
- `B6.stall_ms`: the longest event-loop stall while the query runs and the grid scrolls
  (a 5 ms ticker's worst lateness); bar <= 50.
- `B6.cancel_ms`: from ctrl+g to an idle console during a long scan; bar <= 200.

The tenant is B1's cached one under `.cache/bench/` (`--quick`: 5,000 posts, 2,000 rows scrolled).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure

ID = "B6"

QUERY = "SELECT * FROM posts"
LONG_SCAN = "SELECT count(*) FROM posts AS a CROSS JOIN posts AS b WHERE a.content < b.content"
FIRST_PAGE = 200


class _StallMeter:
    """The worst lateness of a 5 ms ticker on the running loop."""

    def __init__(self) -> None:
        self.worst_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            late = (time.perf_counter() - start) * 1000 - 5
            self.worst_ms = max(self.worst_ms, late)

    def start(self) -> None:
        self.worst_ms = 0.0
        self._task = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return self.worst_ms


def _rss_mb() -> float:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss / 1e6


def _raw_first_page(path: Path) -> float:
    start = time.perf_counter()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = db.execute(QUERY).fetchmany(FIRST_PAGE)
    elapsed = (time.perf_counter() - start) * 1000
    db.close()
    assert len(rows) == FIRST_PAGE
    return elapsed


async def _wait(pilot, predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the console did not get there in time")
        await pilot.pause(0)


async def run(quick: bool) -> list[Figure]:
    from textual.app import App

    from benchmarks.b1_page_query import bench_tenant
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace
    from tursotui.ui.screens.console import ConsoleScreen
    from tursotui.ui.widgets.result_grid import ResultGrid
    from tursotui.ui.widgets.sql_editor import SqlEditor

    path = await bench_tenant(quick)
    scroll_rows = 2_000 if quick else 10_000
    raw_ms = min(_raw_first_page(path) for _ in range(5))

    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(data_dir=Path(data), read_only=True)
        # The registry is written before read-only settings would refuse it.
        writable = await Workspace.open(load_settings(data_dir=Path(data)))
        await writable.registry.create_table()
        await writable.registry.add("bench", f"file:{path}", None, name="bench")
        await writable.close()
        workspace = await Workspace.open(settings)

        class BenchApp(App[None]):
            def __init__(self) -> None:
                super().__init__()
                self.settings = settings
                self.workspace = workspace

        app = BenchApp()
        meter = _StallMeter()
        async with app.run_test(size=(160, 50)) as pilot:
            tenant = await workspace.registry.get("bench")
            screen = ConsoleScreen(tenant)
            app.push_screen(screen)
            await _wait(pilot, lambda: screen.connection is not None and not screen.busy)
            await app.workers.wait_for_complete()
            grid = screen.query_one(ResultGrid)
            editor = screen.query_one(SqlEditor)
            rss_before = _rss_mb()

            editor.load_text(QUERY)
            editor.focus()
            # The console's own first paint (the schema tree, loaded just now) and the editor's
            # new text are drawn before the meter starts: they are not the query's stalls.
            await pilot.pause()
            meter.start()
            # From the moment the key is handled (not when the test driver sends it) until the
            # grid paints a line holding a row.
            marks: dict[str, float] = {}
            run_action = screen.action_run
            render_lines = grid.render_lines

            def timed_run() -> None:
                marks.setdefault("key", time.perf_counter())
                run_action()

            def timed_render(crop):  # what the compositor asks of the grid for a frame
                if grid.row_count and "key" in marks:
                    marks.setdefault("painted", time.perf_counter())
                return render_lines(crop)

            screen.action_run = timed_run  # type: ignore[method-assign]
            grid.render_lines = timed_render  # type: ignore[method-assign]
            await pilot.press("ctrl+r")
            await _wait(pilot, lambda: "painted" in marks)
            first_ms = (marks["painted"] - marks["key"]) * 1000
            screen.action_run = run_action  # type: ignore[method-assign]
            grid.render_lines = render_lines  # type: ignore[method-assign]

            grid.focus()
            while len(grid.values) < scroll_rows:
                before = len(grid.values)
                await pilot.press("ctrl+end")
                await _wait(pilot, lambda b=before: len(grid.values) > b or not grid.more_available)
                if not grid.more_available:
                    break
            stall = meter.stop()
            rss = _rss_mb()
            scrolled = len(grid.values)

            editor.load_text(LONG_SCAN)
            editor.focus()
            await pilot.press("ctrl+r")
            await _wait(pilot, lambda: screen.busy)
            await pilot.pause(0.3)
            start = time.perf_counter()
            await pilot.press("ctrl+g")
            await _wait(pilot, lambda: not screen.busy, timeout=10)
            cancel_ms = (time.perf_counter() - start) * 1000
        await workspace.close()

    size = "5k" if quick else "1M"
    return [
        Figure(
            "B6.first_rows_ms",
            first_ms,
            "ms",
            raw_ms,
            "<= 300",
            f"{size} posts, ctrl+r to painted rows",
        ),
        Figure("B6.rss_mb", rss, "MB", rss_before, "<= 250", f"after scrolling {scrolled:,} rows"),
        Figure("B6.stall_ms", stall, "ms", None, "<= 50", "worst event-loop stall, query + scroll"),
        Figure(
            "B6.cancel_ms", cancel_ms, "ms", None, "<= 200", "ctrl+g to idle during a long scan"
        ),
    ]
