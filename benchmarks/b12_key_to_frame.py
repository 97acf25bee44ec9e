"""From a key to the frame that shows its result, on the 1M-post tenant, headless.

- `B12.move_ms`: `down` on the posts list to the frame with the cursor on the next row.
- `B12.page_ms`: `pagedown` to the frame showing the next screenful (rows fetched ahead).
- `B12.filter_ms`: a status key (1/2/3) to the frame showing that filter's first page:
  a page query on the tenant's connection, then the rows.
- `B12.console_ms`: ctrl+r on a 50-row page query in the SQL console to the frame showing
  its rows.

Bars: 16 ms (one frame at 60 fps) for keys answered from rows already fetched; one
frame plus the query for a page query. Baselines in the same run: the page query alone
on a raw `sqlite3` connection, and `B12.floor_ms`, a key on a bare Textual app whose
binding changes one label, to the frame showing it (the least any key can cost here).

Keys are sent as a terminal's arrive (`App.simulate_key`) after the app has gone quiet,
one at a time; a "frame" is when the app hands the screen to its terminal (see B4).
The tenant is the one B1 builds and caches under `.cache/bench/` (`--quick`: 5,000 posts).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.b4_posts import SIZE, _frame, _Frames, _settle
from benchmarks.common import Figure, filter_shown, next_screenful

ID = "B12"

KEYS = 20
QUICK_KEYS = 5
PAGE_QUERY = (
    "SELECT status, id, title, published_at FROM posts WHERE status = '{status}' "
    "ORDER BY published_at DESC LIMIT 50"
)
"""A page of one status; the console alternates two, so each run's rows are new on screen."""


async def _quiet(app) -> None:
    """Until the app has nothing left to do: the key is measured alone."""
    await _settle(app)
    await asyncio.sleep(0.03)


async def _floor(keys: int) -> list[float]:
    """A bare Textual app: a key whose binding changes a label, to the frame showing it."""
    from textual.app import App
    from textual.widgets import Label

    class Floor(App[None]):
        BINDINGS = [("x", "bump", "Bump")]
        count = 0

        def compose(self):
            yield Label("0", id="count")

        def action_bump(self) -> None:
            self.count += 1
            self.query_one(Label).update(str(self.count))

    app = Floor()
    times = []
    async with app.run_test(size=SIZE):
        frames = _Frames(app)
        await _quiet(app)
        for _ in range(keys):
            want = app.count + 1
            times.append(
                await _frame(frames, lambda w=want: app.count >= w, lambda: app.simulate_key("x"))
            )
            await _quiet(app)
    return times


