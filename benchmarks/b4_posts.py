"""The posts screen on a 1M-post tenant, headless: first page, next page, memory after 40 pages.

- `B4.first_page_ms`: from pushing `PostsScreen(tenant)` (published filter) to the first
  frame that shows its first page, median of several opens (the first includes opening
  the connection). Bar <= 150 ms.
- `B4.next_page_ms`: from `pagedown` to the frame that shows the next screenful of posts,
  median over 20 pages. The screen fetches the next page while the user reads (it keeps a
  screenful loaded past the view), so this is what scrolling costs. Bar <= 50 ms.
- `B4.fetch_page_ms`: from `ctrl+end` (the cursor to the last loaded row) to the frame
  that shows the page fetched for it, median over 20 pages: a page the user outran.
- `B4.rss_mb`: the process's resident memory after scrolling 40 pages. Bar <= 200 MB.

"Frame" is when the app hands the screen to its terminal; keys are sent with
`App.simulate_key`, as a terminal's would arrive (not `pilot.press`, which waits for the
whole process to go idle twice per key: about 65 ms even for a key bound to nothing).

Baseline in the same run, in a child process of its own: the naive approach, every
row into a `DataTable`, with **100k** published posts (not 1M: the issue measured 12 s
and 1.36 GB for 100k), from the same tenant file. `--quick` uses the 5,000-post tenant
and a 2,000-row naive table.

The tenant is the one B1 builds and caches under `.cache/bench/`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import Figure, filter_shown, next_screenful

ID = "B4"

PAGES = 20
QUICK_PAGES = 5
"""Pages of each kind with `--quick` (the 5,000-post tenant has ~3,000 published posts)."""
SIZE = (160, 50)
"""Terminal size of the headless runs (a wide terminal: the most rows to paint)."""
NAIVE_ROWS = 100_000
QUICK_NAIVE_ROWS = 2_000
FILTER_KEYS = [("3", "archived"), ("2", "published"), ("3", "archived"), ("1", "draft")] * 2
"""Status keys pressed for `B4.filter_ms`, with the filter each shows."""


class _Frames:
    """The moments the app hands a frame to its terminal (headless: to nothing).

    Textual has no public hook for a frame, so this app instance's `_display` is
    wrapped. A condition is checked as each frame is handed over, against the state the
    frame was just rendered from.
    """

    def __init__(self, app) -> None:
        self._waiting: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        display = app._display

        def _display(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is None:
                return
            now = time.perf_counter()
            for entry in list(self._waiting):
                condition, future = entry
                if future.done() or condition():
                    self._waiting.remove(entry)
                    if not future.done():
                        future.set_result(now)

        app._display = _display

    def expect(self, condition: Callable[[], bool]) -> asyncio.Future[float]:
        """The `perf_counter()` of the first frame from now on that shows `condition()`."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((condition, future))
        return future


async def _frame(
    frames: _Frames, condition: Callable[[], bool], act: Callable[[], object]
) -> float:
    """Milliseconds from `act()` to the first frame that shows `condition()`."""
    future = frames.expect(condition)
    start = time.perf_counter()
    act()
    return (await asyncio.wait_for(future, 30) - start) * 1000


async def _settle(app) -> None:
    """Until background work (next pages, counts) is done: a user reads before paging."""
    await asyncio.sleep(0.05)
    await app.workers.wait_for_complete()
    await asyncio.sleep(0.05)


async def _measure(path: Path, opens: int, pages: int) -> dict[str, list[float] | float]:
    import psutil

    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.posts import PostsScreen
    from tursotui.ui.widgets.row_list import RowList

    figures: dict[str, list[float] | float] = {
        "first": [],
        "filter": [],
        "floor": [],
        "next": [],
        "fetch": [],
    }
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(data_dir=Path(data))
        workspace = await Workspace.open(settings)
        await workspace.registry.add("bench", f"file:{path}", None, name="Bench")
        tenant = await workspace.registry.get("bench")
        app = make_app(settings, workspace)
        async with app.run_test(size=SIZE):
            frames = _Frames(app)
            await _settle(app)  # the tenants screen's health checks
            for _ in range(opens):
                trivial = _TrivialScreen()
                figures["floor"].append(
                    await _frame(
                        frames, lambda t=trivial: t.is_current, lambda t=trivial: app.push_screen(t)
                    )
                )
                app.pop_screen()
                await _settle(app)
            for _ in range(opens):
                screen = PostsScreen(tenant, status="published")
                figures["first"].append(
                    await _frame(
                        frames,
                        lambda s=screen: s.is_current and bool(s.rows),
                        lambda s=screen: app.push_screen(s),
                    )
                )
                await _settle(app)
                app.pop_screen()
                await _settle(app)
            screen = PostsScreen(tenant, status="published")
            app.push_screen(screen)
            await _settle(app)
            for key, status in FILTER_KEYS:
                figures["filter"].append(
                    await _frame(
                        frames, filter_shown(screen, status), lambda k=key: app.simulate_key(k)
                    )
                )
                await _settle(app)
            table = screen.query_one(RowList)
            for _ in range(pages):
                figures["next"].append(
                    await _frame(
                        frames, next_screenful(table), lambda: app.simulate_key("pagedown")
                    )
                )
                await _settle(app)
            for _ in range(pages):
                loaded = len(screen.rows)
                figures["fetch"].append(
                    await _frame(
                        frames,
                        lambda n=loaded: len(screen.rows) > n,
                        lambda: app.simulate_key("ctrl+end"),
                    )
                )
                await _settle(app)
            figures["rss"] = psutil.Process().memory_info().rss / 1e6
        await workspace.close()
    return figures


