"""Keys typed ahead: a whole burst sent at once acts as the same keys sent one by one.

Bursts are posted to the app in one go, without waiting between keys (what a terminal
delivers when someone types fast over SSH, or `tmux send-keys` with one string):
`pilot.press` would wait for the app to be idle after every key and hide the races.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from textual import events
from textual.screen import ModalScreen
from textual.widgets import Input

from support.keys import burst, quiet, typed
from support.moderation_fixtures import make_test_app, workspace_with
from support.screen import screen_text, until
from tursotui.ui.screens.console import ConsoleScreen
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.screens.tenants import TenantsScreen
from tursotui.ui.typeahead import HOLD_S
from tursotui.ui.widgets.result_grid import ResultGrid
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.schema_panel import SchemaPanel
from tursotui.ui.widgets.sql_editor import SqlEditor

SIZE = (100, 30)


async def three_tenants(tmp_path: Path, more: dict | None = None, **acme):
    tenants = {"acme": dict(drafts=3, **acme), "folk": dict(drafts=2), "umbrella": dict(drafts=1)}
    return await workspace_with(tmp_path, tenants | (more or {}))


async def on_posts_of(app, pilot, workspace, slug: str = "acme") -> PostsScreen:
    await quiet(app, pilot)
    app.push_screen(PostsScreen(await workspace.registry.get(slug)))
    await quiet(app, pilot)
    assert isinstance(app.screen, PostsScreen)
    return app.screen


@pytest.mark.parametrize("name", ["fo", "new", "umb", "acme"])
async def test_t_then_a_name_goes_into_the_tenant_filter(tmp_path: Path, name: str):
    """`t` and a name in one burst: the name is in the filter (no `f` fleet, no `n` dialog)."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await on_posts_of(app, pilot, workspace)
        burst(app, "t", *typed(name))
        await quiet(app, pilot)
        assert app.screen_stack == [app.screen] and isinstance(app.screen, TenantsScreen)
        box = app.screen.query_one("#filter", Input)
        assert box.value == name and app.focused is box
    await workspace.close()


async def test_t_name_enter_opens_that_tenant(tmp_path: Path):
    """`t`, a name and `enter` in one burst open that tenant's posts."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await on_posts_of(app, pilot, workspace)
        burst(app, "t", *typed("umb"), "enter")
        await quiet(app, pilot)
        assert isinstance(app.screen, PostsScreen)
        assert app.screen.tenant.slug == "umbrella"
        assert "umbrella draft 0" in screen_text(app) or "draft 0" in screen_text(app)
    await workspace.close()


async def test_search_typed_ahead_on_posts(tmp_path: Path):
    """`/`, a title and `enter` in one burst search for that title; the list has focus again."""
    workspace, _ = await three_tenants(tmp_path, published=3)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_posts_of(app, pilot, workspace)
        burst(app, "slash", *typed("draft 1"), "enter")
        await quiet(app, pilot)
        assert screen.post_filter.search == "draft 1"
        assert len(screen.query_one("#posts-table", RowList).ordered_keys) == 1
        assert app.focused is screen.query_one("#posts-table", RowList)
    await workspace.close()


async def test_filter_typed_ahead_on_tenants(tmp_path: Path):
    """`/` and a slug in one burst on the tenants screen filter by that slug."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await quiet(app, pilot)
        screen = app.screen
        burst(app, "slash", *typed("folk"))
        await quiet(app, pilot)
        assert screen.query_one("#filter", Input).value == "folk"
        assert screen.table.row_count == 1
    await workspace.close()


# --- the console --------------------------------------------------------------------


def console_of(app) -> ConsoleScreen:
    screen = app.screen
    assert isinstance(screen, ConsoleScreen), screen
    return screen


async def open_console(app, pilot, workspace, slug: str = "acme") -> ConsoleScreen:
    await quiet(app, pilot)
    app.push_screen(ConsoleScreen(await workspace.registry.get(slug)))
    await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
    await until(pilot, lambda: app.screen.connection is not None)
    await quiet(app, pilot)
    return console_of(app)


async def run_sql(app, pilot, sql: str) -> None:
    editor = console_of(app).query_one(SqlEditor)
    editor.load_text(sql)
    editor.focus()
    await pilot.press("ctrl+r")
    await until(pilot, lambda: not console_of(app).busy)
    await quiet(app, pilot)


