"""The order of a posts list: "all" newest first like each status, oldest first on `o`, `end`
reading the far end at once; writes that change nothing; back to draft clears `published_at`."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from support.moderation_fixtures import (
    fill,
    fill_remote,
    make_tenant,
    make_test_app,
    remote_rows,
    rows,
    settle,
    workspace_with,
)
from support.screen import screen_text
from tursotui.db import connect
from tursotui.session.audit import AuditLog
from tursotui.tenant import moderation
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.widgets.row_list import RowList

NEWEST_FIRST = "ORDER BY published_at IS NULL, published_at DESC, rowid DESC"


def ordered(path: Path, status: str | None = None) -> list[str]:
    """The posts in the README's order (newest first), straight from the file."""
    where, args = ("WHERE status = ?", (status,)) if status else ("", ())
    return [r[0] for r in rows(path, f"SELECT id FROM posts {where} {NEWEST_FIRST}", args)]


@pytest.fixture
async def tenant(tmp_path: Path):
    path = tmp_path / "acme.db"
    await make_tenant(path)
    fill(path, drafts=9, published=11, archived=4)
    db = sqlite3.connect(path)
    # Statuses outside the app's three (no CHECK constraint) and dates out of insertion order.
    db.execute("UPDATE posts SET status = 'spam' WHERE rowid IN (3, 14)")
    db.execute("UPDATE posts SET status = 7 WHERE rowid = 22")
    db.execute("UPDATE posts SET published_at = 1600000000 WHERE rowid = 24")
    db.execute("UPDATE posts SET published_at = 1900000000 WHERE rowid = 2")
    db.commit()
    db.close()
    conn = await connect(f"file:{path}", name="acme")
    yield path, conn
    await conn.close()


async def pages(conn, status, limit, *, oldest_first=False, search=None) -> list[str]:
    seen, cursor = [], None
    while True:
        page = await moderation.fetch_posts(
            conn, status, after=cursor, limit=limit, oldest_first=oldest_first, search=search
        )
        seen += [p.id for p in page.posts]
        if page.next is None:
            return seen
        cursor = page.next


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
async def test_all_is_newest_first_like_each_status_and_oldest_first_is_its_reverse(tenant, limit):
    path, conn = tenant
    assert await pages(conn, None, limit) == ordered(path)
    assert await pages(conn, None, limit, oldest_first=True) == ordered(path)[::-1]
    for status in ("draft", "published", "archived", "spam"):
        assert await pages(conn, status, limit) == ordered(path, status)
        assert await pages(conn, status, limit, oldest_first=True) == ordered(path, status)[::-1]
    titles = {r[0]: r[1] for r in rows(path, "SELECT id, title FROM posts")}
    assert await pages(conn, None, limit, search="published 1") == [
        i for i in ordered(path) if "published 1" in titles[i]
    ]


# --- writes that change nothing, back to draft ------------------------------------------------


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "data" / "audit.jsonl", "tester")


async def test_publishing_a_published_post_writes_and_audits_nothing(tmp_path, audit):
    path = tmp_path / "acme.db"
    await make_tenant(path)
    ids = fill(path, drafts=1, published=1)
    before = rows(path, "SELECT * FROM posts ORDER BY id")
    async with await connect(f"file:{path}") as conn:
        result = await moderation.set_status(
            conn, audit, "acme", [(ids["published"][0], "published")], "published"
        )
        assert (result.changed, result.conflicts, result.unchanged) == (
            [],
            [],
            [ids["published"][0]],
        )
        assert audit.entries() == [] and audit.generation("acme") == 0
        mixed = await moderation.set_status(
            conn,
            audit,
            "acme",
            [(ids["published"][0], "published"), (ids["draft"][0], "draft")],
            "published",
        )
    assert mixed.changed == [ids["draft"][0]] and mixed.unchanged == [ids["published"][0]]
    assert [e.row_ids for e in audit.entries()] == [[ids["draft"][0]], [ids["draft"][0]]]
    assert rows(path, "SELECT * FROM posts WHERE id = ?", (ids["published"][0],)) == [
        r for r in before if r[0] == ids["published"][0]
    ]


async def test_p_on_a_published_post_says_so_and_is_not_audited(tmp_path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(published=2)})
    path, _ids = made["acme"]
    before = rows(path, "SELECT * FROM posts ORDER BY id")
    app = make_test_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="published"))
        await settle(app, pilot)
        await pilot.press("p", "enter", "p")  # on the list, then on the post screen
        await settle(app, pilot)
        # Said in each screen's status line (not in toasts over the rows).
        said = [screen.feedback.plain for screen in app.screen_stack[-2:]]
        assert all("already published: nothing written" in s for s in said), said
        assert not any("Published" in s for s in said)
        assert not app._notifications
    assert workspace.audit.entries() == []
    assert rows(path, "SELECT * FROM posts ORDER BY id") == before
    await workspace.close()