async def _posts(path: Path, keys: int) -> dict[str, list[float]]:
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.posts import PostsScreen
    from tursotui.ui.widgets.row_list import RowList

    found: dict[str, list[float]] = {"move": [], "page": [], "filter": []}
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(data_dir=Path(data))
        workspace = await Workspace.open(settings)
        await workspace.registry.add("bench", f"file:{path}", None, name="Bench")
        tenant = await workspace.registry.get("bench")
        app = make_app(settings, workspace)
        async with app.run_test(size=SIZE):
            frames = _Frames(app)
            await _quiet(app)
            screen = PostsScreen(tenant, status="published")
            app.push_screen(screen)
            await _quiet(app)
            table = screen.query_one(RowList)
            for _ in range(keys):
                row = table.cursor_row
                found["move"].append(
                    await _frame(
                        frames,
                        lambda r=row: table.cursor_row == r + 1,
                        lambda: app.simulate_key("down"),
                    )
                )
                await _quiet(app)
            for _ in range(keys):
                found["page"].append(
                    await _frame(
                        frames, next_screenful(table), lambda: app.simulate_key("pagedown")
                    )
                )
                await _quiet(app)
            for key, status in [("3", "archived"), ("2", "published")] * ((keys + 1) // 2):
                found["filter"].append(
                    await _frame(
                        frames, filter_shown(screen, status), lambda k=key: app.simulate_key(k)
                    )
                )
                await _quiet(app)
        await workspace.close()
    return found


async def _console(path: Path, keys: int) -> list[float]:
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.console import ConsoleScreen
    from tursotui.ui.widgets.result_grid import ResultGrid
    from tursotui.ui.widgets.sql_editor import SqlEditor

    times = []
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(data_dir=Path(data), read_only=True)
        writable = await Workspace.open(load_settings(data_dir=Path(data)))
        await writable.registry.create_table()
        await writable.registry.add("bench", f"file:{path}", None, name="bench")
        await writable.close()
        workspace = await Workspace.open(settings)
        app = make_app(settings, workspace)
        async with app.run_test(size=SIZE):
            frames = _Frames(app)
            await _quiet(app)
            tenant = await workspace.registry.get("bench")
            screen = ConsoleScreen(tenant)
            app.push_screen(screen)
            deadline = time.monotonic() + 60
            while screen.connection is None or screen.busy:
                if time.monotonic() > deadline:
                    raise TimeoutError("the console did not connect")
                await asyncio.sleep(0.01)
            await _quiet(app)
            grid = screen.query_one(ResultGrid)
            editor = screen.query_one(SqlEditor)
            await _quiet(app)
            for index in range(keys):
                status = ("archived", "published")[index % 2]
                editor.load_text(PAGE_QUERY.format(status=status))
                editor.focus()
                await _quiet(app)

                def shown(s=status) -> bool:
                    return grid.row_count >= 50 and grid.values[0][0] == s and not screen.busy

                times.append(await _frame(frames, shown, lambda: app.simulate_key("ctrl+r")))
                await _quiet(app)
        await workspace.close()
    return times


def _raw_page_ms(path: Path, repeat: int) -> float:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            rows = db.execute(PAGE_QUERY.format(status="published")).fetchall()
            times.append((time.perf_counter() - start) * 1000)
            assert len(rows) == 50
        return statistics.median(times)
    finally:
        db.close()


async def run(quick: bool) -> list[Figure]:
    from benchmarks.b1_page_query import FULL_POSTS, QUICK_POSTS, bench_tenant

    path = await bench_tenant(quick)
    keys = QUICK_KEYS if quick else KEYS
    floor = statistics.median(await _floor(keys))
    posts = await _posts(path, keys)
    console = await _console(path, keys)
    raw = _raw_page_ms(path, 20)
    size = f"{QUICK_POSTS if quick else FULL_POSTS:,} posts"
    load = os.getloadavg()[0]

    def spread(values: list[float]) -> str:
        return f"median of {len(values)}, {min(values):.1f}–{max(values):.1f} ms"

    return [
        Figure(
            "B12.floor_ms",
            floor,
            "ms",
            None,
            None,
            f"bare Textual app, key to the frame showing its label changed; load {load:.1f}",
        ),
        Figure(
            "B12.move_ms",
            statistics.median(posts["move"]),
            "ms",
            floor,
            "<= 16",
            f"posts list, down to the frame with the cursor moved, {spread(posts['move'])}",
        ),
        Figure(
            "B12.page_ms",
            statistics.median(posts["page"]),
            "ms",
            floor,
            "<= 16",
            f"posts list, pagedown to the next screenful's frame, {spread(posts['page'])}",
        ),
        Figure(
            "B12.filter_ms",
            statistics.median(posts["filter"]),
            "ms",
            raw,
            "<= 16 + query",
            f"status key to the frame showing that filter's first page, {size}, "
            f"{spread(posts['filter'])}; baseline: raw sqlite3 page query",
        ),
        Figure(
            "B12.console_ms",
            statistics.median(console),
            "ms",
            raw,
            "<= 16 + query",
            f"console, ctrl+r on a 50-row page query to its rows' frame, {spread(console)}; "
            "baseline: the same query on raw sqlite3",
        ),
    ]
