"""A key is a frame: the answer to a quick query is painted in the first frame after the key.

Frames are what the app hands its terminal (its `_display`, wrapped here as the benchmarks
do); each is recorded with what the screen showed when it was painted.
"""

from __future__ import annotations

import asyncio
import re
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


async def posts_of_acme(app, pilot, workspace, status: str | None) -> PostsScreen:
    """The posts screen of the tenant `acme`, filtered by `status`, once mounted."""
    screen = PostsScreen(await workspace.registry.get("acme"), status=status)
    app.push_screen(screen)
    await wait_until(pilot, lambda: screen.is_mounted)
    return screen


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
        screen = await posts_of_acme(app, pilot, workspace, "draft")
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


_MOVE = re.compile(r"\x1b\[(\d+);(\d+)H")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def sent_lines(app, renderable) -> dict[int, str]:
    """What a frame sends the terminal: the text written at each screen line it paints.

    A partial frame is a cursor move to each changed span followed by its cells; the text
    of a line is what follows its moves (styles taken out).
    """
    sequence = renderable.render_segments(app.console)
    lines: dict[int, str] = {}
    moves = list(_MOVE.finditer(sequence))
    for move, following in zip(moves, [*moves[1:], None], strict=True):
        end = following.start() if following else len(sequence)
        y = int(move.group(1)) - 1
        lines[y] = lines.get(y, "") + _SGR.sub("", sequence[move.end() : end])
    return lines


def record_updates(app) -> list:
    """Every frame from now on, as handed to the terminal."""
    sent: list = []
    display = app._display

    def _display(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            sent.append(renderable)

    app._display = _display
    return sent


async def test_pagedown_paints_the_lists_lines_and_nothing_else(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=150)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await posts_of_acme(app, pilot, workspace, "published")
        table = screen.query_one("#posts-table", RowList)
        visible = table.size.height - 1
        await wait_until(pilot, lambda: table.row_count >= 2 * visible and not screen.fetching)
        await app.workers.wait_for_complete()
        await pilot.pause()
        sent = record_updates(app)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: table.scroll_offset.y >= visible and sent)
        await app.workers.wait_for_complete()
        await pilot.pause()
        frames = [sent_lines(app, update) for update in sent]
        top, bottom = table.region.y, table.region.bottom
        # The key's frame is the whole list, new, and only the list: not the header, the
        # filter bar, the status line or the footer, which the key did not change.
        assert sorted(frames[0]) == list(range(top, bottom))
        first = screen.rows[table.ordered_keys[table.scroll_offset.y]]
        assert first.title[:20] in frames[0][top + 1]
        assert table.cursor_row == table.scroll_offset.y
        # Nor later: the page read ahead after it changes the status line and the
        # scrollbar's range, and nothing else is painted again.
        status_line = screen.query_one("#posts-status").region.y
        painted = {y for frame in frames for y in frame}
        assert painted - set(range(top, bottom)) <= {status_line}


async def test_lists_paint_what_textual_would(tmp_path: Path):
    """The lists and their scrollbars paint their own lines: exactly Textual's, cell for
    cell and style for style, however scrolled, focused or moved."""
    from textual.scrollbar import ScrollBar
    from textual.widget import Widget

    from tursotui.ui.widgets.result_grid import ResultGrid

    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=120, drafts=3)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await posts_of_acme(app, pilot, workspace, None)
        table = screen.query_one("#posts-table", RowList)
        await wait_until(pilot, lambda: table.row_count >= 80 and not screen.fetching)
        await pilot.pause()

        def same_as_textual(widget) -> None:
            region = widget.size.region
            ours = widget.render_lines(region)
            widget._styles_cache.clear()  # Textual's own render, from scratch
            theirs = Widget.render_lines(widget, region)
            assert [line.text for line in ours] == [line.text for line in theirs]
            assert ours == theirs  # every segment, every style
            cut = region.shrink((1, 2, 3, 1))
            assert widget.render_lines(cut) == Widget.render_lines(widget, cut)

        for keys in (
            [],
            ["down", "down"],
            ["pagedown"],
            ["space", "up", "space"],  # marked: the row's line changes
            ["2", "0"],  # a filter and back: the same rows again, one of them marked
            ["pagedown", "up"],
            ["end"],
        ):
            for key in keys:
                await pilot.press(key)
            await wait_until(pilot, lambda: not screen.fetching and table.row_count > 0)
            await pilot.pause()
            same_as_textual(table)
            same_as_textual(table.vertical_scrollbar)
            assert type(table.vertical_scrollbar) is not ScrollBar  # it is ours that was tested
        for _ in range(2):  # blurred, focused again: each look's lines are kept, still right
            table.blur()
            await pilot.pause()
            same_as_textual(table)
            table.focus()
            await pilot.pause()
            same_as_textual(table)

        await open_console(app, pilot, workspace)
        editor = console(app).query_one(SqlEditor)
        editor.load_text("SELECT id, title, NULL AS missing, content, 1.5 AS x FROM posts")
        editor.focus()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: idle(app) and grid(app).row_count > 50)
        results = console(app).query_one(ResultGrid)
        for keys in ([], ["down", "right", "right"], ["pagedown"], ["end"]):
            results.focus()
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            same_as_textual(results)
            same_as_textual(results.vertical_scrollbar)
            same_as_textual(results.horizontal_scrollbar)