async def test_f2_then_sql_and_ctrl_r_runs_that_sql(tmp_path: Path):
    """From the grid, `F2`, a statement and `ctrl+r` in one burst run that statement."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot, workspace)
        await run_sql(app, pilot, "SELECT 1")
        screen.query_one(SqlEditor).load_text("")
        await pilot.press("f3")
        await quiet(app, pilot)
        assert app.focused is screen.query_one(ResultGrid)
        burst(app, "f2", *typed("SELECT 6*7 AS answer"), "ctrl+r")
        await quiet(app, pilot)
        grid = screen.query_one(ResultGrid)
        assert screen.query_one(SqlEditor).text == "SELECT 6*7 AS answer"
        assert grid.result_columns == ("answer",) and grid.values == [(42,)]
    await workspace.close()


def many_rows(path: Path, count: int) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY, label TEXT)")
    db.executemany("INSERT INTO numbers VALUES (?, ?)", ((i, f"row {i}") for i in range(count)))
    db.commit()
    db.close()


async def test_pagedowns_in_a_burst_move_the_grid_as_far_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`F3` and 20 `pagedown` in one burst on a 5,000-row result: 20 pages, as one by one.

    The rows after the first chunk take a while to come (as from a remote tenant), so the
    keys outrun them.
    """
    from tursotui.console.runner import ResultCursor

    fetch = ResultCursor.fetch

    async def slow_fetch(self, *args, **kwargs):
        if self.loaded:
            await asyncio.sleep(0.2)
        return await fetch(self, *args, **kwargs)

    monkeypatch.setattr(ResultCursor, "fetch", slow_fetch)
    workspace, made = await three_tenants(tmp_path)
    many_rows(made["acme"][0], 5000)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot, workspace)
        grid = screen.query_one(ResultGrid)
        await run_sql(app, pilot, "SELECT * FROM numbers")
        page = grid.scrollable_content_region.height - 1
        assert grid.row_count < 20 * page + 1  # the burst goes past the rows loaded at first

        burst(app, "f3", *["pagedown"] * 20)
        await quiet(app, pilot)
        burst_at = (grid.cursor_row, grid.scroll_offset.y)
        assert app.focused is grid

        await run_sql(app, pilot, "SELECT * FROM numbers")
        await pilot.press("f3")
        for _ in range(20):
            await pilot.press("pagedown")
            await quiet(app, pilot)
        one_by_one = (grid.cursor_row, grid.scroll_offset.y)
        assert one_by_one[0] == 20 * page
        assert burst_at == one_by_one
        assert grid.values[grid.cursor_row][0] == 20 * page  # the row under the cursor
    await workspace.close()


async def test_f4_shows_and_hides_the_schema_panel_ctrl_b_too(tmp_path: Path):
    """`F4` (which reaches the app inside tmux) toggles the schema panel; `ctrl+b` still does."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot, workspace)
        panel = screen.query_one(SchemaPanel)
        shown = panel.display
        await pilot.press("f4")
        assert panel.display is not shown
        await pilot.press("f4")
        assert panel.display is shown
        await pilot.press("ctrl+b")
        assert panel.display is not shown
        assert "F4" in screen_text(app) or "f4" in screen_text(app).lower()
    await workspace.close()


# --- lists ----------------------------------------------------------------------------


async def test_posts_pagedowns_in_a_burst_reach_as_far_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """20 `pagedown` in one burst on 3,000 drafts (pages of 50 fetched as needed): as one by one.

    Pages after the first take a while to come (as from a remote tenant), so the keys
    outrun them.
    """
    fetch = PostsScreen._fetch

    async def slow_fetch(self, tenant, wanted, after, **options):
        if after is not None:
            await asyncio.sleep(0.1)
        return await fetch(self, tenant, wanted, after, **options)

    monkeypatch.setattr(PostsScreen, "_fetch", slow_fetch)
    workspace, _ = await three_tenants(tmp_path, {"big": dict(drafts=3000)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_posts_of(app, pilot, workspace, "big")
        table = screen.query_one("#posts-table", RowList)
        assert table.row_count < 500
        burst(app, *["pagedown"] * 20)
        await quiet(app, pilot)
        burst_at = (table.cursor_row, table.scroll_offset.y)

        burst(app, "home")
        await quiet(app, pilot)
        assert (table.cursor_row, table.scroll_offset.y) == (0, 0)
        for _ in range(20):
            await pilot.press("pagedown")
            await quiet(app, pilot)
        one_by_one = (table.cursor_row, table.scroll_offset.y)
        page = table.scrollable_content_region.height - 1
        assert one_by_one[0] == 20 * page
        assert burst_at == one_by_one
    await workspace.close()


async def test_s_then_sql_and_ctrl_r_runs_it_in_the_new_console(tmp_path: Path):
    """On the tenants screen, `s`, a statement and `ctrl+r` in one burst: the console runs it
    once connected (the text is in the editor, not in the schema panel or lost)."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await quiet(app, pilot)
        burst(app, "s", *typed("SELECT 6*7 AS answer"))
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        await until(pilot, lambda: app.screen.connection is not None)
        await quiet(app, pilot)
        screen = console_of(app)
        assert screen.query_one(SqlEditor).text == "SELECT 6*7 AS answer"
        burst(app, "ctrl+r")
        await until(pilot, lambda: screen.query_one(ResultGrid).values == [(42,)])
    await workspace.close()


