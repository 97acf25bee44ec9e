"""Pilot tests of the fleet and queue screens: keys, what they show, what the databases hold."""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import DataTable, Static

from support import fleet_fixtures
from support.fleet_fixtures import BASE_TIME, add_local, fill, open_workspace, rows
from support.servers import free_port
from tursotui.ui.app import make_app
from tursotui.ui.screens.fleet import FleetScreen
from tursotui.ui.screens.queue import QueueScreen
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.sortable_list import SortableList

SIZE = (120, 30)

# The real server's fixtures, used by name below.
fleet_sqld = fleet_fixtures.fleet_sqld
slow_proxy = fleet_fixtures.slow_proxy


def cell_texts(table: SortableList | DataTable, column: str) -> list[str]:
    """A column's cells, top to bottom (the fleet's list, or the search's results)."""
    if isinstance(table, SortableList):
        return [table.get_cell(key, column).plain for key in table.ordered_keys]
    return [str(table.get_cell(row.key, column)) for row in table.ordered_rows]


QUEUE_COLUMNS = {"tenant": 1, "title": 3, "text": 2}
"""Where the queue list (a RowList, columns by position) shows what `cell_texts` names."""


def queue_texts(table: RowList, column: str) -> list[str]:
    return [table.get_row(key)[QUEUE_COLUMNS[column]].plain for key in table.ordered_keys]


def line_text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def _until_modal(pilot) -> None:
    from tursotui.ui.screens.confirm import ConfirmScreen

    for _ in range(200):
        if isinstance(pilot.app.screen, ConfirmScreen):
            return
        await pilot.pause(0.02)
    raise AssertionError("no confirmation appeared")


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_fleet_rows_fill_in_with_a_dead_tenant_shown_as_its_error() -> None:
    workspace = await open_workspace(timeout=2.0)
    try:
        fill(await add_local(workspace, "alpha"), drafts=2, published=1, comments=3)
        fill(await add_local(workspace, "beta", indexes=False), drafts=1, prefix="[red]x[/] ")
        await workspace.registry.add("dead", f"http://127.0.0.1:{free_port()}")
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f")
            await _settle(pilot)
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            table = screen.query_one("#fleet-table", SortableList)
            assert cell_texts(table, "tenant") == ["alpha", "beta", "dead"]
            assert cell_texts(table, "state") == ["ok", "ok", "down"]
            assert cell_texts(table, "draft") == ["2", "1", "—"]
            assert cell_texts(table, "comments") == ["3", "0", "—"]
            assert cell_texts(table, "schema") == ["current", "behind by 1", "—"]
            assert cell_texts(table, "indexes") == ["ok", "4 missing", "—"]
            assert "dead" in cell_texts(table, "error")[2]
            assert "3/3 tenants answered" in line_text(screen, "#fleet-progress")
            # Sort by the state column: the dead tenant first... then reverse.
            await pilot.press("o", "o")
            assert cell_texts(table, "tenant")[0] in {"alpha", "beta"}
            await pilot.press("O")
            assert cell_texts(table, "tenant")[0] == "dead"
    finally:
        await workspace.close()


