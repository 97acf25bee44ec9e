"""Screens never show stale state: after a write anywhere, each screen shows the database when it
is shown again, and every reload keeps the cursor on the same item (tenant, post, queue row)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.moderation_fixtures import make_test_app, rows, settle, workspace_with
from support.screen import screen_text, until
from tursotui.ui.screens.fleet import FleetScreen
from tursotui.ui.screens.post import PostScreen
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.screens.queue import QueueScreen
from tursotui.ui.screens.tenants import TenantsScreen
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.sortable_list import SortableList

SIZE = (100, 30)

NEWEST_FIRST = "ORDER BY published_at IS NULL, published_at DESC, rowid DESC"


def db_ids(path: Path, status: str) -> list[str]:
    """A status's posts in the order the list shows them (newest first), from the file."""
    return [
        r[0] for r in rows(path, f"SELECT id FROM posts WHERE status = ? {NEWEST_FIRST}", (status,))
    ]


def db_counts(path: Path) -> dict[str, int]:
    return dict(rows(path, "SELECT status, count(*) FROM posts GROUP BY status"))


def posts_table(app) -> RowList:
    return app.screen.query_one("#posts-table", RowList)


def assert_posts_screen_is_the_database(app, path: Path, status: str) -> None:
    assert isinstance(app.screen, PostsScreen)
    assert posts_table(app).ordered_keys == db_ids(path, status)
    counts = db_counts(path)
    text = screen_text(app)
    for label, key in (("drafts", "draft"), ("published", "published"), ("archived", "archived")):
        assert f"{label} {counts.get(key, 0)}" in text
    assert f"all {sum(counts.values())}" in text


async def _posts_app(tmp_path: Path, **spec):
    workspace, made = await workspace_with(tmp_path, {"acme": spec})
    return workspace, made["acme"], make_test_app(workspace)


# --- item 8: after a write anywhere, every screen shows the database -----------------------


async def test_publish_then_draft_on_the_post_screen_in_one_burst_puts_it_back_in_the_list(
    tmp_path,
):
    workspace, (path, ids), app = await _posts_app(tmp_path, drafts=4, published=2)
    target = ids["draft"][1]
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
        await settle(app, pilot)
        await pilot.press("j", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostScreen) and app.screen.post_id == target
        for key in ("p", "u"):  # one burst: both act, in order
            app.simulate_key(key)
        await settle(app, pilot)
        assert rows(path, "SELECT status, published_at FROM posts WHERE id = ?", (target,)) == [
            ("draft", None)
        ]
        assert [e.action for e in workspace.audit.entries() if e.status == "ok"] == [
            "publish",
            "draft",
        ]
        await pilot.press("escape")
        await settle(app, pilot)
        assert_posts_screen_is_the_database(app, path, "draft")
        assert target in posts_table(app).ordered_keys
        assert posts_table(app).cursor_key == target  # the cursor is back on it
    await workspace.close()


async def test_draft_publish_archive_burst_leaves_list_and_counts_right(tmp_path):
    workspace, (path, ids), app = await _posts_app(tmp_path, drafts=3, published=2)
    target = ids["draft"][0]
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        for key in ("u", "p", "a", "escape"):  # one burst
            app.simulate_key(key)
        await settle(app, pilot)
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (target,)) == [("archived",)]
        assert_posts_screen_is_the_database(app, path, "draft")
        await pilot.press("3")
        await settle(app, pilot)
        assert_posts_screen_is_the_database(app, path, "archived")
        # `u` on a draft changed nothing, so only the two real changes are in the log.
        assert [e.action for e in workspace.audit.entries() if e.status == "ok"] == [
            "publish",
            "archive",
        ]
    await workspace.close()


async def test_publish_then_draft_in_one_burst_on_the_list_shows_the_database(tmp_path):
    workspace, (path, _ids), app = await _posts_app(tmp_path, drafts=4, published=1)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
        await settle(app, pilot)
        for key in ("j", "p", "u"):  # one burst: no waiting between the keys
            app.simulate_key(key)
        await settle(app, pilot)
        # However the keys fell (u on the post p published, or on the next one), the list
        # and its counts are the database's.
        assert_posts_screen_is_the_database(app, path, "draft")
        assert workspace.audit.generation("acme") >= 1
    await workspace.close()


async def test_the_tenants_screen_counts_follow_a_write_made_on_the_posts_screen(tmp_path):
    workspace, (path, _ids), app = await _posts_app(tmp_path, drafts=3, published=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        tenants = app.screen
        assert isinstance(tenants, TenantsScreen)
        assert tenants.health_of("acme").counts == {"draft": 3, "published": 1, "archived": 0}
        await pilot.press("enter")  # acme's drafts
        await settle(app, pilot)
        await pilot.press("p", "p", "escape")
        await settle(app, pilot)
        assert app.screen is tenants
        assert db_counts(path) == {"draft": 1, "published": 3}
        assert tenants.health_of("acme").counts == {**db_counts(path), "archived": 0}
        cells = tenants.table.get_row("acme")
        assert [c.plain for c in cells[3:6]] == ["1", "3", "0"]
    await workspace.close()


async def test_the_fleet_row_follows_a_write_made_on_the_posts_screen(tmp_path):
    workspace, (path, _ids), app = await _posts_app(tmp_path, drafts=3, published=1)
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(FleetScreen())
        await settle(app, pilot)
        fleet = app.screen
        table = fleet.query_one("#fleet-table", SortableList)
        assert str(table.get_cell("0", "draft")) == "3"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostsScreen)
        await pilot.press("a", "escape")
        await settle(app, pilot)
        assert app.screen is fleet
        assert db_counts(path) == {"draft": 2, "published": 1, "archived": 1}
        assert [str(table.get_cell("0", c)) for c in ("draft", "published", "archived")] == [
            "2",
            "1",
            "1",
        ]
    await workspace.close()