def _trivial_screen_class():
    from rich.text import Text
    from textual.screen import Screen
    from textual.widgets import DataTable, Footer

    class TrivialScreen(Screen[None]):
        """What pushing and painting any 50-row table screen costs on this machine."""

        def compose(self):
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("status", "title", "author", "published")
            for i in range(50):
                table.add_row(*(Text(f"cell {i}.{j}") for j in range(4)))

    return TrivialScreen


def _TrivialScreen():
    return _trivial_screen_class()()


def _naive(path: str, rows: int, queue) -> None:  # runs in a child process
    import psutil
    from textual.app import App
    from textual.widgets import DataTable

    from tursotui.display.literal import literal

    class NaiveApp(App[None]):
        def compose(self):
            yield DataTable()

    async def main() -> None:
        import sqlite3

        app = NaiveApp()
        async with app.run_test(size=SIZE) as pilot:
            start = time.perf_counter()
            db = sqlite3.connect(path)
            data = db.execute(
                "SELECT p.status, p.title, u.name, p.published_at FROM posts AS p "
                "LEFT JOIN users AS u ON u.id = p.author_id WHERE p.status = 'published' "
                "ORDER BY p.published_at DESC LIMIT ?",
                [rows],
            ).fetchall()
            db.close()
            table = app.query_one(DataTable)
            table.add_columns("status", "title", "author", "published")
            table.add_rows([tuple(literal(v, 60) for v in row) for row in data])
            await pilot.pause()
            elapsed = (time.perf_counter() - start) * 1000
            queue.put((elapsed, psutil.Process().memory_info().rss / 1e6, len(data)))

    asyncio.run(main())


def _run_naive(path: Path, rows: int) -> tuple[float, float, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_naive, args=(str(path), rows, queue))
    child.start()
    result = queue.get(timeout=600)
    child.join()
    return result


async def run(quick: bool) -> list[Figure]:
    from benchmarks.b1_page_query import FULL_POSTS, QUICK_POSTS, bench_tenant

    path = await bench_tenant(quick)
    size = f"{QUICK_POSTS if quick else FULL_POSTS:,} posts"
    pages = QUICK_PAGES if quick else PAGES
    measured = await _measure(path, opens=3 if quick else 9, pages=pages)
    naive_rows = QUICK_NAIVE_ROWS if quick else NAIVE_ROWS
    naive_ms, naive_rss, shown = await asyncio.to_thread(_run_naive, path, naive_rows)
    return [
        Figure(
            "B4.first_page_ms",
            statistics.median(measured["first"]),
            "ms",
            naive_ms,
            "<= 150",
            f"open to the frame showing the first page, {size}; "
            f"baseline: naive DataTable of {shown:,} rows",
        ),
        Figure(
            "B4.filter_ms",
            statistics.median(measured["filter"]),
            "ms",
            None,
            None,
            "status key (1/2/3) to the frame showing that filter's first page",
        ),
        Figure(
            "B4.screen_floor_ms",
            statistics.median(measured["floor"]),
            "ms",
            None,
            None,
            "context: pushing a trivial 50-row DataTable screen to its first frame",
        ),
        Figure(
            "B4.next_page_ms",
            statistics.median(measured["next"]),
            "ms",
            None,
            "<= 50",
            f"pagedown to the frame showing the next screenful, median of {pages} pages",
        ),
        Figure(
            "B4.fetch_page_ms",
            statistics.median(measured["fetch"]),
            "ms",
            None,
            None,
            f"ctrl+end past the loaded rows to the frame showing the page fetched, "
            f"median of {pages}",
        ),
        Figure(
            "B4.rss_mb",
            measured["rss"],
            "MB",
            naive_rss,
            "<= 200",
            f"process RSS after {2 * pages} pages; baseline: naive DataTable of {shown:,} rows",
        ),
    ]