async def test_creating_missing_indexes_from_the_fleet_asks_and_is_audited() -> None:
    workspace = await open_workspace()
    try:
        path = await add_local(workspace, "old", indexes=False)
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(FleetScreen())
            await _settle(pilot)
            await pilot.press("i")
            await _until_modal(pilot)
            await pilot.press("n")  # declined: nothing happens
            await _settle(pilot)
            assert rows(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_idx'") == [
                (0,)
            ]
            await pilot.press("i")
            await _until_modal(pilot)
            # The tenant is behind: the pending migration creates these indexes, so `i`
            # runs it rather than creating them under the migration's own names.
            question = str(app.screen.query_one("#confirm-message", Static).render())
            assert "migrate (0001_tursotui_indexes)" in question
            await pilot.press("y")
            await _settle(pilot)
            table = app.screen.query_one("#fleet-table", SortableList)
            assert cell_texts(table, "indexes") == ["ok"]
            assert cell_texts(table, "schema") == ["current"]
    finally:
        await workspace.close()
    assert rows(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_idx'") == [(4,)]
    assert rows(path, "SELECT count(*) FROM __drizzle_migrations") == [(2,)]
    entries = workspace.audit.entries()
    assert [(e.action, e.status) for e in entries] == [("migrate", "pending"), ("migrate", "ok")]


async def test_i_on_a_current_tenant_lacking_an_index_creates_it() -> None:
    workspace = await open_workspace()
    try:
        path = await add_local(workspace, "dropped")
        db = sqlite3.connect(path)
        db.execute("DROP INDEX posts_author_id_idx")
        db.commit()
        db.close()
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(FleetScreen())
            await _settle(pilot)
            await pilot.press("i")
            await _until_modal(pilot)
            await pilot.press("y")
            await _settle(pilot)
            assert cell_texts(app.screen.query_one("#fleet-table", SortableList), "indexes") == [
                "ok"
            ]
            # Said in the progress line, not in a toast over the rows.
            progress = line_text(app.screen, "#fleet-progress")
            assert "Created the missing indexes on 1 tenant." in progress
            assert not app._notifications
    finally:
        await workspace.close()
    assert [e.action for e in workspace.audit.entries()] == ["create-indexes"] * 2


async def test_search_across_tenants_lists_matches_from_each() -> None:
    workspace = await open_workspace()
    try:
        for slug in ("one", "two"):
            fill(await add_local(workspace, slug), drafts=2, prefix=f"{slug} needle ")
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(FleetScreen())
            await _settle(pilot)
            await pilot.press("slash", *"needle draft 1", "enter")
            await _settle(pilot)
            results = app.screen.query_one("#fleet-results", DataTable)
            assert sorted(cell_texts(results, "tenant")) == ["one", "two"]
            assert sorted(cell_texts(results, "match")) == [
                "one needle draft 1",
                "two needle draft 1",
            ]
            assert "2/2 tenants, 2 posts, 0 comments" in line_text(
                app.screen, "#fleet-search-status"
            )
    finally:
        await workspace.close()


async def test_queue_publishes_marked_drafts_on_their_own_tenants() -> None:
    workspace = await open_workspace()
    try:
        paths = {}
        for i, slug in enumerate(("a", "b")):
            paths[slug] = await add_local(workspace, slug)
            fill(paths[slug], drafts=3, start=BASE_TIME + i * 60, step=120, prefix=f"{slug} ")
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(FleetScreen())
            await _settle(pilot)
            await pilot.press("m")
            await _settle(pilot)
            screen = app.screen
            assert isinstance(screen, QueueScreen)
            table = screen.query_one("#queue-table", RowList)
            assert queue_texts(table, "tenant") == ["b", "a", "b", "a", "b", "a"]
            assert queue_texts(table, "title")[:2] == ["b draft 2", "a draft 2"]
            await pilot.press("space", "space", "p")  # marks b draft 2, a draft 2
            await pilot.pause()
            await pilot.press("y")
            await _settle(pilot)
            assert queue_texts(table, "title") == [
                "b draft 1",
                "a draft 1",
                "b draft 0",
                "a draft 0",
            ]
            status = line_text(screen, "#queue-status")
            assert "Published 2 posts on 2 tenants." in status  # not a toast over the rows
            assert not app._notifications
    finally:
        await workspace.close()
    for slug, path in paths.items():
        assert rows(path, "SELECT title FROM posts WHERE status = 'published'") == [
            (f"{slug} draft 2",)
        ]
    assert {e.tenant for e in workspace.audit.entries()} == {"a", "b"}


async def test_queue_comments_mode_deletes_spam_on_every_tenant() -> None:
    workspace = await open_workspace()
    try:
        paths = {}
        for i, slug in enumerate(("a", "b")):
            paths[slug] = await add_local(workspace, slug)
            fill(
                paths[slug],
                drafts=1,
                comments=2,
                start=BASE_TIME + i * 60,
                step=120,
                prefix=f"{slug} ",
            )
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(QueueScreen())
            await _settle(pilot)
            await pilot.press("2")
            await _settle(pilot)
            table = app.screen.query_one("#queue-table", RowList)
            assert queue_texts(table, "text") == [
                "b comment 1",
                "a comment 1",
                "b comment 0",
                "a comment 0",
            ]
            await pilot.press("space", "space", "x")
            await pilot.pause()
            await pilot.press("y")
            await _settle(pilot)
            assert queue_texts(table, "text") == ["b comment 0", "a comment 0"]
    finally:
        await workspace.close()
    for slug, path in paths.items():
        assert rows(path, "SELECT content FROM comments") == [(f"{slug} comment 0",)]


async def test_a_draft_changed_underneath_is_a_conflict_not_an_overwrite() -> None:
    workspace = await open_workspace()
    try:
        path = await add_local(workspace, "a")
        ids = fill(path, drafts=1, prefix="a ")
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(QueueScreen())
            await _settle(pilot)
            db = sqlite3.connect(path)
            db.execute("UPDATE posts SET status = 'archived'")
            db.commit()
            db.close()
            await pilot.press("p")
            await _settle(pilot)
            table = app.screen.query_one("#queue-table", RowList)
            assert table.row_count == 0  # it left the queue: it is no draft any more
    finally:
        await workspace.close()
    assert rows(path, "SELECT status FROM posts WHERE id = ?", (ids["draft"][0],)) == [
        ("archived",)
    ]


async def test_fleet_migration_skips_past_a_failing_tenant_which_stays_unchanged() -> None:
    from tursotui.ui.screens.fleet_migration import MigrationSummary

    workspace = await open_workspace()
    try:
        good = [await add_local(workspace, slug, indexes=False) for slug in ("a", "b")]
        bad = await add_local(workspace, "bad", indexes=False)
        current = await add_local(workspace, "done")
        db = sqlite3.connect(bad)
        # Something of the app's already has the name the index migration wants: it fails there.
        db.execute("CREATE TABLE posts_author_id_idx (x)")
        db.commit()
        db.close()
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(FleetScreen())
            await _settle(pilot)
            await pilot.press("M")
            for _ in range(20):
                await pilot.pause(0.05)
                if not isinstance(app.screen, FleetScreen):
                    break
            question = str(app.screen.query_one("#confirm-message", Static).render())
            assert "Migrate 3 of 4 tenants?" in question
            assert "done: already current" in question
            await pilot.press("y")
            for _ in range(100):
                await pilot.pause(0.05)
                if isinstance(app.screen, MigrationSummary):
                    break
            summary = app.screen
            assert isinstance(summary, MigrationSummary)
            lines = str(summary.query_one("#migration-lines", Static).render())
            assert "a: applied 1 (0001_tursotui_indexes)" in lines
            assert "bad: failed:" in lines and "posts_author_id_idx" in lines
            assert summary.title_text == "Migrated 2 tenants, 1 failed"
            await pilot.press("escape")
            await _settle(pilot)
            table = app.screen.query_one("#fleet-table", SortableList)
            assert cell_texts(table, "schema") == ["current", "current", "behind by 1", "current"]
    finally:
        await workspace.close()
    for path in good:
        assert rows(path, "SELECT count(*) FROM __drizzle_migrations") == [(2,)]
        assert rows(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_idx'") == [(4,)]
    assert rows(bad, "SELECT count(*) FROM __drizzle_migrations") == [(1,)]
    assert rows(
        bad, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE '%_idx'"
    ) == [(0,)]
    assert rows(current, "SELECT count(*) FROM __drizzle_migrations") == [(2,)]
    migrate_entries = [e for e in workspace.audit.entries() if e.action == "migrate"]
    assert sorted((e.tenant, e.status) for e in migrate_entries if e.status != "pending") == [
        ("a", "ok"),
        ("b", "ok"),
        ("bad", "failed"),
    ]


@pytest.mark.servers
async def test_cancel_keeps_the_rows_that_arrived_while_a_stalled_tenant_hangs(slow_proxy) -> None:
    workspace = await open_workspace(timeout=30.0)
    try:
        fill(await add_local(workspace, "fast"), drafts=2)
        slow_proxy.stall()
        await workspace.registry.add("stalled", slow_proxy.url)
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = FleetScreen()
            app.push_screen(screen)
            for _ in range(100):  # answers are painted a few times a second, with the count
                await pilot.pause(0.05)
                if "1/2 tenants answered" in line_text(screen, "#fleet-progress"):
                    break
            table = screen.query_one("#fleet-table", SortableList)
            assert cell_texts(table, "state") == ["ok", "…"]
            await pilot.press("c")
            await pilot.pause()
            # The stalled row says it was stopped, not `…` forever; the others stay.
            assert cell_texts(table, "state") == ["ok", "stop"]
            assert "stopped before it answered" in cell_texts(table, "error")[1]
            await pilot.press("down")
            assert "stopped before it answered" in line_text(screen, "#fleet-detail")
            await pilot.press("o")  # sorting keeps saying so
            assert cell_texts(table, "state") == ["ok", "stop"]
            assert cell_texts(table, "draft")[0] == "2"
            assert "cancelled" in line_text(screen, "#fleet-progress")
            assert not screen.asking
    finally:
        slow_proxy.pass_through()
        await workspace.close()


async def test_enter_on_a_queued_draft_opens_that_tenants_post() -> None:
    workspace = await open_workspace()
    try:
        for i, slug in enumerate(("a", "b")):
            fill(await add_local(workspace, slug), drafts=1, start=BASE_TIME + i, prefix=f"{slug} ")
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(QueueScreen())
            await _settle(pilot)
            await pilot.press("enter")
            await _settle(pilot)
            from tursotui.ui.screens.post import PostScreen

            assert isinstance(app.screen, PostScreen)
            assert app.screen.tenant.slug == "b"
    finally:
        await workspace.close()


async def test_at_80_columns_the_detail_line_shows_the_columns_left_out() -> None:
    workspace = await open_workspace()
    try:
        fill(await add_local(workspace, "alpha"), drafts=2, published=3, comments=1)
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(FleetScreen())
            await _settle(pilot)
            screen = app.screen
            table = screen.query_one("#fleet-table", SortableList)
            shown = set(table.column_keys)
            assert "published" not in shown and "newest" not in shown  # too narrow for them
            detail = line_text(screen, "#fleet-detail")
    finally:
        await workspace.close()
    assert "publ. 3" in detail and "arch. 0" in detail
    assert "ms " in detail and "newest 20" in detail


async def test_a_click_on_a_header_sorts_by_it_and_answers_keep_the_cursor_row() -> None:
    workspace = await open_workspace()
    try:
        for slug, drafts in (("few", 1), ("many", 4), ("some", 2)):
            fill(await add_local(workspace, slug), drafts=drafts)
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(FleetScreen())
            await _settle(pilot)
            screen = app.screen
            table = screen.query_one("#fleet-table", SortableList)
            keys = list(table.column_keys)
            x = sum(width + 2 for width in table.column_widths[: keys.index("draft")]) + 1
            await pilot.click("#fleet-table", offset=(x, 0))
            await pilot.pause()
            assert cell_texts(table, "tenant") == ["many", "some", "few"]  # most drafts first
            assert table.get_cell(table.ordered_keys[0], "draft").plain == "4"
            await pilot.click("#fleet-table", offset=(x, 0))  # again: the other way
            await pilot.pause()
            assert cell_texts(table, "tenant") == ["few", "some", "many"]
            # A new answer for the row under the cursor changes it in place: nothing moves.
            await pilot.press("down")
            key = table.cursor_key
            assert screen.current_tenant().slug == "some"
            fill(
                workspace.settings.data_dir / "tenants" / "some.db", drafts=3, start=BASE_TIME + 99
            )
            screen.ask_again(screen.token, [(key, screen.current_tenant())])
            await _settle(pilot)
            assert table.cursor_row == 1 and table.cursor_key == key
            assert table.get_cell(key, "draft").plain == "5"
            assert cell_texts(table, "tenant") == ["few", "some", "many"]
    finally:
        await workspace.close()
