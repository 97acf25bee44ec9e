"""The post screen: full literal content, comments paged newest first, deleting comments."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

from textual.widgets import Log

from support.moderation_fixtures import (
    BASE_TIME,
    make_test_app,
    rows,
    settle,
    until_confirm,
    workspace_with,
)
from support.screen import screen_text
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.post import PostScreen, wrap_lines
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.widgets.row_list import RowList


async def _post_app(tmp_path: Path, *, read_only: bool = False, comments: int = 3):
    workspace, made = await workspace_with(
        tmp_path, {"acme": dict(published=2, comments_per_post=comments)}, read_only=read_only
    )
    path, ids = made["acme"]
    return workspace, path, ids, make_test_app(workspace)


async def _open_post(app, pilot, workspace, post_id):
    tenant = await workspace.registry.get("acme")
    app.push_screen(PostScreen(tenant, post_id))
    await settle(app, pilot)
    return app.screen


def _comment_ids(app) -> list[str]:
    return app.screen.query_one("#post-comments", RowList).ordered_keys


async def test_post_shows_metadata_content_and_comments_newest_first(tmp_path):
    workspace, _path, ids, app = await _post_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_post(app, pilot, workspace, ids["published"][0])
        text = screen_text(app)
        assert "published 1" in text and "body of published 1" in text
        assert "Author 1" in text and "3 comments" in text
        assert text.index("comment 2 on") < text.index("comment 1 on") < text.index("comment 0 on")
    await workspace.close()


async def test_x_deletes_the_current_comment_after_confirmation(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path)
    post_id = ids["published"][0]
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_post(app, pilot, workspace, post_id)
        first = _comment_ids(app)[0]
        await pilot.press("x")
        await until_confirm(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "comment 2 on published 1" in screen_text(app)
        await pilot.press("escape")  # cancelled
        await settle(app, pilot)
        assert rows(path, "SELECT count(*) FROM comments WHERE post_id = ?", (post_id,)) == [(3,)]
        await pilot.press("x")
        await until_confirm(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert rows(path, "SELECT count(*) FROM comments WHERE id = ?", (first,)) == [(0,)]
        assert first not in _comment_ids(app) and len(_comment_ids(app)) == 2
        assert "2 comments" in screen_text(app)
        last = workspace.audit.entries()[-1]
        assert (last.action, last.status, last.row_ids) == ("delete-comment", "ok", [first])
    await workspace.close()


async def test_marked_comments_are_deleted_together(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path, comments=4)
    post_id = ids["published"][1]
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_post(app, pilot, workspace, post_id)
        shown = _comment_ids(app)
        await pilot.press("space", "j", "space")  # rows 0 and 2
        await pilot.press("x")
        await until_confirm(app, pilot)
        assert "Delete 2 comments?" in screen_text(app)
        await pilot.press("y")
        await settle(app, pilot)
        left = {r[0] for r in rows(path, "SELECT id FROM comments WHERE post_id = ?", (post_id,))}
        assert left == {shown[1], shown[3]}
        assert _comment_ids(app) == [shown[1], shown[3]]
    await workspace.close()


async def test_publish_archive_draft_keys_on_the_post(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path)
    post_id = ids["published"][0]
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_post(app, pilot, workspace, post_id)
        for key, status in (("a", "archived"), ("u", "draft"), ("p", "published")):
            await pilot.press(key)
            await settle(app, pilot)
            assert rows(path, "SELECT status FROM posts WHERE id = ?", (post_id,)) == [(status,)]
            assert status in screen_text(app)
    await workspace.close()


async def test_post_moderation_updates_the_posts_list_below(tmp_path):
    workspace, _path, ids, app = await _post_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="published"))
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, PostsScreen)
        assert app.screen.query_one("#posts-table", RowList).ordered_keys == [ids["published"][1]]
        assert "archived 1" in screen_text(app)
    await workspace.close()


async def test_read_only_delete_explains_and_deletes_nothing(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path, read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_post(app, pilot, workspace, ids["published"][0])
        await pilot.press("x", "p")
        await settle(app, pilot)
        assert sum("read-only" in n.message for n in app._notifications) == 2
        assert rows(path, "SELECT count(*) FROM comments") == [(6,)]
    await workspace.close()


async def test_comments_are_paged(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path, comments=0)
    post_id = ids["published"][0]
    db = sqlite3.connect(path)
    author = db.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
    db.executemany(
        "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
        [(str(uuid.uuid4()), f"c{i}", post_id, author, BASE_TIME + i) for i in range(120)],
    )
    db.commit()
    db.close()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_post(app, pilot, workspace, post_id)
        assert len(_comment_ids(app)) == 50
        for _ in range(3):
            await pilot.press("ctrl+end")
            await settle(app, pilot)
        assert len(_comment_ids(app)) == 120
    await workspace.close()


async def test_hostile_and_huge_content_is_literal_and_opens_quickly(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path)
    post_id = ids["published"][0]
    huge = "[bold red]not bold[/] \x1b[2J cleared? \u202e rtl " + ("lorem ipsum " * 90_000)
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET content = ?, title = '[/]' WHERE id = ?", (huge, post_id))
    db.commit()
    db.close()
    async with app.run_test(size=(80, 24)) as pilot:
        started = time.perf_counter()
        await _open_post(app, pilot, workspace, post_id)
        assert time.perf_counter() - started < 8  # a TextArea took > 5 s here
        text = screen_text(app)
        assert "[bold red]not bold[/]" in text and "␛[2J" in text and "<RLO>" in text
        assert "\x1b" not in text and "[/]" in text
        log = app.screen.query_one("#post-content", Log)
        assert log.line_count > 10_000  # the whole body, wrapped
        log.focus()
        started = time.perf_counter()
        await pilot.press(*["pagedown"] * 5)
        await pilot.pause()
        assert time.perf_counter() - started < 4  # a TextArea: > 2 s per key
        assert "lorem ipsum" in screen_text(app)
    await workspace.close()


def test_wrap_lines_breaks_long_lines_and_keeps_newlines():
    assert wrap_lines("a\n\nb", 10) == ["a", "", "b"]
    lines = wrap_lines("word " * 10, 12)
    assert all(len(line) <= 12 for line in lines) and "".join(lines) == "word " * 10
    assert wrap_lines("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


async def test_nulls_where_the_schema_says_not_null_are_shown_not_crashed_on(tmp_path):
    """A hand-edited tenant: NULL title, content, status and author; a blob title."""
    workspace, path, ids, app = await _post_app(tmp_path)
    db = sqlite3.connect(path)
    db.executescript(
        "PRAGMA foreign_keys = OFF;"
        "CREATE TABLE posts2 AS SELECT * FROM posts; DROP TABLE posts;"
        "ALTER TABLE posts2 RENAME TO posts;"
    )
    first, second = ids["published"]
    db.execute(
        "UPDATE posts SET title = NULL, content = NULL, status = NULL, author_id = NULL "
        "WHERE id = ?",
        (first,),
    )
    db.execute("UPDATE posts SET title = x'00ff10' WHERE id = ?", (second,))
    db.execute("UPDATE comments SET created_at = 'yesterday'")
    db.commit()
    db.close()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status=None))
        await settle(app, pilot)
        text = screen_text(app)
        assert "NULL" in text and "<blob 3 bytes: 00 ff 10>" in text
        assert "other 1" in text  # the NULL status, counted under "all"
        await _open_post(app, pilot, workspace, first)
        text = screen_text(app)
        assert text.count("NULL") >= 3 and "yesterday" in text
        await pilot.press("p")  # a NULL status is guarded with IS NULL
        await settle(app, pilot)
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (first,)) == [("published",)]
    await workspace.close()


async def test_s_opens_the_sql_console_on_this_tenant_and_help_lists_the_keys(tmp_path):
    workspace, _path, _ids, app = await _post_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme")))
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "ConsoleScreen"
        assert app.screen.tenant.slug == "acme"
        app.pop_screen()  # (escape belongs to the console's editor first)
        await settle(app, pilot)
        assert isinstance(app.screen, PostsScreen)
        await pilot.press("question_mark")
        await settle(app, pilot)
        text = screen_text(app)
        assert "Publish" in text and "To draft" in text and "Mark" in text
    await workspace.close()


async def test_content_wraps_again_when_the_terminal_grows(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path)
    post_id = ids["published"][0]
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET content = ? WHERE id = ?", ("word " * 200, post_id))
    db.commit()
    db.close()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_post(app, pilot, workspace, post_id)
        log = app.screen.query_one("#post-content", Log)
        narrow = log.line_count
        await pilot.resize_terminal(160, 50)
        await settle(app, pilot)
        assert log.line_count < narrow / 1.8
    await workspace.close()
