"""Moderation IO against real SQLite tenant files: paging, counts, guarded writes, audit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from support.moderation_fixtures import (
    fill,
    fill_remote,
    make_tenant,
    remote_rows,
    rows,
)
from tursotui.db import connect
from tursotui.session.audit import AuditLog
from tursotui.tenant import moderation
from tursotui.tenant.moderation import MissingTableError, ModerationError

"""The sqld fixtures (`own_sqld`, `slow_proxy`) live in moderation_fixtures."""


@pytest.fixture
async def tenant(tmp_path: Path):
    path = tmp_path / "acme.db"
    await make_tenant(path)
    ids = fill(path, drafts=7, published=12, archived=3, comments_per_post=3)
    conn = await connect(f"file:{path}", name="acme")
    yield path, conn, ids
    await conn.close()


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "data" / "audit.jsonl", "tester")


async def _all_pages(conn, status, limit, search=None):
    seen, cursor = [], None
    while True:
        page = await moderation.fetch_posts(conn, status, after=cursor, limit=limit, search=search)
        seen.extend(p.id for p in page.posts)
        if page.next is None:
            return seen
        cursor = page.next


@pytest.mark.parametrize("limit", [1, 2, 5, 50])
async def test_pages_cover_each_status_once_newest_first(tenant, limit):
    _, conn, ids = tenant
    for status in ("draft", "published", "archived"):
        assert await _all_pages(conn, status, limit) == ids[status]
    everything = await _all_pages(conn, None, limit)
    assert len(everything) == len(set(everything)) == 22


async def test_all_is_newest_inserted_first(tenant):
    _, conn, ids = tenant
    page = await moderation.fetch_posts(conn, None, limit=3)
    assert [p.id for p in page.posts] == ids["archived"][:3]


async def test_undated_posts_of_a_status_follow_the_dated_ones(tenant):
    path, conn, ids = tenant
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET published_at = NULL WHERE id = ?", (ids["published"][0],))
    db.commit()
    db.close()
    listed = await _all_pages(conn, "published", 4)
    assert listed == [*ids["published"][1:], ids["published"][0]]


async def test_rows_carry_author_name_and_tolerate_a_missing_author(tenant):
    path, conn, ids = tenant
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET author_id = 'ghost' WHERE id = ?", (ids["draft"][0],))
    db.commit()
    db.close()
    page = await moderation.fetch_posts(conn, "draft", limit=50)
    names = {p.id: p.author_name for p in page.posts}
    assert names[ids["draft"][0]] is None
    assert {n for n in names.values() if n} <= {"Author 0", "Author 1"}


async def test_title_search(tenant):
    _, conn, _ = tenant
    page = await moderation.fetch_posts(conn, None, search="archived 1")
    assert [p.title for p in page.posts] == ["archived 1"]
    page = await moderation.fetch_posts(conn, "published", search="%")
    assert page.posts == []  # LIKE wildcards are searched for literally


async def test_status_counts_in_one_query_including_unknown_values(tenant):
    path, conn, ids = tenant
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET status = '[bold]spam[/]' WHERE id = ?", (ids["draft"][0],))
    db.commit()
    db.close()
    counts = await moderation.status_counts(conn)
    assert counts == {"draft": 6, "published": 12, "archived": 3, "[bold]spam[/]": 1}
    page = await moderation.fetch_posts(conn, "[bold]spam[/]")
    assert [p.id for p in page.posts] == [ids["draft"][0]]


async def test_page_queries_use_the_index_without_sorting(tenant):
    _, conn, _ = tenant
    for sql, args in (
        (
            "SELECT p.id FROM posts AS p LEFT JOIN users AS u ON u.id = p.author_id "
            "WHERE p.status = ? AND p.published_at IS NOT NULL "
            "AND (p.published_at, p.rowid) < (?, ?) "
            "ORDER BY p.published_at DESC, p.rowid DESC LIMIT 50",
            ["published", 1, 9],
        ),
        (
            "SELECT p.id FROM posts AS p WHERE p.status = ? AND p.published_at IS NULL "
            "AND p.rowid < ? ORDER BY p.rowid DESC LIMIT 50",
            ["draft", 9],
        ),
        ("SELECT p.id FROM posts AS p WHERE p.rowid < ? ORDER BY p.rowid DESC LIMIT 50", [9]),
    ):
        plan = " | ".join(
            str(r[3]) for r in (await conn.execute("EXPLAIN QUERY PLAN " + sql, args)).rows
        )
        assert "TEMP B-TREE" not in plan
        assert "SCAN p" not in plan, plan


async def test_publish_is_guarded_audited_and_sets_published_at_in_seconds(tenant, audit):
    path, conn, ids = tenant
    target = ids["draft"][0]
    before = int(time.time())
    result = await moderation.set_status(conn, audit, "acme", [(target, "draft")], "published")
    assert result.changed == [target] and result.conflicts == []
    ((status, published_at),) = rows(
        path, "SELECT status, published_at FROM posts WHERE id = ?", (target,)
    )
    assert status == "published"
    assert before <= published_at <= int(time.time()) + 1  # seconds, not milliseconds
    entries = audit.entries()
    assert [e.status for e in entries] == ["pending", "ok"]
    assert entries[-1].action == "publish" and entries[-1].row_ids == [target]
    # The date it set is kept, so an undo can clear it again.
    assert entries[-1].before == "draft"
    assert entries[-1].after == {"status": "published", "published_at": {target: published_at}}
    assert entries[-1].operator == "tester" and entries[-1].tenant == "acme"


async def test_publish_keeps_an_existing_published_at(tenant, audit):
    path, conn, ids = tenant
    target = ids["archived"][0]
    ((old,),) = rows(path, "SELECT published_at FROM posts WHERE id = ?", (target,))
    await moderation.set_status(conn, audit, "acme", [(target, "archived")], "published")
    assert rows(path, "SELECT published_at, status FROM posts WHERE id = ?", (target,)) == [
        (old, "published")
    ]
    assert audit.entries()[-1].after == "published"  # no date set: none to undo


async def test_a_post_changed_underneath_is_a_conflict_not_overwritten(tenant, audit):
    path, conn, ids = tenant
    first, second = ids["draft"][:2]
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET status = 'archived' WHERE id = ?", (first,))
    db.commit()
    db.close()
    result = await moderation.set_status(
        conn, audit, "acme", [(first, "draft"), (second, "draft")], "published"
    )
    assert result.changed == [second] and result.conflicts == [first]
    assert rows(path, "SELECT status FROM posts WHERE id = ?", (first,)) == [("archived",)]
    assert rows(path, "SELECT status FROM posts WHERE id = ?", (second,)) == [("published",)]
    assert first in (audit.entries()[-1].detail or "")


async def test_null_status_can_be_moderated(tenant, audit):
    path, conn, ids = tenant
    target = ids["draft"][0]
    # NOT NULL in the schema, but a hand-edited database may still hold NULL: simulate with a
    # copy of the table without the constraint.
    db = sqlite3.connect(path)
    db.executescript(
        "PRAGMA foreign_keys = OFF;"
        "CREATE TABLE posts2 AS SELECT * FROM posts; DROP TABLE posts;"
        "ALTER TABLE posts2 RENAME TO posts;"
    )
    db.execute("UPDATE posts SET status = NULL WHERE id = ?", (target,))
    db.commit()
    db.close()
    counts = await moderation.status_counts(conn)
    assert counts[""] == 1
    result = await moderation.set_status(conn, audit, "acme", [(target, None)], "archived")
    assert result.changed == [target]


async def test_bulk_write_is_one_batch(tenant, audit):
    _, conn, ids = tenant
    calls = []
    real_batch, real_execute = conn.batch, conn.execute

    async def batch(stmts):
        calls.append(("batch", len(stmts)))
        return await real_batch(stmts)

    async def execute(*args, **kwargs):
        calls.append(("execute", 1))
        return await real_execute(*args, **kwargs)

    conn.batch, conn.execute = batch, execute
    posts = [(i, "published") for i in ids["published"]]
    result = await moderation.set_status(conn, audit, "acme", posts, "archived")
    assert len(result.changed) == 12
    assert calls == [("batch", 12)]


async def test_read_only_write_fails_with_a_message_and_is_logged_failed(tmp_path, tenant, audit):
    path, _, ids = tenant
    conn = await connect(f"file:{path}", name="acme", read_only=True)
    try:
        with pytest.raises(ModerationError, match="acme"):
            await moderation.set_status(
                conn, audit, "acme", [(ids["draft"][0], "draft")], "published"
            )
    finally:
        await conn.close()
    assert [e.status for e in audit.entries()] == ["pending", "failed"]
    assert rows(path, "SELECT status FROM posts WHERE id = ?", (ids["draft"][0],)) == [("draft",)]


async def test_unwritable_audit_log_refuses_the_write(tmp_path, tenant):
    path, conn, ids = tenant
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    audit = AuditLog(blocker / "audit.jsonl", "tester")
    with pytest.raises(ModerationError, match="audit log"):
        await moderation.set_status(conn, audit, "acme", [(ids["draft"][0], "draft")], "published")
    assert rows(path, "SELECT status FROM posts WHERE id = ?", (ids["draft"][0],)) == [("draft",)]


async def test_comments_paged_newest_first_and_deleted_audited(tenant, audit):
    path, conn, ids = tenant
    post_id = ids["published"][0]
    seen, cursor = [], None
    while True:
        page = await moderation.fetch_comments(conn, post_id, after=cursor, limit=2)
        seen.extend(page.comments)
        if page.next is None:
            break
        cursor = page.next
    assert [c.content for c in seen] == [f"comment {i} on published 11" for i in (2, 1, 0)]
    assert seen[0].author_name == "Author 0"
    doomed = [seen[0].id, seen[1].id]
    result = await moderation.delete_comments(conn, audit, "acme", [*doomed, "gone"])
    assert result.changed == doomed and result.conflicts == ["gone"]
    assert rows(path, "SELECT count(*) FROM comments WHERE post_id = ?", (post_id,)) == [(1,)]
    last = audit.entries()[-1]
    assert last.action == "delete-comment" and last.status == "ok" and last.row_ids == doomed
    # The full rows deleted, every column, read in the same batch: what an undo puts back.
    kept = {row["id"]: row for row in last.rows["comments"]}
    assert set(kept) == set(doomed)
    assert kept[seen[0].id] == {
        "id": seen[0].id,
        "content": "comment 2 on published 11",
        "post_id": post_id,
        "author_id": seen[0].author_id,
        "created_at": seen[0].created_at,
    }


async def test_fetch_post_in_full(tenant):
    _, conn, ids = tenant
    post = await moderation.fetch_post(conn, ids["published"][0])
    assert post is not None
    assert post.content == "body of published 11" and post.comment_count == 3
    assert await moderation.fetch_post(conn, "nope") is None


async def test_a_tenant_without_posts_says_so(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    conn = await connect(f"file:{path}", name="bare")
    try:
        with pytest.raises(MissingTableError, match=r"bare.*expected tables"):
            await moderation.fetch_posts(conn, "draft")
        with pytest.raises(MissingTableError, match="bare"):
            await moderation.status_counts(conn)
    finally:
        await conn.close()


@pytest.mark.servers
async def test_bulk_publish_on_sqld_is_one_http_request(slow_proxy, audit):
    """The B3 figure: publishing many posts on a remote tenant costs one request."""
    ids = await fill_remote(slow_proxy.url, drafts=20)
    conn = await connect(slow_proxy.url, name="remote")
    try:
        slow_proxy.reset_count()
        posts = [(i, "draft") for i in ids["draft"]]
        result = await moderation.set_status(conn, audit, "remote", posts, "published")
        assert slow_proxy.requests == 1
        assert len(result.changed) == 20 and result.conflicts == []
        again = await moderation.set_status(conn, audit, "remote", posts[:3], "published")
        assert again.changed == [] and again.conflicts == [i for i, _ in posts[:3]]
    finally:
        await conn.close()
    assert await remote_rows(
        slow_proxy.url, "SELECT count(*) FROM posts WHERE status = 'published'"
    ) == [(20,)]


# -- control characters in previews ----------------------------------------------------

_NUL_TITLE = "before\x00after"


async def _nul_previews(conn) -> tuple[str, str]:
    """Insert a post and comment holding NUL through `conn`; their previews as lists read them."""
    await conn.execute(
        "INSERT INTO users (id, email, name, created_at) VALUES ('u-nul', 'n@x', 'N', 1)"
    )
    await conn.execute(
        "INSERT INTO posts (id, title, content, author_id, published_at, status) "
        "VALUES ('p-nul', ?, 'body', 'u-nul', NULL, 'draft')",
        [_NUL_TITLE],
    )
    await conn.execute(
        "INSERT INTO comments (id, content, post_id, author_id, created_at) "
        "VALUES ('c-nul', ?, 'p-nul', 'u-nul', 5)",
        ["one\x00two"],
    )
    listed = await moderation.fetch_posts_by_id(conn, ["p-nul"])
    comments = await moderation.fetch_comments(conn, "p-nul")
    return listed["p-nul"].title, comments.comments[0].content


async def test_list_previews_keep_text_after_a_nul_in_a_file(tmp_path: Path):
    """SQLite's substr() stops at NUL: the list showed `before`, the post screen the whole title."""
    path = tmp_path / "nul.db"
    await make_tenant(path)
    conn = await connect(f"file:{path}", name="nul")
    try:
        assert await _nul_previews(conn) == (_NUL_TITLE, "one\x00two")
        page = await moderation.fetch_posts(conn, "draft")
        assert [p.title for p in page.posts] == [_NUL_TITLE]
        long_title = "x" * (moderation.TITLE_PREVIEW * 4 + 1)  # more bytes than a preview can hold
        await conn.execute("UPDATE posts SET title = ? WHERE id = 'p-nul'", [long_title])
        listed = await moderation.fetch_posts_by_id(conn, ["p-nul"])
        assert listed["p-nul"].title == "x" * moderation.TITLE_PREVIEW  # long ones still cut
    finally:
        await conn.close()


@pytest.mark.parametrize("server", ["own_sqld", "tursodb"])
async def test_list_previews_keep_text_after_a_nul_on_servers(server, request):
    url = request.getfixturevalue(server).http_url
    await fill_remote(url)
    conn = await connect(url, name="remote")
    try:
        assert await _nul_previews(conn) == (_NUL_TITLE, "one\x00two")
    finally:
        await conn.close()