async def test_f8_search_enter_and_ctrl_r_run_the_statement_found(tmp_path: Path):
    """`F8`, words, `enter` and `ctrl+r` in one burst run the statement the words found."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot, workspace)
        await run_sql(app, pilot, "SELECT count(*) AS users FROM users")
        await run_sql(app, pilot, "SELECT 1 AS one")
        burst(app, "f8", *typed("users"), "enter", "ctrl+r")
        await quiet(app, pilot)
        assert app.screen is screen
        assert screen.query_one(SqlEditor).text == "SELECT count(*) AS users FROM users"
        assert screen.query_one(ResultGrid).result_columns == ("users",)
    await workspace.close()


async def test_n_then_a_slug_goes_into_the_new_tenant_dialog(tmp_path: Path):
    """`n` and a slug in one burst: the whole slug is in the dialog's slug field."""
    from tursotui.ui.screens.new_tenant import NewTenantScreen

    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await quiet(app, pilot)
        burst(app, "n", *typed("newco"))
        await quiet(app, pilot)
        assert isinstance(app.screen, NewTenantScreen)
        assert app.screen.query_one("#slug", Input).value == "newco"
    await workspace.close()


async def test_a_key_never_runs_a_binding_of_a_screen_it_was_not_sent_to(tmp_path: Path):
    """A key that opens a screen on its way up must not also run that new screen's binding."""
    from textual.app import ComposeResult
    from textual.screen import Screen
    from textual.widgets import Static

    ran: list[str] = []

    class Opener(Static, can_focus=True):
        def on_key(self, event: events.Key) -> None:
            if event.key == "x":  # opens a screen, and lets the key go on up
                self.app.push_screen(Other())

    class First(Screen[None]):
        BINDINGS = [("x", "mark('first')")]

        def compose(self) -> ComposeResult:
            yield Opener("opener")

        def action_mark(self, name: str) -> None:
            ran.append(name)

    class Other(First):
        BINDINGS = [("x", "mark('other')")]

        def compose(self) -> ComposeResult:
            yield Static("other")

    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await quiet(app, pilot)
        app.push_screen(First())
        await quiet(app, pilot)
        burst(app, "x")
        await quiet(app, pilot)
        assert isinstance(app.screen, Other)
        assert "other" not in ran
    await workspace.close()


async def test_f_slash_and_words_search_the_fleet(tmp_path: Path):
    """On the tenants screen, `f`, `/` and words in one burst: the words are in the fleet's
    search box (the fleet screen opened between them)."""
    from tursotui.ui.screens.fleet import FleetScreen

    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await quiet(app, pilot)
        burst(app, "f", "slash", *typed("draft 1"))
        await quiet(app, pilot)
        assert isinstance(app.screen, FleetScreen)
        box = app.screen.query_one("#fleet-search", Input)
        assert box.value == "draft 1" and app.focused is box
    await workspace.close()