async def test_the_tenants_list_paints_what_textual_would_as_the_filter_box_comes_and_goes():
    """`/` shortens the tenants list and takes its focus, escape gives both back: the list
    and its scrollbar, painted from the lines kept for each height and look, are Textual's,
    and the box (not restyled when hidden) is styled focused each time it shows."""
    from textual.widget import Widget

    from support.shell_fixtures import copied_fleet
    from tursotui.ui.app import make_app

    fleet = await copied_fleet(60)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#tenants", RowList)
        await wait_until(pilot, lambda: app.screen.answered == 60, timeout=30)
        await pilot.pause()

        def same_as_textual(widget) -> None:
            region = widget.size.region
            ours = widget.render_lines(region)
            widget._styles_cache.clear()  # Textual's own render, from scratch
            assert ours == Widget.render_lines(widget, region)

        heights = set()
        for keys in (["down"], ["slash"], ["escape"], ["slash", "t", "0"], ["escape"], ["slash"]):
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            heights.add(table.size.height)
            same_as_textual(table)
            same_as_textual(table.vertical_scrollbar)
            box = app.screen.query_one("#filter")
            if box.display:  # styled as Textual styles it from scratch: focused
                region = box.size.region
                ours = box.render_lines(region)
                app.stylesheet.update_nodes([box])
                box._styles_cache.clear()
                assert box.has_focus and ours == Widget.render_lines(box, region)
        assert len(heights) == 2 and table.row_count == 60


async def test_the_filter_box_comes_and_goes_without_painting_the_whole_screen_again():
    """`/` and escape send the terminal the box and the list they move (and the lines Textual
    counts as moved, docked above and below), not the detail line below them, which they do
    not change: a repaint of the whole screen (its background, then every widget on it) was
    a fifth of such a frame."""
    from support.shell_fixtures import build_fleet
    from tursotui.ui.app import make_app

    fleet = await build_fleet(slugs=("acme", "globex", "initech"))
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.answered == 4, timeout=30)
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key, box_shown in (("slash", True), ("escape", False), ("slash", True)):
            sent = record_updates(app)
            await pilot.press(key)
            await wait_until(pilot, lambda sent=sent: bool(sent))
            await pilot.pause()
            first = sent_lines(app, sent[0])
            assert screen.query_one("#filter").display is box_shown
            assert ("filter: slug" in first.get(2, "")) is box_shown  # the box's placeholder
            assert any(" acme " in line for line in first.values())  # the list, moved
            detail = screen.query_one("#detail").region.y
            assert detail not in first, first.get(detail)  # unchanged, not sent


async def test_the_posts_search_box_shows_styled_as_textual_styles_it(tmp_path: Path):
    """The search box is not restyled when escape hides it: shown again (`/`, after a search
    applied or not), it looks as Textual styles it from scratch, focused or not."""
    from textual.widget import Widget

    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=30)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await posts_of_acme(app, pilot, workspace, "published")
        box = screen.query_one("#posts-search")
        for keys in (["slash"], ["escape"], ["slash", "p", "enter"], ["slash"], ["escape"]):
            await pilot.press(*keys)
            await wait_until(pilot, lambda: not screen.fetching)
            await pilot.pause()
            if box.display:
                region = box.size.region
                ours = box.render_lines(region)
                app.stylesheet.update_nodes([box])
                box._styles_cache.clear()
                assert ours == Widget.render_lines(box, region), keys


def textual_lines(widget, crop) -> list:
    """`widget`'s lines in `crop` as Textual's own render paints them, from scratch."""
    from textual.widget import Widget

    widget._styles_cache.clear()
    widget._render_content()
    return Widget.render_lines(widget, crop)


