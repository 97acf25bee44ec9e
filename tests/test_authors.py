"""Authors: found by email in any case or by id, summed up, paged, and purged on one tenant or many.

Real SQLite files and a real sqld (behind the fault proxy for the mid-purge failure).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import test_drizzle_interop
from support.author_fixtures import BASE_TIME, DropAt, local_tenant, remote_tenant
from support.faults import FaultProxy
from support.moderation_fixtures import remote_rows, rows
from tursotui.db import connect
from tursotui.fleet import authors as fleet_authors
from tursotui.session.audit import AuditLog
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.tenant import authors

EMAIL = "Bob.Smith@Example.com"

drizzle = test_drizzle_interop.drizzle  # drizzle-orm installed under .cache, the fixture


async def test_an_author_is_found_by_email_in_another_case_and_by_id(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    made = await local_tenant(path, EMAIL, published=1)
    async with await connect(f"file:{path}") as conn:
        found = await authors.find_author(conn, "bob.smith@EXAMPLE.COM")
        assert found is not None and found.ids == (made.author,)
        assert found.email == EMAIL and found.name == "Bob Smith"
        by_id = await authors.find_author(conn, made.author)
        assert by_id == found
        assert await authors.find_author(conn, "bob.smith@example.org") is None
        assert await authors.find_author(conn, "%@example.com") is None  # literal, not a pattern
        assert await authors.find_author(conn, "") is None


async def test_users_differing_only_in_case_are_one_author(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "t.db"
    made = await local_tenant(path, EMAIL, comments=2)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO users VALUES ('twin', 'bob.smith@example.com', 'Bob', 1)")
    db.execute("INSERT INTO comments VALUES ('c-twin', 'hi', (SELECT id FROM posts), 'twin', 5)")
    db.commit()
    db.close()
    async with await connect(f"file:{path}") as conn:
        found = await authors.find_author(conn, "bob.smith@example.com")
        assert found is not None
        assert found.email == "bob.smith@example.com"  # the exact match comes first
        assert set(found.ids) == {made.author, "twin"}
        summary = await authors.summarize(conn, found)
    assert summary.comments == 3


async def test_an_author_with_no_content_shows_zeros(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    await local_tenant(path, EMAIL, other_comments=3)
    async with await connect(f"file:{path}") as conn:
        author = await authors.find_author(conn, EMAIL)
        assert author is not None
        summary = await authors.summarize(conn, author)
        assert (summary.posts, summary.post_count, summary.comments) == ({}, 0, 0)
        assert summary.first_activity is None and summary.last_activity is None
        assert (await authors.fetch_author_posts(conn, author)).posts == []
        assert (await authors.fetch_author_comments(conn, author)).comments == []
        plan = await authors.plan_purge(conn, author, delete_comments=True, posts_to="archived")
        assert plan.empty
        result = await authors.purge(conn, AuditLog(tmp_path / "a.jsonl", "t"), "t", plan)
    assert result == authors.PurgeResult()
    assert not (tmp_path / "a.jsonl").exists()  # nothing to do: nothing written, not even audit


async def test_summary_counts_and_pages_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    made = await local_tenant(path, EMAIL, drafts=2, published=3, archived=1, comments=5)
    async with await connect(f"file:{path}") as conn:
        author = await authors.find_author(conn, EMAIL)
        assert author is not None
        summary = await authors.summarize(conn, author)
        assert summary.posts == {"draft": 2, "published": 3, "archived": 1}
        assert summary.comments == 5
        # Posts published at start + n*60 (n = 3..6), comments at start + 10 + c.
        assert summary.first_activity == BASE_TIME + 10
        assert summary.last_activity == BASE_TIME + 6 * 60
        seen, cursor = [], None
        while True:
            page = await authors.fetch_author_posts(conn, author, after=cursor, limit=2)
            seen += [post.id for post in page.posts]
            if page.next is None:
                break
            cursor = page.next
        dated = list(reversed(made.posts["published"] + made.posts["archived"]))
        assert seen == dated + list(reversed(made.posts["draft"]))
        comments, cursor = [], None
        while True:
            cpage = await authors.fetch_author_comments(conn, author, after=cursor, limit=2)
            comments += cpage.comments
            if cpage.next is None:
                break
            cursor = cpage.next
    assert [c.id for c in comments] == list(reversed(made.comments))
    assert comments[0].post_title == "someone else's"
    assert comments[0].content == "comment 4 <b>[red]x"


async def _workspace(**overrides: object) -> Workspace:
    return await Workspace.open(load_settings(**overrides))


async def test_the_fleet_answers_stream_in_as_tenants_answer(tmp_path: Path, own_sqld) -> None:
    slow = FaultProxy(("127.0.0.1", own_sqld.port)).start()
    workspace = await _workspace()
    try:
        await local_tenant(tmp_path / "a.db", EMAIL, published=2, comments=1)
        await local_tenant(tmp_path / "b.db", "bob.smith@example.com", comments=4)
        await local_tenant(tmp_path / "c.db", "someone@example.com", comments=4)
        await remote_tenant(own_sqld.http_url, "BOB.SMITH@example.com", archived=1)
        for slug in "abc":
            await workspace.registry.add(slug, f"file:{tmp_path / slug}.db")
        await workspace.registry.add("slow", slow.url)
        await workspace.registry.add("gone", f"file:{tmp_path / 'missing' / 'x.db'}")
        slow.delay(1200)
        started = time.monotonic()
        answers = []
        async for answer in fleet_authors.find_everywhere(
            workspace, await workspace.registry.tenants(), "bob.smith@example.com"
        ):
            answers.append((answer, time.monotonic() - started))
    finally:
        await workspace.close()
        slow.stop()
    by_slug = {answer.tenant.slug: (answer, at) for answer, at in answers}
    assert set(by_slug) == {"a", "b", "c", "slow", "gone"}
    assert by_slug["a"][0].summary is not None and by_slug["a"][0].summary.post_count == 2
    assert by_slug["b"][0].summary is not None and by_slug["b"][0].summary.comments == 4
    assert by_slug["c"][0].summary is None and by_slug["c"][0].error is None
    assert by_slug["gone"][0].error
    remote = by_slug["slow"][0].summary
    assert remote is not None and remote.posts == {"archived": 1}
    assert remote.author.email == "BOB.SMITH@example.com"
    # The local tenants were yielded before the slow one had answered.
    assert max(by_slug[s][1] for s in "abc") < 1.0 <= by_slug["slow"][1]
    assert answers[-1][0].tenant.slug == "slow"


def _entries(workspace: Workspace) -> list[dict]:
    path = workspace.audit.path
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_purge_on_one_tenant_is_one_audited_batch_with_full_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    made = await local_tenant(path, EMAIL, drafts=1, published=2, archived=1, comments=3)
    audit = AuditLog(tmp_path / "audit.jsonl", "tester")
    before_rows = rows(
        path, "SELECT * FROM comments WHERE author_id = ? ORDER BY id", (made.author,)
    )
    async with await connect(f"file:{path}") as conn:
        author = await authors.find_author(conn, "BOB.smith@example.com")
        assert author is not None
        plan = await authors.plan_purge(conn, author, delete_comments=True, posts_to="archived")
        assert plan.comments == 3 and len(plan.posts) == 3 and plan.rows == 6
        result = await authors.purge(conn, audit, "t", plan, reason="spam wave", group="g1")
    assert sorted(result.deleted) == sorted(made.comments)
    assert sorted(result.moved) == sorted(made.posts["draft"] + made.posts["published"])
    assert result.conflicts == []
    assert rows(path, "SELECT count(*) FROM comments WHERE author_id = ?", (made.author,)) == [(0,)]
    assert rows(path, "SELECT count(*) FROM comments") == [(2,)]  # the other user's stay
    assert rows(path, "SELECT DISTINCT status FROM posts WHERE author_id = ?", (made.author,)) == [
        ("archived",)
    ]
    lines = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["pending", "ok"]
    entry = lines[-1]
    assert entry["action"] == "purge-author" and entry["id"] == result.entry
    assert entry["detail"] == EMAIL and entry["reason"] == "spam wave" and entry["group"] == "g1"
    assert sorted(entry["row_ids"]) == sorted(result.deleted + result.moved)
    assert entry["after"] == {"posts": "archived", "comments": "deleted"}
    assert entry["before"] == {
        **{i: "draft" for i in made.posts["draft"]},
        **{i: "published" for i in made.posts["published"]},
    }
    kept = sorted(
        (r["id"], r["content"], r["post_id"], r["author_id"], r["created_at"])
        for r in entry["rows"]["comments"]
    )
    assert kept == before_rows


async def test_purge_to_draft_keeps_the_cleared_dates_and_guards_changed_posts(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "t.db"
    made = await local_tenant(path, EMAIL, published=2, archived=1)
    audit = AuditLog(tmp_path / "audit.jsonl", "tester")
    async with await connect(f"file:{path}") as conn:
        author = await authors.find_author(conn, EMAIL)
        assert author is not None
        plan = await authors.plan_purge(conn, author, delete_comments=False, posts_to="draft")
        changed = made.posts["published"][0]
        # Another moderator archives one post between the confirmation and the purge.
        db = sqlite3.connect(path)
        db.execute("UPDATE posts SET status = 'archived' WHERE id = ?", (changed,))
        db.commit()
        db.close()
        dates = dict(rows(path, "SELECT id, published_at FROM posts"))
        result = await authors.purge(conn, audit, "t", plan)
    assert result.conflicts == [changed] and result.deleted == []
    assert sorted(result.moved) == sorted([made.posts["published"][1], made.posts["archived"][0]])
    assert rows(path, "SELECT status, published_at FROM posts WHERE id = ?", (changed,)) == [
        ("archived", dates[changed])
    ]
    entry = json.loads(audit.path.read_text().splitlines()[-1])
    assert entry["after"] == {"posts": "draft", "comments": None}
    assert entry["rows"] is None
    assert entry["before"]["published_at"] == {i: dates[i] for i in result.moved}
    assert entry["detail"] == EMAIL
    assert changed not in entry["row_ids"] and changed not in entry["before"]
    for post_id in result.moved:
        assert rows(path, "SELECT status, published_at FROM posts WHERE id = ?", (post_id,)) == [
            ("draft", None)
        ]


async def test_purge_across_tenants_shares_one_group_and_reports_each(tmp_path: Path) -> None:
    workspace = await _workspace()
    made = {}
    try:
        for slug, spec in {"a": {"comments": 2, "published": 1}, "b": {"comments": 3}}.items():
            made[slug] = await local_tenant(tmp_path / f"{slug}.db", EMAIL.lower(), **spec)
            await workspace.registry.add(slug, f"file:{tmp_path / slug}.db")
        await local_tenant(tmp_path / "c.db", "nobody@example.com", comments=1)
        await workspace.registry.add("c", f"file:{tmp_path / 'c'}.db")
        tenants = await workspace.registry.tenants()
        plans = [
            answer
            async for answer in fleet_authors.plan_everywhere(
                workspace, tenants, EMAIL, delete_comments=True, posts_to="archived"
            )
        ]
        counts = {p.tenant.slug: p.plan.rows if p.plan else None for p in plans}
        assert counts == {"a": 3, "b": 3, "c": None}
        outcomes = [
            outcome
            async for outcome in fleet_authors.purge_everywhere(
                workspace,
                [(p.tenant, p.plan) for p in plans if p.plan is not None],
                reason="abuse",
            )
        ]
    finally:
        await workspace.close()
    assert {o.tenant.slug: o.state for o in outcomes} == {"a": "done", "b": "done"}
    for slug in "ab":
        assert rows(tmp_path / f"{slug}.db", "SELECT count(*) FROM comments") == [(2,)]
    assert rows(tmp_path / "c.db", "SELECT count(*) FROM comments") == [(3,)]
    done = [e for e in _entries(workspace) if e["status"] == "ok"]
    assert sorted(e["tenant"] for e in done) == ["a", "b"]
    assert len({e["group"] for e in done}) == 1 and done[0]["group"]
    assert {e["reason"] for e in done} == {"abuse"}


async def test_a_read_only_session_refuses_to_purge(tmp_path: Path) -> None:
    await local_tenant(tmp_path / "a.db", EMAIL, comments=2)
    workspace = await _workspace()
    await workspace.registry.add("a", f"file:{tmp_path / 'a'}.db")
    await workspace.close()
    workspace = await _workspace(read_only=True)
    try:
        tenants = await workspace.registry.tenants()
        plan = await fleet_authors.plan_on(
            workspace, tenants[0], EMAIL, delete_comments=True, posts_to=None
        )
        assert plan.plan is not None and plan.plan.comments == 2
        with pytest.raises(authors.AuthorError, match="read-only session"):
            async for _ in fleet_authors.purge_everywhere(workspace, [(tenants[0], plan.plan)]):
                pass
    finally:
        await workspace.close()
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM comments") == [(4,)]


async def test_a_remote_tenant_dying_mid_purge_is_untouched_and_said_so(
    tmp_path: Path, own_sqld
) -> None:
    proxy = DropAt(("127.0.0.1", own_sqld.port)).start()
    workspace = await _workspace()
    try:
        local = await local_tenant(tmp_path / "a.db", EMAIL, comments=3, published=1)
        await workspace.registry.add("a", f"file:{tmp_path / 'a'}.db")
        remote = await remote_tenant(own_sqld.http_url, EMAIL, comments=4, published=2)
        await workspace.registry.add("remote", proxy.url)
        tenants = await workspace.registry.tenants()
        plans = [
            (p.tenant, p.plan)
            async for p in fleet_authors.plan_everywhere(
                workspace, tenants, EMAIL, delete_comments=True, posts_to="archived"
            )
            if p.plan is not None
        ]
        assert len(plans) == 2
        proxy.reset_count()
        proxy.drop_at = frozenset({1})  # the purge's one request dies; the check after passes
        outcomes = {
            o.tenant.slug: o async for o in fleet_authors.purge_everywhere(workspace, plans)
        }
    finally:
        await workspace.close()
        proxy.stop()
    assert outcomes["a"].state == "done"
    assert outcomes["remote"].state == "failed" and outcomes["remote"].applied is False
    assert "untouched" in outcomes["remote"].describe()
    assert rows(
        tmp_path / "a.db", "SELECT count(*) FROM comments WHERE author_id = ?", (local.author,)
    ) == [(0,)]
    url = own_sqld.http_url
    assert await remote_rows(
        url, "SELECT count(*) FROM comments WHERE author_id = ?", (remote.author,)
    ) == [(4,)]
    assert await remote_rows(
        url, "SELECT status FROM posts WHERE author_id = ?", (remote.author,)
    ) == [("published",), ("published",)]
    entries = [e for e in _entries(workspace) if e["tenant"] == "remote"]
    assert [e["status"] for e in entries] == ["pending", "failed"]


async def test_a_remote_purge_is_one_request_and_is_all_applied(tmp_path: Path, own_sqld) -> None:
    proxy = FaultProxy(("127.0.0.1", own_sqld.port)).start()
    workspace = await _workspace()
    try:
        remote = await remote_tenant(own_sqld.http_url, EMAIL, comments=30, published=2)
        await workspace.registry.add("remote", proxy.url)
        (tenant,) = await workspace.registry.tenants()
        proxy.reset_count()
        found = await fleet_authors.author_on(workspace, tenant, EMAIL.lower())
        assert found.summary is not None and found.summary.comments == 30
        assert proxy.requests == 1  # the lookup and the summary travel together
        proxy.reset_count()
        planned = await fleet_authors.plan_on(
            workspace, tenant, EMAIL, delete_comments=True, posts_to="draft"
        )
        assert planned.plan is not None
        assert proxy.requests == 1
        proxy.reset_count()
        outcome = await fleet_authors.purge_on(workspace, tenant, planned.plan)
        assert proxy.requests == 1
        async with await connect(own_sqld.http_url) as conn:
            assert await authors.purge_applied(conn, planned.plan)
    finally:
        await workspace.close()
        proxy.stop()
    assert outcome.state == "done" and outcome.result is not None
    assert len(outcome.result.deleted) == 30 and len(outcome.result.moved) == 2
    assert await remote_rows(
        own_sqld.http_url, "SELECT count(*) FROM comments WHERE author_id = ?", (remote.author,)
    ) == [(0,)]


def drizzle_read_author(runner: Path, db: Path, author: str) -> dict:
    import shutil
    import subprocess

    shutil.copy(Path(__file__).parent / "drizzle" / "read_author.mjs", runner / "read_author.mjs")
    done = subprocess.run(
        ["node", str(runner / "read_author.mjs"), f"file:{db}", author],
        check=True,
        capture_output=True,
        timeout=60,
        text=True,
    )
    return json.loads(done.stdout)


async def test_drizzle_reads_exactly_the_rows_a_purge_leaves(drizzle: Path, tmp_path: Path) -> None:
    """After a purge (comments deleted, posts back to draft) an app on drizzle-orm finds the
    author's posts as drafts without a date, none of their comments, and everyone else's."""
    path = tmp_path / "t.db"
    made = await local_tenant(path, EMAIL, published=2, archived=1, drafts=1, comments=4)
    before = drizzle_read_author(drizzle, path, made.author)
    assert len(before["comments"]) == 4 and before["total"] == 6
    audit = AuditLog(tmp_path / "audit.jsonl", "tester")
    async with await connect(f"file:{path}") as conn:
        author = await authors.find_author(conn, EMAIL.upper())
        assert author is not None
        plan = await authors.plan_purge(conn, author, delete_comments=True, posts_to="draft")
        await authors.purge(conn, audit, "t", plan)
    after = drizzle_read_author(drizzle, path, made.author)
    every_post = sorted(made.posts["draft"] + made.posts["published"] + made.posts["archived"])
    assert after == {
        "posts": [{"id": i, "status": "draft", "publishedAt": None} for i in every_post],
        "comments": [],
        "total": 2,
    }