async def test_help_lists_f4_for_the_schema_panel(tmp_path: Path):
    """The console's help (`F1`: `?` is a character there) names F4 for the schema panel."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_console(app, pilot, workspace)
        await pilot.press("f3", "f1")
        await quiet(app, pilot)
        lines = [line.lower() for line in screen_text(app).splitlines() if "schema panel" in line]
        assert any("f4" in line for line in lines), lines
    await workspace.close()


async def test_comments_pagedowns_in_a_burst_reach_as_far_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """20 `pagedown` in one burst on a post's 2,000 comments (fetched a page at a time, slowly)."""
    from tursotui.tenant import moderation
    from tursotui.ui.screens.post import PostScreen

    fetch = moderation.fetch_comments

    async def slow_fetch(conn, post_id, *, after=None, **kwargs):
        if after is not None:
            await asyncio.sleep(0.1)
        return await fetch(conn, post_id, after=after, **kwargs)

    monkeypatch.setattr(moderation, "fetch_comments", slow_fetch)
    workspace, made = await three_tenants(
        tmp_path, {"chatty": dict(drafts=1, comments_per_post=2000)}
    )
    (post_id,) = made["chatty"][1]["draft"]
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await quiet(app, pilot)
        app.push_screen(PostScreen(await workspace.registry.get("chatty"), post_id))
        await quiet(app, pilot)
        table = app.screen.query_one("#post-comments", RowList)
        assert app.focused is table and table.row_count < 500
        page = table.scrollable_content_region.height - 1
        burst(app, *["pagedown"] * 20)
        await quiet(app, pilot)
        burst_at = (table.cursor_row, table.scroll_offset.y)

        burst(app, "home")
        await quiet(app, pilot)
        for _ in range(20):
            await pilot.press("pagedown")
            await quiet(app, pilot)
        one_by_one = (table.cursor_row, table.scroll_offset.y)
        assert one_by_one[0] == 20 * page
        assert burst_at == one_by_one
    await workspace.close()


async def test_a_paste_right_after_t_goes_into_the_tenant_filter(tmp_path: Path):
    """`t` then a bracketed paste, at once: the pasted name is in the filter."""
    workspace, _ = await three_tenants(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await on_posts_of(app, pilot, workspace)
        burst(app, "t")
        app.post_message(events.Paste("umb"))
        burst(app, "r")
        await quiet(app, pilot)
        assert isinstance(app.screen, TenantsScreen)
        assert app.screen.query_one("#filter", Input).value == "umbr"
    await workspace.close()


@pytest.mark.parametrize("delay", [0.0, 0.03])
async def test_filter_keys_and_moves_in_a_burst_end_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delay: float
):
    """Filter keys mixed with moves and a mark, in one burst: each filter's first page is shown
    by the task that reads it, and the keys after it act on that page, as typed slowly (also
    when first pages take a while, as from a remote tenant, and the keys outrun them)."""
    fetch = PostsScreen._fetch

    async def slow_fetch(self, tenant, wanted, after, **options):
        if after is None and delay:
            await asyncio.sleep(delay)
        return await fetch(self, tenant, wanted, after, **options)

    monkeypatch.setattr(PostsScreen, "_fetch", slow_fetch)
    workspace, _ = await three_tenants(tmp_path, published=40, archived=5)
    app = make_test_app(workspace)
    keys = [
        "2",
        "down",
        "down",
        "3",
        "down",
        "2",
        "down",
        "space",
        "1",
        "down",
        "2",
        "down",
        "space",
    ]
    async with app.run_test(size=SIZE) as pilot:
        screen = await on_posts_of(app, pilot, workspace)
        table = screen.query_one("#posts-table", RowList)
        burst(app, *keys)
        await quiet(app, pilot)
        at_once = (screen.post_filter.status, table.cursor_row, table.cursor_key, screen.marked)
        shown = screen_text(app)

        burst(app, "1")  # (a filter key forgets the marks)
        await quiet(app, pilot)
        for key in keys:
            await pilot.press(key)
            await quiet(app, pilot)
        one_by_one = (screen.post_filter.status, table.cursor_row, table.cursor_key, screen.marked)
        assert at_once == one_by_one
        assert at_once[0] == "published" and at_once[1] == 2 and len(at_once[3]) == 1
        assert "published" in shown and shown == screen_text(app)
    await workspace.close()


class _Asking(ModalScreen[None]):
    def compose(self):
        yield Input(id="asked")


async def test_a_screen_raised_without_a_key_takes_the_keys_a_list_held(tmp_path: Path):
    """A posts list holds the keys typed after it opens until its first page is in (they act
    on that page). Opened without a key (nothing typed lets the hold go), it must not keep
    them from a screen that comes up next, here a dialog with an input: the hold belongs to
    a list the user no longer sees."""
    workspace, _ = await three_tenants(tmp_path, published=40, archived=5)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await on_posts_of(app, pilot, workspace)
        app.push_screen(_Asking())
        asked = await _asked(app, pilot)
        burst(app, *"abc")
        # Well within the hold's time limit: a hold left behind would keep them till then.
        await until(pilot, lambda: asked.value == "abc", timeout=HOLD_S / 2)
    await workspace.close()


async def _asked(app, pilot) -> Input:
    await until(pilot, lambda: isinstance(app.focused, Input) and app.focused.id == "asked")
    return app.screen.query_one("#asked", Input)
