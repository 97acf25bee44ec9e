"""Content search: posts (titles and contents), comments, the fleet's `/` panel and its actions.

A search is literal text: `%`, `_`, quotes, markup and backslashes match themselves, and
what matched is highlighted as characters, never interpreted.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable

from support import fleet_fixtures
from support.fleet_fixtures import add_local, open_workspace
from support.keys import burst, quiet, typed
from support.moderation_fixtures import (
    fill_remote,
    make_tenant,
    make_test_app,
    remote_rows,
    rows,
    workspace_with,
)
from support.screen import screen_text, until
from test_drizzle_interop import drizzle, drizzle_read_post
from tursotui.db import connect
from tursotui.display.matches import MATCH_STYLE, highlighted
from tursotui.tenant import moderation
from tursotui.ui.screens.fleet import FleetScreen
from tursotui.ui.screens.fleet_migration import MigrationSummary
from tursotui.ui.screens.fleet_search import FleetSearch
from tursotui.ui.screens.post import PostScreen
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.widgets.row_list import RowList

fleet_sqld = fleet_fixtures.fleet_sqld
slow_proxy = fleet_fixtures.slow_proxy
__all__ = ["drizzle", "fleet_sqld", "slow_proxy"]  # fixtures, used by name

AUTHOR = "0-author"
LONG = "ab%_c" * 2000
"""A 10,000-character search (with LIKE's wildcards in it)."""

TEXTS = {
    "pct": ("Discount", "now 100% off, only today"),
    "pct-decoy": ("Decoy", "now 1000 off"),
    "under": ("snake_case names", "body"),
    "under-decoy": ("snakeXcase names", "body"),
    "quote": ("quoted", 'it\'s "fine"; DROP TABLE posts; --'),
    "markup": ("[b]bold[/b] and [link=http://x]x[/link]", "body"),
    "slash": ("paths", "C:\\temp\\new and a \\% too"),
    "long": ("long one", f"before {LONG} after"),
    "case": ("MiXeD Case Title", "body"),
}


async def literal_tenant(path: Path) -> None:
    """A tenant whose posts (and one comment each) hold the texts a search must take literally."""
    await make_tenant(path)
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?)", (AUTHOR, "Mallory@Example.COM", "Mallory", 1)
    )
    for n, (post_id, (title, content)) in enumerate(TEXTS.items()):
        db.execute(
            "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)",
            (post_id, title, content, AUTHOR, 1_700_000_000 + n, "published"),
        )
        db.execute(
            "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
            (f"c-{post_id}", f"re: {content}", post_id, AUTHOR, 1_700_000_000 + n),
        )
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("100%", {"pct"}),
        ("%", {"pct", "slash"} | {"long"}),
        ("_", {"under", "long"}),
        ("snake_case", {"under"}),
        ('it\'s "fine"; DROP', {"quote"}),
        ("[b]bold[/b]", {"markup"}),
        ("[link=http://x]", {"markup"}),
        ("\\temp\\", {"slash"}),
        ("\\%", {"slash"}),
        ("mixed case", {"case"}),
        (LONG, {"long"}),
        ("nowhere at all", set()),
    ],
    ids=lambda v: v[:12] if isinstance(v, str) else None,
)
async def test_a_search_is_literal_in_titles_contents_and_comments(
    tmp_path: Path, search: str, found: set[str]
) -> None:
    path = tmp_path / "t.db"
    await literal_tenant(path)
    before = path.read_bytes()
    async with await connect(f"file:{path}", read_only=True) as conn:
        started = time.monotonic()
        page = await moderation.fetch_posts(conn, None, search=search)
        comments = await moderation.find_comments(conn, search=search)
        assert time.monotonic() - started < 5
    assert {p.id for p in page.posts} == found
    # each post has one comment, `re: <its content>`: found where the content holds the text
    in_content = {i for i, (_t, content) in TEXTS.items() if search.lower() in content.lower()}
    assert {c.post_id for c in comments.comments} == in_content
    for post in page.posts:  # the snippet holds the match where the content has it
        content = TEXTS[post.id][1]
        if search.lower() in content.lower():
            assert search.lower() in post.snippet.lower()
        else:
            assert post.snippet is None
    assert path.read_bytes() == before  # reading changed nothing