async def test_text_lines_paint_what_textual_would(tmp_path: Path):
    """The filter bar and the status lines keep what they painted by what it shows: what
    they paint is Textual's line, cell for cell and style for style, whatever they say
    (again), whatever the theme."""
    from textual.geometry import Offset
    from textual.selection import Selection

    from tursotui.ui.widgets.text_line import TextLine

    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=30, drafts=3)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await posts_of_acme(app, pilot, workspace, "published")
        table = screen.query_one("#posts-table", RowList)
        await wait_until(pilot, lambda: table.row_count > 0 and not screen.fetching)

        def same_as_textual(widget: TextLine) -> None:
            region = widget.size.region
            ours = widget.render_lines(region)
            theirs = textual_lines(widget, region)
            assert [line.text for line in ours] == [line.text for line in theirs]
            assert ours == theirs  # every segment, every style
            cut = region.shrink((0, 3, 0, 2))
            assert widget.render_lines(cut) == textual_lines(widget, cut)

        lines = [screen.query_one("#posts-filters", TextLine), screen.query_one("#posts-status")]
        said = set()
        for keys in ([], ["1"], ["2"], ["1"], ["space"], ["0"], ["2"], ["o"]):
            for key in keys:
                await pilot.press(key)
            await wait_until(pilot, lambda: not screen.fetching and screen.counts is not None)
            await pilot.pause()
            for line in lines:
                assert isinstance(line, TextLine)
                said.add(line.text.plain)
                same_as_textual(line)
        assert len(said) >= 6  # the lines said different things, some of them again
        before = [line.render_lines(line.size.region) for line in lines]
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        for line, old in zip(lines, before, strict=True):
            assert isinstance(line, TextLine)
            same_as_textual(line)
            assert line.render_lines(line.size.region) != old  # painted in the new colours
            line.styles.background = "darkred"  # its own style changes, the theme not
            await pilot.pause()
            same_as_textual(line)

        for line in lines:  # text selected with the mouse, then no longer
            assert isinstance(line, TextLine)
            screen.selections = {line: Selection.from_offsets(Offset(2, 0), Offset(9, 0))}
            await pilot.pause()
            same_as_textual(line)
            selected = line.render_lines(line.size.region)
            screen.selections = {}
            await pilot.pause()
            same_as_textual(line)
            assert line.render_lines(line.size.region) != selected

        await open_console(app, pilot, workspace)
        status_line = console(app).query_one("#status", TextLine)  # padded, on its own colour
        editor = console(app).query_one(SqlEditor)
        for sql in ("SELECT 1", "SELECT nope", "SELECT 1"):
            editor.load_text(sql)
            editor.focus()
            await pilot.press("ctrl+r")
            if "nope" in sql:
                await wait_until(pilot, lambda: app.screen is not console(app))
                await pilot.press("escape")  # the error's modal
            await wait_until(pilot, lambda: idle(app) and app.screen is console(app))
            await pilot.pause()
            same_as_textual(status_line)


async def test_a_line_said_again_is_not_painted_again(tmp_path: Path, monkeypatch):
    from textual.widget import Widget

    from tursotui.ui.widgets.text_line import TextLine

    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=5, drafts=2)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await posts_of_acme(app, pilot, workspace, "published")
        await wait_until(pilot, lambda: not screen.fetching and screen.counts is not None)
        await pilot.press("1")
        await wait_until(pilot, lambda: not screen.fetching)
        await pilot.pause()
        painted: list[str] = []
        render_lines = Widget.render_lines

        def counting(widget, crop):
            if isinstance(widget, TextLine):
                painted.append(widget.text.plain)
            return render_lines(widget, crop)

        monkeypatch.setattr(Widget, "render_lines", counting)
        bar = screen.query_one("#posts-filters", TextLine)
        await pilot.press("2")  # shown before: the bar and the status line are looked up
        await wait_until(pilot, lambda: not screen.fetching and len(screen.rows) == 5)
        await pilot.pause()
        assert "published" in bar.text.plain and screen.post_filter.status == "published"
        assert painted == []


async def test_a_result_shown_again_is_looked_up_and_paints_what_textual_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The grid keeps its lines by what they show, across results: a query run again (or
    one that shares rows with the last) paints without making its lines again, and what
    it paints is Textual's line, whatever values look alike (1 and 1.0, a number and text)."""
    from tursotui.ui.widgets.result_grid import ResultGrid

    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=60)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        editor = console(app).query_one(SqlEditor)
        results = console(app).query_one(ResultGrid)

        async def show(sql: str) -> None:
            editor.load_text(sql)
            editor.focus()
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: idle(app) and results.result_columns)
            await pilot.pause()

        def same_as_textual(widget) -> None:
            region = widget.size.region
            ours = widget.render_lines(region)
            if widget is results:  # Textual's render asks the grid for its lines: made anew
                results._forget_lines()
            assert ours == textual_lines(widget, region)

        posts = "SELECT title, status, published_at FROM posts ORDER BY id"
        alike = [  # the second row (the cursor is on the first) alike but for its type
            "SELECT column1 AS v, column2 AS w FROM (VALUES (10.5, 'bb'), (1, 'a'))",
            "SELECT column1 AS v, column2 AS w FROM (VALUES (10.5, 'bb'), (1.0, 'a'))",
            "SELECT column1 AS v, column2 AS w FROM (VALUES (10.5, 'bb'), ('1', 'a'))",
            "SELECT column1 AS v, column2 AS w FROM (VALUES (10.5, 'bb'), (NULL, 'a'))",
        ]
        for sql in [posts, *alike, *alike, posts]:
            await show(sql)
            assert results._fused and results._painted  # the grid's own lines were shown
            same_as_textual(results)
            same_as_textual(results.horizontal_scrollbar)
            same_as_textual(results.vertical_scrollbar)

        made: list[int] = []
        line_segments = ResultGrid._line_segments

        def counting(grid, row):
            made.append(row)
            return line_segments(grid, row)

        monkeypatch.setattr(ResultGrid, "_line_segments", counting)
        await show(posts)  # shown before: only the cursor's line is made again
        assert results.row_count > 30
        assert set(made) <= {results.cursor_row}
        same_as_textual(results)