async def test_the_queue_follows_a_write_made_on_the_post_screen(tmp_path):
    workspace, (path, ids), app = await _posts_app(tmp_path, drafts=3)
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(QueueScreen())
        await settle(app, pilot)
        queue = app.screen
        assert len(queue.items) == 3
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostScreen)
        published = app.screen.post_id
        await pilot.press("p", "escape")
        await settle(app, pilot)
        assert app.screen is queue
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (published,)) == [("published",)]
        assert sorted(key.split("\x00")[1] for key in queue.items) == sorted(
            set(ids["draft"]) - {published}
        )
    await workspace.close()


# --- item 9: every reload keeps the cursor on the same item -----------------------------------


async def test_r_on_the_tenants_screen_keeps_the_cursor_on_its_tenant(tmp_path):
    workspace, _made = await workspace_with(
        tmp_path, {"alpha": dict(drafts=1), "bravo": dict(drafts=2), "charlie": dict(drafts=3)}
    )
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        tenants = app.screen
        await pilot.press("down", "down")
        assert tenants.highlighted().tenant.slug == "charlie"
        await workspace.registry.remove("alpha")  # someone else, meanwhile
        await pilot.press("r")
        await settle(app, pilot)
        assert tenants.highlighted().tenant.slug == "charlie"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostsScreen) and app.screen.tenant.slug == "charlie"
        await pilot.press("escape")
        await settle(app, pilot)
        await workspace.registry.remove("charlie")  # the tenant itself goes: its row's place
        await pilot.press("r")
        await settle(app, pilot)
        assert tenants.highlighted().tenant.slug == "bravo"
    await workspace.close()


async def test_r_on_the_posts_screen_keeps_the_cursor_on_its_post(tmp_path):
    workspace, (path, _ids), app = await _posts_app(tmp_path, drafts=120)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
        await settle(app, pilot)
        await pilot.press(*["pagedown"] * 3, "j")
        await settle(app, pilot)
        target = posts_table(app).cursor_key
        row = posts_table(app).cursor_row
        assert row > 60  # past the first page
        db = sqlite3.connect(path)  # a newer draft arrives on top, meanwhile
        db.execute(
            "INSERT INTO posts SELECT 'newer', 'newer', 'x', author_id, NULL, 'draft' "
            "FROM posts LIMIT 1"
        )
        db.commit()
        await pilot.press("r")
        await settle(app, pilot)
        assert posts_table(app).cursor_key == target
        assert posts_table(app).ordered_keys[: row + 2] == db_ids(path, "draft")[: row + 2]
        db.execute("DELETE FROM posts WHERE id = ?", (target,))  # now it goes
        db.commit()
        db.close()
        await pilot.press("r")
        await settle(app, pilot)
        after = db_ids(path, "draft")
        assert posts_table(app).cursor_key == after[row + 1]  # the post that took its place
    await workspace.close()


async def test_r_on_the_fleet_and_the_queue_keeps_the_cursor_on_its_item(tmp_path):
    workspace, made = await workspace_with(
        tmp_path, {"alpha": dict(drafts=2), "bravo": dict(drafts=2), "charlie": dict(drafts=2)}
    )
    app = make_test_app(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(FleetScreen())
        await settle(app, pilot)
        await pilot.press("j", "j")
        assert app.screen.current_tenant().slug == "charlie"
        await workspace.registry.remove("alpha")
        await pilot.press("r")
        await settle(app, pilot)
        assert app.screen.current_tenant().slug == "charlie"
        await pilot.press("escape")
        app.push_screen(QueueScreen())
        await settle(app, pilot)
        queue = app.screen
        await pilot.press("j", "j")
        await settle(app, pilot)
        target = queue.current_key()
        path = made["bravo"][0]
        db = sqlite3.connect(path)  # a new draft that sorts first, meanwhile
        db.execute(
            "INSERT INTO posts SELECT 'newest', 'newest', 'x', author_id, 4000000000, 'draft' "
            "FROM posts LIMIT 1"
        )
        db.commit()
        db.close()
        await pilot.press("r")
        await settle(app, pilot)
        assert "bravo\x00newest" in queue.items
        assert queue.current_key() == target
    await workspace.close()


async def test_a_console_write_shows_on_the_posts_list_and_tenants_counts(tmp_path):
    from tursotui.ui.screens.confirm import ConfirmScreen
    from tursotui.ui.screens.console import ConsoleScreen
    from tursotui.ui.widgets.sql_editor import SqlEditor

    workspace, (path, _ids), app = await _posts_app(tmp_path, drafts=3, published=2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        tenants = app.screen
        await pilot.press("enter")  # acme's drafts
        await settle(app, pilot)
        posts = app.screen
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        console = app.screen
        await until(pilot, lambda: console.connection is not None)
        editor = console.query_one(SqlEditor)
        editor.load_text("UPDATE posts SET status = 'archived' WHERE rowid = 1")
        editor.focus()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: app.screen is console and not console.busy)
        assert db_counts(path) == {"draft": 2, "published": 2, "archived": 1}
        app.pop_screen()
        await settle(app, pilot)
        assert app.screen is posts
        assert_posts_screen_is_the_database(app, path, "draft")
        app.pop_screen()
        await settle(app, pilot)
        assert app.screen is tenants
        assert tenants.health_of("acme").counts == db_counts(path)
    await workspace.close()
