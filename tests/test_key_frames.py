"""A key is a frame: the answer to a quick query is painted in the first frame after the key.

Frames are what the app hands its terminal (its `_display`, wrapped here as the benchmarks
do); each is recorded with what the screen showed when it was painted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from support.moderation_fixtures import make_test_app, workspace_with
from support.screen import until as wait_until
from test_console import console, grid, idle, open_console, status
from tursotui.ui import frames as frames_module
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.sql_editor import SqlEditor

SIZE = (120, 40)
SLOW_READ = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) "
    "SELECT count(*) AS n FROM c"
)


def record_frames(app, shown) -> list:
    """Every frame from now on, as `shown()` saw the screen when it was painted."""
    painted: list = []
    display = app._display

    def _display(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            painted.append(shown())

    app._display = _display
    return painted


@pytest.fixture
def patient_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames held as long as it takes: what is painted, not how fast this machine is."""
    monkeypatch.setattr(frames_module, "FRAME_S", 10.0)


async def test_a_quick_query_paints_its_rows_in_the_first_frame(tmp_path: Path, patient_frames):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=3)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        editor = console(app).query_one(SqlEditor)
        editor.load_text("SELECT title FROM posts ORDER BY title")
        editor.focus()
        await pilot.pause()
        painted = record_frames(app, lambda: (status(app), grid(app).row_count))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: idle(app) and painted)
        first_status, first_rows = painted[0]
        assert first_rows == 3
        assert "3 rows" in first_status
        assert not any("running…" in text for text, _ in painted)


async def test_a_slow_query_still_shows_that_it_runs(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=1)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        editor = console(app).query_one(SqlEditor)
        editor.load_text(SLOW_READ)
        editor.focus()
        await pilot.pause()
        painted = record_frames(app, lambda: (status(app), grid(app).row_count))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: idle(app), timeout=60)
        await pilot.pause()
        running = [i for i, (text, _) in enumerate(painted) if "running…" in text]
        done = [i for i, (_, count) in enumerate(painted) if count == 1]
        assert running and done and running[0] < done[0]


async def test_a_filter_key_paints_the_new_filters_rows_at_once(
    tmp_path: Path, patient_frames, monkeypatch: pytest.MonkeyPatch
):
    fetch = PostsScreen._fetch

    async def slower_fetch(self, *args, **kwargs):
        await asyncio.sleep(0.05)  # a query that takes a few frames' time
        return await fetch(self, *args, **kwargs)

    monkeypatch.setattr(PostsScreen, "_fetch", slower_fetch)
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=2, published=4)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        tenant = await workspace.registry.get("acme")
        screen = PostsScreen(tenant, status="draft")
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.is_mounted)
        table = lambda: screen.query_one("#posts-table", RowList)  # noqa: E731
        await wait_until(pilot, lambda: table().row_count == 2 and not screen.fetching)
        await app.workers.wait_for_complete()
        await pilot.pause()
        painted = record_frames(app, lambda: (screen.post_filter.status, table().row_count))
        await pilot.press("2")
        await wait_until(pilot, lambda: table().row_count == 4 and painted)
        await pilot.pause()
        # Never the emptied list, never the old rows under the new filter.
        assert painted[0] == ("published", 4)
        assert all(shown == ("published", 4) for shown in painted)
