"""The posts screen, driven by the documented keys; asserts on the screen and the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from support.moderation_fixtures import make_test_app, rows, settle, until_confirm, workspace_with
from support.screen import screen_text
from tursotui.tenant.moderation import PostFilter
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.post import PostScreen
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.widgets.row_list import RowList

"""The sqld fixtures (`own_sqld`, `slow_proxy`) live in moderation_fixtures."""


async def _open(tmp_path: Path, spec: dict, *, read_only: bool = False, size=(100, 30)):
    workspace, made = await workspace_with(tmp_path, {"acme": spec}, read_only=read_only)
    app = make_test_app(workspace)
    return workspace, made["acme"], app


def _table(app) -> RowList:
    return app.screen.query_one("#posts-table", RowList)


def _shown_ids(app) -> list[str]:
    return _table(app).ordered_keys


async def _start(app, pilot, workspace, status="draft"):
    tenant = await workspace.registry.get("acme")
    app.push_screen(PostsScreen(tenant, status=status))
    await settle(app, pilot)
    return app.screen


async def test_filters_show_counts_and_newest_first(tmp_path):
    workspace, (_path, ids), app = await _open(tmp_path, dict(drafts=3, published=4, archived=2))
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace)
        text = screen_text(app)
        assert "drafts 3" in text and "published 4" in text and "archived 2" in text
        assert "all 9" in text and "Acme" in text
        assert _shown_ids(app) == ids["draft"]
        await pilot.press("2")
        await settle(app, pilot)
        assert _shown_ids(app) == ids["published"]
        text = screen_text(app)
        assert "Author 0" in text and "published 3" in text
        assert text.index("published 3") < text.index("published 0")  # newest first
        await pilot.press("3")
        await settle(app, pilot)
        assert _shown_ids(app) == ids["archived"]
        await pilot.press("0")
        await settle(app, pilot)
        assert len(_shown_ids(app)) == 9
    await workspace.close()


async def test_publish_current_row_updates_screen_database_counts_and_audit(tmp_path):
    workspace, (path, ids), app = await _open(tmp_path, dict(drafts=3, published=1))
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace)
        target = ids["draft"][0]
        await pilot.press("p")
        await settle(app, pilot)
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (target,)) == [("published",)]
        ((published_at,),) = rows(path, "SELECT published_at FROM posts WHERE id = ?", (target,))
        assert 1_700_000_000 < published_at < 10_000_000_000  # seconds
        assert target not in _shown_ids(app)  # it left the drafts list at once
        text = screen_text(app)
        assert "drafts 2" in text and "published 2" in text
        last = workspace.audit.entries()[-1]
        assert (last.action, last.status, last.row_ids) == ("publish", "ok", [target])
    await workspace.close()


async def test_archive_and_back_to_draft_with_j_k(tmp_path):
    workspace, (path, ids), app = await _open(tmp_path, dict(published=3))
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace, status="published")
        await pilot.press("j", "j", "k")  # second row
        await pilot.press("a")
        await settle(app, pilot)
        second = ids["published"][1]
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (second,)) == [("archived",)]
        await pilot.press("3")
        await settle(app, pilot)
        assert _shown_ids(app) == [second]
        await pilot.press("u")
        await settle(app, pilot)
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (second,)) == [("draft",)]
        assert _shown_ids(app) == []
        assert [e.action for e in workspace.audit.entries() if e.status == "ok"] == [
            "archive",
            "draft",
        ]
    await workspace.close()


async def test_bulk_publish_of_marked_rows_asks_with_the_count(tmp_path):
    workspace, (path, ids), app = await _open(tmp_path, dict(drafts=5))
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace)
        await pilot.press("space", "j", "space", "space")  # marks rows 0, 2, 3
        await settle(app, pilot)
        assert "3 marked" in screen_text(app)
        await pilot.press("p")
        await until_confirm(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Publish 3 posts on Acme?" in screen_text(app)
        await pilot.press("n")  # declined: nothing written
        await settle(app, pilot)
        assert rows(path, "SELECT count(*) FROM posts WHERE status = 'draft'") == [(5,)]
        await pilot.press("p")
        await until_confirm(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        expected = {ids["draft"][i] for i in (0, 2, 3)}
        published = {r[0] for r in rows(path, "SELECT id FROM posts WHERE status = 'published'")}
        assert published == expected
        assert _shown_ids(app) == [ids["draft"][1], ids["draft"][4]]
        assert "0 marked" not in screen_text(app) and "drafts 2" in screen_text(app)
    await workspace.close()


async def test_conflict_is_reported_and_reloaded_not_overwritten(tmp_path):
    workspace, (path, _ids), app = await _open(tmp_path, dict(drafts=2))
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace, status=None)
        target = _shown_ids(app)[0]
        other = sqlite3.connect(path)  # the app that owns the data, meanwhile
        other.execute("UPDATE posts SET status = 'archived' WHERE id = ?", (target,))
        other.commit()
        other.close()
        await pilot.press("p")
        await settle(app, pilot)
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (target,)) == [("archived",)]
        assert "changed by someone else" in app.screen.feedback.plain  # in the status line
        first_row = _table(app).get_row_at(0)
        assert first_row[1].plain == "archived"  # reloaded as it is now
        assert workspace.audit.entries()[-1].row_ids == []
    await workspace.close()


async def test_read_only_write_keys_explain_and_write_nothing(tmp_path):
    workspace, (path, _ids), app = await _open(tmp_path, dict(drafts=2), read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace)
        await pilot.press("p", "a", "u")
        await settle(app, pilot)
        messages = [n.message for n in app._notifications]
        assert len([m for m in messages if "read-only" in m]) == 3
        assert "READ-ONLY" in screen_text(app)
        assert rows(path, "SELECT count(*) FROM posts WHERE status = 'draft'") == [(2,)]
        assert workspace.audit.entries() == []
    await workspace.close()


async def test_paging_down_shows_rows_fetched_ahead_and_never_loads_the_tenant(tmp_path):
    workspace, (_path, ids), app = await _open(tmp_path, dict(published=180))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _start(app, pilot, workspace, status="published")
        table = _table(app)
        visible = table.size.height - 1  # rows under the header line
        # The first page, and the next one fetched ahead of the view: not the tenant.
        assert len(_shown_ids(app)) == 100
        await pilot.press("pagedown")
        await settle(app, pilot)
        # A whole screenful further, the cursor at the same place on screen.
        assert (table.scroll_offset.y, table.cursor_row) == (visible, visible)
        text = screen_text(app)
        assert f"published {179 - visible} " in text and "published 179 " not in text
        await pilot.press("pagedown", "pagedown")
        await settle(app, pilot)
        # A screenful and more is still loaded below the view: the next page came ahead.
        assert len(_shown_ids(app)) - (3 * visible + visible) >= visible
        for _ in range(3):
            await pilot.press("ctrl+end")  # the cursor jumps to the last loaded row
            await settle(app, pilot)
        assert _shown_ids(app) == ids["published"]
        assert screen.next_page is None
        assert "180 of 180 posts shown" in screen_text(app)
    await workspace.close()


async def test_title_search_with_slash_and_escape_clears(tmp_path):
    workspace, (path, _ids), app = await _open(tmp_path, dict(drafts=12))
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace)
        await pilot.press("slash", *"draft 1", "enter")
        await settle(app, pilot)
        titles = {
            rows(path, "SELECT title FROM posts WHERE id = ?", (i,))[0][0] for i in _shown_ids(app)
        }
        assert titles == {"draft 1", "draft 10", "draft 11"}
        await pilot.press("escape")
        await settle(app, pilot)
        assert len(_shown_ids(app)) == 12
    await workspace.close()


async def test_enter_opens_the_post(tmp_path):
    workspace, (_path, ids), app = await _open(tmp_path, dict(published=2, comments_per_post=1))
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace, status="published")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostScreen)
        assert app.screen.post_id == ids["published"][0]
        assert "body of published 1" in screen_text(app)
    await workspace.close()


async def test_a_tenant_without_tables_says_so(tmp_path):
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    path = tmp_path / "bare.db"
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    workspace = await Workspace.open(load_settings())
    await workspace.registry.add("bare", f"file:{path}", None, name="Bare")
    app = make_test_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("bare")))
        await settle(app, pilot)
        assert "does not have the expected tables" in screen_text(app)
    await workspace.close()


HOSTILE = [
    "[bold red]owned[/]",
    "\x1b[31mred\x1b[0m",
    "bell\x07",
    "rtl\u202eevil",
    "[/]",
]


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_hostile_content_renders_literally(tmp_path, size):
    workspace, (path, ids), app = await _open(tmp_path, dict(drafts=len(HOSTILE)))
    db = sqlite3.connect(path)
    for post_id, title in zip(sorted(ids["draft"]), HOSTILE, strict=True):
        db.execute("UPDATE posts SET title = ? WHERE id = ?", (title, post_id))
    db.execute("UPDATE users SET name = '[link=x]Mallory[/link]'")
    db.execute("UPDATE posts SET status = '[blink]weird[/]' WHERE title = 'bell\x07'")
    db.commit()
    db.close()
    async with app.run_test(size=size) as pilot:
        await _start(app, pilot, workspace, status=None)
        text = screen_text(app)
        assert "[bold red]owned[/]" in text
        assert "␛[31mred␛[0m" in text and "\x1b" not in text
        assert "bell␇" in text and "<RLO>" in text and "\u202e" not in text
        assert "[link=x]Mal" in text
        assert "[blink]we" in text and "other 1" in text
    await workspace.close()


# -- the same on a tenant served by a real sqld -------------------------------------------


async def _remote_app(tmp_path: Path, proxy, spec: dict):
    from support.moderation_fixtures import fill_remote
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    ids = await fill_remote(proxy.url, **spec)
    workspace = await Workspace.open(load_settings())
    await workspace.registry.add("remote", proxy.url, None, name="Remote")
    return workspace, ids, make_test_app(workspace)


async def _start_remote(app, pilot, workspace, status="draft"):
    app.push_screen(PostsScreen(await workspace.registry.get("remote"), status=status))
    await settle(app, pilot)


@pytest.mark.servers
async def test_remote_publish_bulk_conflict_in_one_request(tmp_path, slow_proxy):
    """On sqld: bulk publish is one HTTP request; a conflict is reported, not overwritten."""
    from support.moderation_fixtures import remote_rows

    workspace, ids, app = await _remote_app(tmp_path, slow_proxy, dict(drafts=4, published=1))
    url = slow_proxy.url
    async with app.run_test(size=(100, 30)) as pilot:
        await _start_remote(app, pilot, workspace)
        assert _shown_ids(app) == ids["draft"]
        assert "REMOTE" in screen_text(app) and "drafts 4" in screen_text(app)
        await remote_rows(
            url, "UPDATE posts SET status = 'archived' WHERE id = ?", (ids["draft"][1],)
        )
        await pilot.press("space", "space", "space")  # rows 0, 1, 2
        await pilot.press("p")
        await until_confirm(app, pilot)
        slow_proxy.reset_count()
        await pilot.press("y")
        await settle(app, pilot)
        # the guarded batch (1 request), re-reading the rows (1), recounting (1)
        assert slow_proxy.requests == 3
        statuses = dict(await remote_rows(url, "SELECT id, status FROM posts"))
        assert statuses[ids["draft"][0]] == "published"
        assert statuses[ids["draft"][1]] == "archived"  # changed underneath: left alone
        assert statuses[ids["draft"][2]] == "published"
        assert statuses[ids["draft"][3]] == "draft"
        assert "changed by someone else" in app.screen.feedback.plain  # in the status line
        assert _shown_ids(app) == [ids["draft"][3]]
        last = workspace.audit.entries()[-1]
        assert last.status == "ok" and set(last.row_ids) == {ids["draft"][0], ids["draft"][2]}
    await workspace.close()


@pytest.mark.servers
async def test_remote_archive_draft_and_delete_comment(tmp_path, slow_proxy):
    """On sqld: archive, back to draft, and deleting a comment from the post screen."""
    from support.moderation_fixtures import remote_rows

    workspace, ids, app = await _remote_app(
        tmp_path, slow_proxy, dict(published=2, comments_per_post=2)
    )
    url = slow_proxy.url
    target = ids["published"][0]
    async with app.run_test(size=(100, 30)) as pilot:
        await _start_remote(app, pilot, workspace, status="published")
        await pilot.press("a")
        await settle(app, pilot)
        assert await remote_rows(url, "SELECT status FROM posts WHERE id = ?", (target,)) == [
            ("archived",)
        ]
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostScreen)
        await pilot.press("x")
        await until_confirm(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert await remote_rows(
            url, "SELECT count(*) FROM comments WHERE post_id = ?", (target,)
        ) == [(1,)]
        await pilot.press("u")
        await settle(app, pilot)
        assert await remote_rows(url, "SELECT status FROM posts WHERE id = ?", (target,)) == [
            ("draft",)
        ]
    await workspace.close()


@pytest.mark.servers
async def test_remote_tenant_that_stops_answering_reports_and_retries(tmp_path, slow_proxy):
    """A tenant that drops connections gives an error line with a retry, then `r` recovers."""
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    workspace, ids, app = await _remote_app(tmp_path, slow_proxy, dict(drafts=3))
    await workspace.close()
    workspace = await Workspace.open(load_settings())
    app = make_test_app(workspace)
    slow_proxy.drop()
    async with app.run_test(size=(100, 30)) as pilot:
        await _start_remote(app, pilot, workspace)
        assert "r retries" in screen_text(app)
        slow_proxy.pass_through()
        await pilot.press("r")
        await settle(app, pilot)
        assert _shown_ids(app) == ids["draft"]
    await workspace.close()


async def test_from_the_tenants_screen_enter_opens_posts_and_palette_offers_publish(tmp_path):
    """The whole path: tenants list → enter → posts; the palette lists the posts actions."""
    from tursotui.ui.app import make_app
    from tursotui.ui.commands import screen_commands

    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=2)})
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostsScreen)
        assert app.screen.tenant.slug == "acme"
        titles = {title for title, _, _ in screen_commands(app.screen)}
        assert {"posts: publish", "posts: archive", "posts: to draft", "posts: mark"} <= titles
        await pilot.press("p")
        await settle(app, pilot)
        path, ids = made["acme"]
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (ids["draft"][0],)) == [
            ("published",)
        ]
    await workspace.close()


async def test_layout_follows_the_terminal_width(tmp_path):
    """From 80 to 160 columns the title column grows and the rows stay."""
    workspace, (_path, ids), app = await _open(tmp_path, dict(drafts=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(app, pilot, workspace)
        narrow = _table(app).column_widths[2]
        await pilot.resize_terminal(160, 50)
        await settle(app, pilot)
        assert _table(app).column_widths[2] > narrow + 60
        assert _shown_ids(app) == ids["draft"]
    await workspace.close()


async def test_a_first_page_asked_for_early_is_not_shown_for_another_filter(tmp_path):
    """The screen asks for its first page as it is built; a filter set before it opens wins."""
    workspace, (_path, ids), app = await _open(tmp_path, dict(drafts=3, published=4))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = PostsScreen(await workspace.registry.get("acme"), status="draft")
        assert screen._early is not None  # asked for already
        screen.post_filter = PostFilter("published", None)
        app.push_screen(screen)
        await settle(app, pilot)
        assert _shown_ids(app) == ids["published"]
        assert "4 of 4 posts shown" in screen_text(app)
    await workspace.close()


async def test_a_title_with_nul_is_listed_whole_as_the_post_screen_shows_it(tmp_path):
    workspace, (path, ids), app = await _open(tmp_path, dict(drafts=1))
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET title = ? WHERE id = ?", ("cut\x00here", ids["draft"][0]))
    db.commit()
    db.close()
    async with app.run_test(size=(100, 30)) as pilot:
        await _start(app, pilot, workspace)
        assert "cut␀here" in screen_text(app)
    await workspace.close()


async def test_what_a_write_did_is_said_in_the_status_line_not_a_toast(tmp_path):
    """A toast sat over the rows being worked on for seconds after every action."""
    workspace, (path, _ids), app = await _open(tmp_path, dict(drafts=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(app, pilot, workspace)
        await pilot.press("p")
        await settle(app, pilot)
        assert rows(path, "SELECT count(*) FROM posts WHERE status = 'published'") == [(1,)]
        status = str(app.screen.query_one("#posts-status").render())
        assert "Published 1 post on acme." in status
        assert not app._notifications
    await workspace.close()