async def test_comments_of_one_post_filter_by_content_and_authors_match_in_any_case(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    await literal_tenant(path)
    async with await connect(f"file:{path}", read_only=True) as conn:
        page = await moderation.fetch_comments(conn, "pct", search="100%")
        assert [c.id for c in page.comments] == ["c-pct"]
        assert (await moderation.fetch_comments(conn, "pct-decoy", search="100%")).comments == []
        mine = await moderation.fetch_posts(conn, None, author_email="mallory@example.com")
        assert len(mine.posts) == len(TEXTS)
        assert (await moderation.fetch_posts(conn, None, author_email="mallory@x")).posts == []
        theirs = await moderation.find_comments(conn, author_email="MALLORY@example.com", limit=3)
        # newest first, paged by keyset
        assert [c.id for c in theirs.comments] == ["c-case", "c-long", "c-slash"]
        after = await moderation.find_comments(
            conn, author_email="mallory@example.com", after=theirs.next, limit=3
        )
        assert [c.id for c in after.comments] == ["c-markup", "c-quote", "c-under-decoy"]


def test_highlight_is_literal_and_keeps_the_match_in_view() -> None:
    text = highlighted("say [b]hi[/b] \x1b[31m to [B]HI[/B]", "[b]hi", 60)
    assert text.plain == "say [b]hi[/b] ␛[31m to [B]HI[/B]"
    matched = [text.plain[s.start : s.end] for s in text.spans if s.style == MATCH_STYLE]
    assert matched == ["[b]hi", "[B]HI"]
    far = highlighted("x" * 500 + "needle" + "y" * 500, "NEEDLE", 40)
    assert far.plain.startswith("…") and "needle" in far.plain and far.cell_len <= 40
    assert [far.plain[s.start : s.end] for s in far.spans if s.style == MATCH_STYLE] == ["needle"]
    assert highlighted("nothing", "else", 10).plain == "nothing"
    assert highlighted(None, "x").plain == "NULL"


def matched_parts(cell: Text) -> list[str]:
    return [cell.plain[s.start : s.end] for s in cell.spans if s.style == MATCH_STYLE]


# --- the posts and post screens ----------------------------------------------------------


async def test_slash_and_a_text_in_one_burst_search_contents_with_the_match_highlighted(
    tmp_path: Path,
) -> None:
    workspace, made = await workspace_with(tmp_path, {"acme": {}})
    path = made["acme"][0]
    path.unlink()
    await literal_tenant(path)
    app = make_test_app(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        await quiet(app, pilot)
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status=None))
        await quiet(app, pilot)
        screen = app.screen
        assert isinstance(screen, PostsScreen)
        burst(app, "slash", *typed("100% off"), "enter")
        await quiet(app, pilot)
        table = screen.query_one("#posts-table", RowList)
        assert table.ordered_keys == ["pct"]
        title_cell = screen._row_cells(screen.rows["pct"])[2]
        assert title_cell.plain.startswith("Discount")
        assert matched_parts(title_cell) == ["100% off"]
        assert "100% off" in screen_text(app)
        # a markup search matches the title literally and is not interpreted
        burst(app, "escape", "slash", *typed("[b]bold[/b]"), "enter")
        await quiet(app, pilot)
        assert table.ordered_keys == ["markup"]
        assert matched_parts(screen._row_cells(screen.rows["markup"])[2]) == ["[b]bold[/b]"]
        assert "[b]bold[/b] and" in screen_text(app)
    await workspace.close()