async def test_back_to_draft_clears_published_at_and_a_later_publish_stamps_a_new_date(
    tmp_path, audit
):
    path = tmp_path / "acme.db"
    await make_tenant(path)
    ids = fill(path, published=2)
    target = ids["published"][0]
    ((old,),) = rows(path, "SELECT published_at FROM posts WHERE id = ?", (target,))
    async with await connect(f"file:{path}") as conn:
        await moderation.set_status(conn, audit, "acme", [(target, "published")], "draft")
        assert rows(path, "SELECT status, published_at FROM posts WHERE id = ?", (target,)) == [
            ("draft", None)
        ]
        # The date it had is in the log, so the change can be undone.
        done = audit.entries()[-1]
        assert done.status == "ok"
        assert done.before == {"status": "published", "published_at": {target: old}}
        assert done.after == {"status": "draft", "published_at": None}
        # It now sorts with the undated drafts.
        page = await moderation.fetch_posts(conn, "draft")
        assert [p.id for p in page.posts] == [target]
        start = int(time.time())
        await moderation.set_status(conn, audit, "acme", [(target, "draft")], "published")
        ((new,),) = rows(path, "SELECT published_at FROM posts WHERE id = ?", (target,))
        assert start <= new <= int(time.time()) and new != old
        await moderation.set_status(conn, audit, "acme", [(target, "published")], "archived")
        assert rows(path, "SELECT published_at FROM posts WHERE id = ?", (target,)) == [(new,)]


# --- the screen: o, end, home ----------------------------------------------------------------


def _table(app) -> RowList:
    return app.screen.query_one("#posts-table", RowList)


async def test_o_orders_oldest_first_and_end_reads_the_oldest_at_once(tmp_path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=1200, published=3)})
    path, ids = made["acme"]
    app = make_test_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
        await settle(app, pilot)
        screen = app.screen
        assert _table(app).ordered_keys[:3] == ids["draft"][:3]
        assert "newest first" in screen_text(app)
        await pilot.press("end")
        await settle(app, pilot)
        assert _table(app).cursor_key == ids["draft"][-1]  # the oldest draft, at once
        assert len(screen.rows) <= 200  # a few pages, not 1200 rows paged through
        assert "oldest end" in screen_text(app)
        await pilot.press(*["pageup"] * 6, "k")  # upwards, the newer ones come in above
        await settle(app, pilot)
        keys = _table(app).ordered_keys
        assert keys == ids["draft"][-len(keys) :]
        cursor = _table(app).cursor_key
        await pilot.resize_terminal(140, 30)  # columns laid out again: same rows, same order
        await settle(app, pilot)
        after = _table(app).ordered_keys  # (a taller view may have read a page more above)
        assert after == ids["draft"][-len(after) :] and after[-len(keys) :] == keys
        assert _table(app).cursor_key == cursor
        await pilot.resize_terminal(100, 30)
        await settle(app, pilot)
        assert _table(app).cursor_key == ids["draft"][-1 - 6 * (_table(app)._visible_rows()) - 1]
        await pilot.press("home")
        await settle(app, pilot)
        assert _table(app).cursor_key == ids["draft"][0]
        await pilot.press("o")
        await settle(app, pilot)
        assert "oldest first" in screen_text(app)
        assert _table(app).ordered_keys[:60] == ids["draft"][::-1][:60]
        await pilot.press("0")  # every filter keeps the order asked for
        await settle(app, pilot)
        assert _table(app).ordered_keys[:60] == ordered(path)[::-1][:60]
    await workspace.close()


async def test_all_on_the_screen_is_newest_first(tmp_path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=4, published=3)})
    path, _ids = made["acme"]
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET published_at = 1900000000 WHERE rowid = 5")  # the oldest row
    db.commit()
    db.close()
    app = make_test_app(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status=None))
        await settle(app, pilot)
        assert _table(app).ordered_keys == ordered(path)
    await workspace.close()


async def test_all_on_a_remote_tenant_is_newest_first_one_request_a_page(slow_proxy):
    await fill_remote(slow_proxy.url, drafts=6, published=5, archived=3)
    expected = [
        r[0] for r in await remote_rows(slow_proxy.url, f"SELECT id FROM posts {NEWEST_FIRST}")
    ]
    conn = await connect(slow_proxy.url, name="remote")
    try:
        await moderation.fetch_posts(conn, None, limit=1)  # the connection is open
        slow_proxy.reset_count()
        first = await moderation.fetch_posts(conn, None, limit=4)
        asked = slow_proxy.requests
        later = await moderation.fetch_posts(conn, None, after=first.next, limit=4)
        assert slow_proxy.requests - asked == 1  # the statuses found on page one are kept
        assert await pages(conn, None, 4) == expected
        assert await pages(conn, None, 4, oldest_first=True) == expected[::-1]
        assert [p.id for p in first.posts + later.posts] == expected[:8]
    finally:
        await conn.close()