async def test_slash_on_a_post_filters_its_comments_by_content(tmp_path: Path) -> None:
    workspace, made = await workspace_with(tmp_path, {"acme": dict(published=1)})
    path, ids = made["acme"]
    post_id = ids["published"][0]
    db = sqlite3.connect(path)
    for n, content in enumerate(["buy cheap pills", "nice post", "CHEAP pills again", "ok"]):
        db.execute(
            "INSERT INTO comments VALUES (?, ?, ?, (SELECT id FROM users LIMIT 1), ?)",
            (f"c{n}", content, post_id, 1_700_000_000 + n),
        )
    db.commit()
    db.close()
    app = make_test_app(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        await quiet(app, pilot)
        app.push_screen(PostScreen(await workspace.registry.get("acme"), post_id))
        await quiet(app, pilot)
        screen = app.screen
        burst(app, "slash", *typed("cheap"), "enter")
        await quiet(app, pilot)
        table = screen.query_one("#post-comments", RowList)
        assert table.ordered_keys == ["c2", "c0"]  # newest first
        assert matched_parts(screen._cells(screen.comments["c2"])[3]) == ["CHEAP"]
        assert "containing cheap" in screen_text(app)
        burst(app, "escape")  # closes the search and lists every comment again
        await quiet(app, pilot)
        assert table.ordered_keys == ["c3", "c2", "c1", "c0"]
        assert isinstance(app.screen, PostScreen)
    await workspace.close()


# --- the fleet's `/` ---------------------------------------------------------------------


def results_of(app) -> DataTable:
    return app.screen.query_one("#fleet-results", DataTable)


def column(table: DataTable, key: str) -> list[str]:
    return [str(table.get_cell(row.key, key)) for row in table.ordered_rows]


async def test_fleet_search_finds_posts_and_comments_on_every_tenant(tmp_path: Path) -> None:
    workspace = await open_workspace()
    try:
        for slug in ("one", "two"):
            path = await add_local(workspace, slug)
            fleet_fixtures.fill(path, drafts=1, published=1, comments=2, prefix=f"{slug} ")
        db = sqlite3.connect(workspace.settings.data_dir / "tenants" / "two.db")
        db.execute("UPDATE comments SET content = 'get rich: http://spam.example/[x]'")
        db.execute("UPDATE posts SET content = 'visit http://spam.example/[x] now'")
        db.commit()
        db.close()
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            await quiet(app, pilot)
            app.push_screen(FleetScreen())
            await quiet(app, pilot)
            burst(app, "slash", *typed("SPAM.example/[x]"), "enter")
            await quiet(app, pilot)
            results = results_of(app)
            assert column(results, "tenant") == ["two"] * 4
            assert sorted(column(results, "kind")) == ["comment", "comment", "post", "post"]
            for row in results.ordered_rows:
                assert matched_parts(results.get_cell(row.key, "match")) == ["spam.example/[x]"]
            status = str(app.screen.query_one("#fleet-search-status").render())
            assert "2/2 tenants, 2 posts, 2 comments" in status
            # enter on a comment opens its post
            kinds = column(results, "kind")
            results.move_cursor(row=kinds.index("comment"))
            await pilot.press("enter")
            await quiet(app, pilot)
            assert isinstance(app.screen, PostScreen)
    finally:
        await workspace.close()


@pytest.mark.servers
async def test_fleet_search_streams_while_a_slow_tenant_answers(
    fleet_sqld, slow_proxy, tmp_path: Path
) -> None:
    await fill_remote(fleet_sqld.http_url, drafts=2, prefix="wave ")
    workspace = await open_workspace(timeout=20.0)
    try:
        for slug in ("one", "two"):
            fleet_fixtures.fill(await add_local(workspace, slug), drafts=2, prefix="wave ")
        await workspace.registry.add("slow", slow_proxy.url)
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            await quiet(app, pilot)
            app.push_screen(FleetScreen())
            await quiet(app, pilot)
            slow_proxy.delay(1500)
            started = time.monotonic()
            burst(app, "slash", *typed("wave draft 1"), "enter")
            panel = app.screen.query_one(FleetSearch)
            await until(pilot, lambda: panel.answered >= 2)
            # the local tenants are on screen while the slow one is still being asked
            assert sorted(column(results_of(app), "tenant")) == ["one", "two"]
            assert panel.searching and "2/3 tenants" in str(
                app.screen.query_one("#fleet-search-status").render()
            )
            assert time.monotonic() - started < 1.5  # each request to the slow one takes 1.5 s
            results_of(app).move_cursor(row=1)
            on_row = column(results_of(app), "tenant")[1]
            await until(pilot, lambda: not panel.searching)
            # every tenant answered: by tenant, the cursor still on the row it was on
            assert column(results_of(app), "tenant") == ["one", "slow", "two"]
            assert column(results_of(app), "tenant")[results_of(app).cursor_row] == on_row
    finally:
        slow_proxy.pass_through()
        await workspace.close()


@pytest.mark.servers
async def test_archiving_across_tenants_reports_the_failing_remote_and_keeps_the_others(
    fleet_sqld, slow_proxy, drizzle: Path, tmp_path: Path
) -> None:
    remote_ids = await fill_remote(fleet_sqld.http_url, drafts=2, prefix="spam ")
    workspace = await open_workspace(timeout=5.0)
    paths, ids = {}, {}
    try:
        for slug in ("one", "two"):
            paths[slug] = await add_local(workspace, slug)
            ids[slug] = fleet_fixtures.fill(paths[slug], drafts=2, prefix="spam ")
        await workspace.registry.add("remote", slow_proxy.url)
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            await quiet(app, pilot)
            app.push_screen(FleetScreen())
            await quiet(app, pilot)
            burst(app, "slash", *typed("spam draft 1"), "enter")
            await quiet(app, pilot)
            results = results_of(app)
            assert sorted(column(results, "tenant")) == ["one", "remote", "two"]
            burst(app, "space", "space", "space")
            await quiet(app, pilot)
            assert app.screen.query_one(FleetSearch).marked == {"0", "1", "2"}
            slow_proxy.answer(503)  # the remote tenant fails from now on
            burst(app, "a")
            await until(pilot, lambda: "Across tenants" in screen_text(app))
            burst(app, "y")
            # The status line says it first; the summary is the screen that names each tenant.
            await until(pilot, lambda: isinstance(app.screen, MigrationSummary))
            await until(pilot, lambda: "with conflicts" in screen_text(app))
            summary = screen_text(app)
            assert "2 done" in summary and "1 failed" in summary
            assert "remote: failed" in summary
            assert "one: archived 1 post" in summary and "two: archived 1 post" in summary
            burst(app, "escape")
            await quiet(app, pilot)
            archived = [
                str(results.get_cell(row.key, "status"))
                for row in results.ordered_rows
                if str(results.get_cell(row.key, "tenant")) != "remote"
            ]
            assert archived == ["archived", "archived"]
    finally:
        slow_proxy.pass_through()
        await workspace.close()
    for slug, path in paths.items():
        assert rows(path, "SELECT status FROM posts WHERE title = 'spam draft 1'") == [
            ("archived",)
        ], slug
        # and an app built on drizzle-orm reads the post archived, its date kept
        read = drizzle_read_post(drizzle, path, ids[slug]["draft"][1])
        assert read["status"] == "archived" and read["publishedAt"]["date"] is True
    remote = await remote_rows(
        fleet_sqld.http_url, "SELECT status FROM posts WHERE id = ?", (remote_ids["draft"][0],)
    )
    assert remote == [("draft",)]  # the failing tenant is untouched
    entries = [e for e in workspace.audit.entries() if e.action == "archive"]
    assert {(e.tenant, e.status) for e in entries if e.status != "pending"} == {
        ("one", "ok"),
        ("two", "ok"),
        ("remote", "failed"),
    }


async def test_fleet_search_actions_refuse_in_a_read_only_session(tmp_path: Path) -> None:
    workspace, made = await workspace_with(
        tmp_path, {"acme": dict(drafts=2, comments_per_post=1)}, read_only=True
    )
    app = make_test_app(workspace)
    async with app.run_test(size=(120, 30)) as pilot:
        await quiet(app, pilot)
        app.push_screen(FleetScreen())
        await quiet(app, pilot)
        burst(app, "slash", *typed("draft 1"), "enter")
        await quiet(app, pilot)
        assert column(results_of(app), "kind") == ["comment", "post"]  # undated drafts last
        burst(app, "a", "down", "x")
        await quiet(app, pilot)
        notes = " ".join(str(n.message) for n in app._notifications)
        assert "read-only session" in notes and "archive is disabled" in notes
        assert "deleting comments is disabled" in notes
    await workspace.close()
    path = made["acme"][0]
    assert rows(path, "SELECT count(*) FROM posts WHERE status = 'draft'") == [(2,)]
    assert rows(path, "SELECT count(*) FROM comments") == [(2,)]


async def test_delete_comments_across_tenants_from_the_search(tmp_path: Path) -> None:
    workspace = await open_workspace()
    paths = {}
    try:
        for slug in ("one", "two"):
            paths[slug] = await add_local(workspace, slug)
            fleet_fixtures.fill(paths[slug], drafts=1, comments=3, prefix="buy now ")
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            await quiet(app, pilot)
            app.push_screen(FleetScreen())
            await quiet(app, pilot)
            burst(app, "slash", *typed("buy now comment 1"), "enter")
            await quiet(app, pilot)
            assert column(results_of(app), "kind") == ["comment", "comment"]
            burst(app, "space", "space", "x")
            await until(pilot, lambda: "Across tenants" in screen_text(app))
            assert "one: 1 comment" in screen_text(app)
            burst(app, "y")
            # The status line says it first; the summary is the screen that names each tenant.
            await until(pilot, lambda: isinstance(app.screen, MigrationSummary))
            await until(pilot, lambda: "with conflicts" in screen_text(app))
            assert "Deleted 2 comments: 2 done" in screen_text(app)
            burst(app, "escape")
            await quiet(app, pilot)
            assert column(results_of(app), "kind") == ["deleted", "deleted"]
    finally:
        await workspace.close()
    for path in paths.values():
        assert rows(path, "SELECT content FROM comments ORDER BY created_at") == [
            ("buy now comment 0",),
            ("buy now comment 2",),
        ]


@pytest.mark.parametrize("oldest_first", [False, True])
async def test_search_pages_walk_dated_then_undated_rows_in_one_order(
    tmp_path: Path, oldest_first: bool
) -> None:
    """A search reads the whole order in one query per page; pages of 2 meet every match once,
    dated rows by date then the undated ones (oldest first: exactly the reverse)."""
    path = tmp_path / "t.db"
    await make_tenant(path)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO users VALUES ('u', 'u@x', 'U', 1)")
    dates = [5, None, 3, None, 9, 1, None]
    for n, date in enumerate(dates):
        db.execute(
            "INSERT INTO posts VALUES (?, ?, 'match', 'u', ?, ?)",
            (f"p{n}", f"post {n}", date, "draft" if date is None else "published"),
        )
        db.execute("INSERT INTO comments VALUES (?, 'match', 'p0', 'u', ?)", (f"c{n}", date))
    db.execute("INSERT INTO posts VALUES ('other', 'no', 'no', 'u', 4, 'published')")
    db.commit()
    db.close()
    newest = ["p4", "p0", "p2", "p5", "p6", "p3", "p1"]  # undated: newest inserted first
    async with await connect(f"file:{path}", read_only=True) as conn:
        seen, after = [], None
        while True:
            page = await moderation.fetch_posts(
                conn, None, search="MATCH", limit=2, after=after, oldest_first=oldest_first
            )
            seen += [p.id for p in page.posts]
            if page.next is None:
                break
            after = page.next
        assert seen == (newest[::-1] if oldest_first else newest)
        if not oldest_first:
            found, after = [], None
            while True:
                comments = await moderation.find_comments(
                    conn, search="match", limit=3, after=after
                )
                found += [c.id for c in comments.comments]
                if comments.next is None:
                    break
                after = comments.next
            assert found == ["c4", "c0", "c2", "c5", "c6", "c3", "c1"]


async def test_a_post_changed_underneath_is_a_conflict_on_its_tenant_only(tmp_path: Path) -> None:
    workspace = await open_workspace()
    paths = {}
    try:
        for slug in ("one", "two"):
            paths[slug] = await add_local(workspace, slug)
            fleet_fixtures.fill(paths[slug], drafts=1, prefix="wave ")
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            await quiet(app, pilot)
            app.push_screen(FleetScreen())
            await quiet(app, pilot)
            burst(app, "slash", *typed("wave draft 0"), "enter")
            await quiet(app, pilot)
            assert column(results_of(app), "tenant") == ["one", "two"]
            db = sqlite3.connect(paths["two"])  # someone publishes it meanwhile
            db.execute("UPDATE posts SET status = 'published'")
            db.commit()
            db.close()
            burst(app, "space", "space", "a")
            await until(pilot, lambda: "Across tenants" in screen_text(app))
            burst(app, "y")
            # The status line says it first; the summary is the screen that names each tenant.
            await until(pilot, lambda: isinstance(app.screen, MigrationSummary))
            await until(pilot, lambda: "with conflicts" in screen_text(app))
            summary = screen_text(app)
            assert "1 done, 1 with conflicts, 0 failed" in summary
            assert "one: archived 1 post" in summary
            assert "two: archived 0 posts; 1 changed by someone else meanwhile" in summary
    finally:
        await workspace.close()
    assert rows(paths["one"], "SELECT status FROM posts") == [("archived",)]
    assert rows(paths["two"], "SELECT status FROM posts") == [("published",)]


async def test_a_comment_match_past_the_preview_is_shown_around_the_match(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    await literal_tenant(path)
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO comments VALUES ('far', ?, 'pct', ?, 1800000000)",
        ("x" * 5000 + " the [i]needle[/i] " + "y" * 100, AUTHOR),
    )
    db.commit()
    db.close()
    async with await connect(f"file:{path}", read_only=True) as conn:
        page = await moderation.fetch_comments(conn, "pct", search="[I]NEEDLE")
        [far] = page.comments
        assert far.excerpt and "[i]needle[/i]" in far.content and len(far.content) < 400
        page = await moderation.fetch_comments(conn, "pct", search="100%")
        [near] = page.comments
        assert not near.excerpt and near.content == "re: now 100% off, only today"
    cell = highlighted(far.content, "[I]NEEDLE", 60, ellipsis_before=True)
    assert cell.plain.startswith("…") and matched_parts(cell) == ["[i]needle"]
