"""The cross-tenant moderation queue: merged newest first, paged, actions on the right tenant."""

from __future__ import annotations

import sqlite3

from support.fleet_fixtures import BASE_TIME, add_local, fill, open_workspace, rows
from tursotui.fleet import actions, queue


async def _fleet(workspace, n: int = 3, drafts: int = 7, comments: int = 5):
    paths = {}
    ids = {}
    for i in range(n):
        slug = f"t{i}"
        paths[slug] = await add_local(workspace, slug)
        # Interleaved times: tenant i's n-th post at BASE + (n*3 + i) minutes.
        ids[slug] = fill(
            paths[slug],
            drafts=drafts,
            published=1,
            comments=comments,
            start=BASE_TIME + i * 60,
            step=n * 60,
            prefix=f"{slug} ",
        )
    return paths, ids


async def test_drafts_are_merged_newest_first_across_tenants_page_by_page() -> None:
    workspace = await open_workspace()
    try:
        _paths, ids = await _fleet(workspace)
        merged = queue.drafts_queue(workspace, await workspace.registry.tenants(), page_size=4)
        pages = []
        while not merged.exhausted:
            page = await merged.next_page()
            if not page:
                break
            pages.append(page)
    finally:
        await workspace.close()
    everything = [row for page in pages for row in page]
    assert len(everything) == 21 and all(len(p) == 4 for p in pages[:-1])
    times = [row.post.published_at for row in everything]
    assert times == sorted(times, reverse=True) and len(set(times)) == 21
    assert {row.key for row in everything} == {
        (slug, post_id) for slug, by_kind in ids.items() for post_id in by_kind["draft"]
    }
    assert all(row.post.status == "draft" for row in everything)


async def test_the_merge_reads_one_page_per_tenant_not_whole_tenants() -> None:
    workspace = await open_workspace()
    try:
        await _fleet(workspace, n=3, drafts=40)
        merged = queue.drafts_queue(workspace, await workspace.registry.tenants(), page_size=5)
        first = await merged.next_page()
        buffered = sum(len(s.buffer) for s in merged._sources)
    finally:
        await workspace.close()
    assert len(first) == 5
    assert buffered <= 3 * 5  # at most one page per tenant held


async def test_publishing_from_the_queue_lands_on_each_rows_own_tenant() -> None:
    workspace = await open_workspace()
    try:
        paths, ids = await _fleet(workspace)
        merged = queue.drafts_queue(workspace, await workspace.registry.tenants(), page_size=6)
        page = await merged.next_page()
        chosen = page[:4]
        # One of them is archived by the app meanwhile: a conflict, not an overwrite.
        victim = chosen[0]
        db = sqlite3.connect(paths[victim.tenant.slug])
        db.execute("UPDATE posts SET status = 'archived' WHERE id = ?", (victim.post.id,))
        db.commit()
        db.close()
        outcome = await actions.set_status_across(
            workspace, [(q.tenant, q.post.id, q.post.status) for q in chosen], "published"
        )
    finally:
        await workspace.close()
    assert outcome.conflicts == [victim.key]
    assert set(outcome.changed) == {row.key for row in chosen[1:]}
    for slug, path in paths.items():
        published = {r[0] for r in rows(path, "SELECT id FROM posts WHERE status = 'published'")}
        expected = set(ids[slug]["published"]) | {
            row.post.id for row in chosen[1:] if row.tenant.slug == slug
        }
        assert published == expected, slug
        assert rows(path, "SELECT status FROM posts WHERE id = ?", (victim.post.id,)) in (
            [],
            [("archived",)],
        )
    entries = [e for e in workspace.audit.entries() if e.status == "ok"]
    assert {e.tenant for e in entries} == {row.tenant.slug for row in chosen}


async def test_deleting_spam_comments_everywhere_from_one_queue() -> None:
    workspace = await open_workspace()
    try:
        paths, ids = await _fleet(workspace, comments=4)
        merged = queue.comments_queue(workspace, await workspace.registry.tenants(), page_size=5)
        page = await merged.next_page()
        created = [c.created_at for c in page]
        assert created == sorted(created, reverse=True)
        assert all(c.post_title for c in page)
        outcome = await actions.delete_comments_across(workspace, [(c.tenant, c.id) for c in page])
    finally:
        await workspace.close()
    assert sorted(outcome.changed) == sorted(c.key for c in page)
    for slug, path in paths.items():
        left = {r[0] for r in rows(path, "SELECT id FROM comments")}
        gone = {c.id for c in page if c.tenant.slug == slug}
        assert left == set(ids[slug]["comment"]) - gone, slug
    assert {e.tenant for e in workspace.audit.entries()} == {c.tenant.slug for c in page}


async def test_a_dead_tenant_is_reported_and_the_queue_goes_on() -> None:
    from support.servers import free_port

    workspace = await open_workspace(timeout=2.0)
    try:
        await _fleet(workspace, n=2, drafts=3)
        await workspace.registry.add("dead", f"http://127.0.0.1:{free_port()}")
        merged = queue.drafts_queue(workspace, await workspace.registry.tenants(), page_size=10)
        page = await merged.next_page()
    finally:
        await workspace.close()
    assert len(page) == 6
    assert "dead" in merged.errors


# -- a slow or hung tenant costs only itself ------------------------------------------------

import time  # noqa: E402

import pytest  # noqa: E402

import test_drizzle_interop  # noqa: E402
from support import fleet_fixtures  # noqa: E402
from support.shell_fixtures import silent_url_fixture  # noqa: E402, F401 - the silent_url fixture

fleet_sqld = fleet_fixtures.fleet_sqld
slow_proxy = fleet_fixtures.slow_proxy
sqld_tenant_url = fleet_fixtures.sqld_tenant_url
drizzle = test_drizzle_interop.drizzle


async def _fill_remote_drafts(url: str, times: list[int]) -> set[str]:
    """Drafts on the sqld tenant, one per time; their ids."""
    import uuid

    from tursotui.db import connect

    author = str(uuid.uuid4())
    ids = [str(uuid.uuid4()) for _ in times]
    conn = await connect(url, name="late")
    try:
        await conn.batch(
            ["DELETE FROM comments", "DELETE FROM posts", "DELETE FROM users"]
            + [("INSERT INTO users VALUES (?, ?, ?, ?)", [author, "l@x", "Late", BASE_TIME])]
            + [
                (
                    "INSERT INTO posts VALUES (?, ?, 'body', ?, ?, 'draft')",
                    [post_id, f"late {n}", author, when],
                )
                for n, (post_id, when) in enumerate(zip(ids, times, strict=True))
            ]
        )
    finally:
        await conn.close()
    return set(ids)


@pytest.mark.servers
async def test_a_slow_tenant_fills_in_among_the_rows_already_shown(
    sqld_tenant_url: str, slow_proxy
) -> None:
    workspace = await open_workspace(timeout=10.0)
    try:
        _paths, ids = await _fleet(workspace, n=2, drafts=6, comments=0)
        # The slow tenant's drafts fall between the others' (they are a minute apart).
        late_ids = await _fill_remote_drafts(
            sqld_tenant_url, [BASE_TIME + 30 + k * 60 for k in range(10)]
        )
        await workspace.registry.add("late", slow_proxy.url)
        slow_proxy.delay(1500)
        merged = queue.drafts_queue(workspace, await workspace.registry.tenants())
        start = time.perf_counter()
        page = await merged.next_page(patience=0.3)
        first = time.perf_counter() - start
        assert first < 1.2, first  # not held until the slow tenant answers
        assert merged.waiting == ["late"]
        assert {row.tenant.slug for row in page} == {"t0", "t1"} and len(page) == 12
        arrived = await merged.arrivals()
        assert arrived and {row.tenant.slug for row in arrived} == {"late"}
        floor = min(row.order for row in page)
        assert all(row.order >= floor for row in arrived)  # they belong among those shown
        rest = []
        while not merged.exhausted:
            more = await merged.next_page(patience=0.3)
            rest.extend(more)
            rest.extend(await merged.arrivals())
            if not more and not merged.waiting:
                break
    finally:
        slow_proxy.pass_through()
        await workspace.close()
    everything = page + arrived + rest
    keys = [row.key for row in everything]
    assert len(keys) == len(set(keys))  # nothing twice
    expected = {("late", i) for i in late_ids} | {
        (slug, i) for slug, by_kind in ids.items() for i in by_kind["draft"]
    }
    assert set(keys) == expected  # nothing lost
    # Shown newest first once sorted the way the screen shows them; later pages are older.
    assert all(row.order < floor for row in rest if row.tenant.slug != "late")


@pytest.mark.servers
async def test_the_queue_screen_shows_answered_tenants_while_one_hangs(
    silent_url: str, sqld_tenant_url: str, slow_proxy
) -> None:
    """One hung tenant (never answers) and one slow one: rows long before the 4 s timeout."""
    from textual.widgets import Static

    from tursotui.ui.app import make_app
    from tursotui.ui.screens.queue import QueueScreen
    from tursotui.ui.widgets.row_list import RowList

    workspace = await open_workspace(timeout=4.0)
    try:
        await _fleet(workspace, n=2, drafts=3, comments=0)
        await _fill_remote_drafts(sqld_tenant_url, [BASE_TIME + 30 + k * 60 for k in range(3)])
        await workspace.registry.add("hung", silent_url)
        await workspace.registry.add("late", slow_proxy.url)
        slow_proxy.delay(1200)
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = QueueScreen()
            start = time.perf_counter()
            app.push_screen(screen)
            await pilot.pause()
            table = screen.query_one("#queue-table", RowList)

            def status() -> str:
                return str(screen.query_one("#queue-status", Static).render())

            while table.row_count < 6 and time.perf_counter() - start < 10:
                await pilot.pause(0.05)
            shown_after = time.perf_counter() - start
            assert table.row_count == 6 and shown_after < 2.0, shown_after
            assert "waiting for hung" in status() or "waiting for late, hung" in status()
            while table.row_count < 9 and time.perf_counter() - start < 10:
                await pilot.pause(0.05)
            assert table.row_count == 9  # the slow tenant's rows, among the others
            times = [screen.items[key].order for key in table.ordered_keys]
            assert times == sorted(times, reverse=True)
            assert "hung" in status()
            while "failed" not in status() and time.perf_counter() - start < 10:
                await pilot.pause(0.1)
            assert "1 tenant failed: hung: no answer within 4 s" in status()
            assert "waiting" not in status()
    finally:
        slow_proxy.pass_through()
        await workspace.close()


# -- keys in bursts, late rows that never move what is looked at ------------------------------


def _queue_screen_of(app):
    from tursotui.ui.screens.queue import QueueScreen

    screen = app.screen
    assert isinstance(screen, QueueScreen), screen
    return screen


async def _open_queue(app, pilot):
    from support.keys import quiet
    from tursotui.ui.screens.queue import QueueScreen

    app.push_screen(QueueScreen())
    await quiet(app, pilot)
    return _queue_screen_of(app)


async def _with_a_slow_tenant(
    workspace, url: str, proxy, *, drafts: int, late: int, every: int, delay: float
) -> set[str]:
    """Two local tenants of `drafts` drafts and a slow one behind `proxy` (`delay` ms a
    request) whose `late` drafts fall among the others' (`every` seconds apart); its ids."""
    await _fleet(workspace, n=2, drafts=drafts, comments=0)
    late_ids = await _fill_remote_drafts(url, [BASE_TIME + 30 + k * every for k in range(late)])
    await workspace.registry.add("late", proxy.url)
    proxy.delay(delay)
    return late_ids


@pytest.mark.servers
async def test_pagedowns_in_a_burst_reach_as_far_as_one_by_one_with_a_slow_tenant(
    sqld_tenant_url: str, slow_proxy
) -> None:
    """20 `pagedown` at once on a fleet with a slow sqld tenant: where 20 one by one go.

    The merged pages come a page at a time and the slow tenant's rows arrive late
    (interleaved by time with the others'), so the keys outrun the rows.
    """
    from support.keys import burst, quiet
    from support.moderation_fixtures import make_test_app
    from tursotui.ui.widgets.row_list import RowList

    workspace = await open_workspace(timeout=10.0)
    try:
        late_ids = await _with_a_slow_tenant(
            workspace, sqld_tenant_url, slow_proxy, drafts=300, late=120, every=300, delay=400
        )
        app = make_test_app(workspace)
        positions = []
        async with app.run_test(size=(100, 30)) as pilot:
            await quiet(app, pilot)
            for one_by_one in (False, True):
                screen = await _open_queue(app, pilot)
                table = screen.query_one("#queue-table", RowList)
                page = table.scrollable_content_region.height - 1
                assert table.row_count < 20 * page  # the keys go past the rows loaded at first
                if one_by_one:
                    for _ in range(20):
                        await pilot.press("pagedown")
                        await quiet(app, pilot)
                else:
                    burst(app, *["pagedown"] * 20)
                    await quiet(app, pilot)
                keys = table.ordered_keys
                assert len(keys) == len(set(keys))  # nothing twice
                times = [screen.items[key].order[:1] for key in keys]
                assert times == sorted(times, reverse=True)  # still newest first
                late_shown = {k.split("\x00")[1] for k in keys if k.startswith("late\x00")}
                assert late_shown and late_shown <= late_ids  # the slow tenant's rows are in
                positions.append((table.cursor_row, table.scroll_offset.y))
                assert table.cursor_row == 20 * page
                app.pop_screen()
                await quiet(app, pilot)
        assert positions[0] == positions[1]
    finally:
        slow_proxy.pass_through()
        await workspace.close()


@pytest.mark.servers
async def test_late_rows_never_move_the_rows_above_the_cursor(
    sqld_tenant_url: str, slow_proxy
) -> None:
    """A slow tenant's rows that belong below the cursor join in their place; those that
    belong above it are held and counted, and `l` puts them in, the cursor on the newest."""
    from textual.widgets import Static

    from support.moderation_fixtures import make_test_app
    from tursotui.ui.widgets.row_list import RowList

    workspace = await open_workspace(timeout=10.0)
    try:
        late_ids = await _with_a_slow_tenant(
            workspace, sqld_tenant_url, slow_proxy, drafts=20, late=20, every=120, delay=1500
        )
        app = make_test_app(workspace)
        async with app.run_test(size=(100, 40)) as pilot:
            from tursotui.ui.screens.queue import QueueScreen

            app.push_screen(QueueScreen())
            screen = None
            for _ in range(200):
                if isinstance(app.screen, QueueScreen) and app.screen.is_mounted:
                    screen = app.screen
                    if screen.query_one("#queue-table", RowList).row_count >= 40:
                        break
                await pilot.pause(0.02)
            assert screen is not None
            table = screen.query_one("#queue-table", RowList)
            assert table.row_count == 40 and screen.merged.waiting == ["late"]
            await pilot.press(*["down"] * 10)
            looked_at = table.ordered_keys[: table.cursor_row + 1]
            top = table.scroll_offset.y
            for _ in range(300):
                if not screen.merged.waiting and not screen.merged.has_arrivals:
                    break
                await pilot.pause(0.02)
            await pilot.pause()
            assert not screen.merged.waiting
            # What the user looks at did not move: the cursor's row and the rows above it.
            assert table.ordered_keys[: table.cursor_row + 1] == looked_at
            assert table.cursor_row == 10 and table.scroll_offset.y == top
            below = [k for k in table.ordered_keys[11:] if k.startswith("late\x00")]
            assert below  # joined below the cursor, in their place
            held = set(screen.late)
            assert held and all(k.startswith("late\x00") for k in held)
            status = str(screen.query_one("#queue-status", Static).render())
            assert f"{len(held)} late rows above the cursor: l shows them" in status
            keys = table.ordered_keys
            orders = [screen.items[k].order for k in keys]
            assert orders == sorted(orders, reverse=True)

            await pilot.press("l")
            keys = table.ordered_keys
            assert held <= set(keys) and not screen.late
            newest_held = max(held, key=lambda k: screen.items[k].order)
            assert table.cursor_key == newest_held
            orders = [screen.items[k].order for k in keys]
            assert orders == sorted(orders, reverse=True)
            assert {k.split("\x00")[1] for k in keys if k.startswith("late\x00")} == late_ids
            assert len(keys) == 60
    finally:
        slow_proxy.pass_through()
        await workspace.close()


# -- content search and actions across tenants ------------------------------------------------


def _queue_texts(screen, column: int) -> list[str]:
    from tursotui.ui.widgets.row_list import RowList

    table = screen.query_one("#queue-table", RowList)
    return [table.get_row(key)[column].plain for key in table.ordered_keys]


async def test_slash_searches_drafts_and_comments_by_content_literally_across_tenants() -> None:
    """`/`, a text with LIKE's wildcards and `enter` in one burst: only the rows whose text
    holds it, on every tenant; marks on two tenants and `a` archive both, each on its own."""
    from support.keys import burst, quiet, typed
    from support.moderation_fixtures import make_test_app
    from support.screen import until
    from tursotui.ui.screens.confirm import ConfirmScreen

    workspace = await open_workspace()
    try:
        paths, ids = await _fleet(workspace, n=3, drafts=4, comments=4)
        needle = "50%_off"
        # t0: in a title; t1: in a content; t2: a decoy `50XYoff` that an unescaped LIKE matches.
        for slug, sql, target in (
            ("t0", "UPDATE posts SET title = 'Sale 50%_off today' WHERE id = ?", "draft"),
            ("t1", "UPDATE posts SET content = 'body: 50%_off!' WHERE id = ?", "draft"),
            ("t2", "UPDATE posts SET title = 'Sale 50XYoff' WHERE id = ?", "draft"),
            ("t1", "UPDATE comments SET content = 'spam 50%_off here' WHERE id = ?", "comment"),
            ("t2", "UPDATE comments SET content = 'spam 50XYoff here' WHERE id = ?", "comment"),
        ):
            db = sqlite3.connect(paths[slug])
            db.execute(sql, (ids[slug][target][1],))
            db.commit()
            db.close()
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await _open_queue(app, pilot)
            assert len(screen.items) == 12
            burst(app, "slash", *typed(needle), "enter")
            await quiet(app, pilot)
            assert screen.search == needle
            assert app.focused is screen.table
            assert sorted(k.split("\x00")[0] for k in screen.table.ordered_keys) == ["t0", "t1"]
            assert "Sale 50%_off today" in _queue_texts(screen, 3)
            assert needle in str(screen.query_one("#queue-modes").render())

            burst(app, "2")  # the search holds for the comments too
            await quiet(app, pilot)
            assert _queue_texts(screen, 2) == ["spam 50%_off here"]

            burst(app, "1", "space", "space", "a")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            question = str(app.screen.query_one("#confirm-message").render())
            assert "t0 1" in question and "t1 1" in question  # per tenant
            burst(app, "y")
            await until(pilot, lambda: app.screen is screen and not screen.items)
            await quiet(app, pilot)
            status = str(screen.query_one("#queue-status").render())
            assert "Archived 2 posts on 2 tenants." in status and "nothing matches" in status

            burst(app, "escape")  # clears the search: every draft left again
            await quiet(app, pilot)
            assert screen.search is None and len(screen.items) == 10
            assert app.screen is screen
    finally:
        await workspace.close()
    for slug, expected in (("t0", [ids["t0"]["draft"][1]]), ("t1", [ids["t1"]["draft"][1]])):
        assert rows(paths[slug], "SELECT id FROM posts WHERE status = 'archived'") == [
            (i,) for i in expected
        ]
    assert rows(paths["t2"], "SELECT count(*) FROM posts WHERE status = 'archived'") == [(0,)]


@pytest.mark.servers
async def test_a_cross_tenant_publish_with_a_failing_remote_tenant(
    drizzle, sqld_tenant_url: str, slow_proxy
) -> None:
    """Marks on three tenants, `p`: one batch per tenant; the remote one fails (its server
    answers 503). The others are done, the summary says so per tenant, the failing one is
    asked once (not retried) and keeps its drafts; drizzle-orm reads the result back."""
    import subprocess

    from support.keys import burst, quiet
    from support.moderation_fixtures import make_test_app
    from support.screen import until
    from test_drizzle_interop import drizzle_read_post
    from tursotui.ui.screens.action_summary import ActionSummaryScreen
    from tursotui.ui.screens.confirm import ConfirmScreen

    workspace = await open_workspace(timeout=5.0)
    try:
        paths, ids = await _fleet(workspace, n=2, drafts=2, comments=0)
        remote_ids = await _fill_remote_drafts(
            sqld_tenant_url, [BASE_TIME + 30 + k * 60 for k in range(2)]
        )
        await workspace.registry.add("remote", slow_proxy.url)
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await _open_queue(app, pilot)
            assert {k.split("\x00")[0] for k in screen.items} == {"t0", "t1", "remote"}
            burst(app, *["space"] * 6, "p")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            slow_proxy.answer(503)
            slow_proxy.reset_count()
            burst(app, "y")
            await until(pilot, lambda: isinstance(app.screen, ActionSummaryScreen))
            summary = str(app.screen.query_one("#summary-message").render())
            assert slow_proxy.requests == 1  # one batch, not retried
            lines = summary.splitlines()
            assert "t0: done 2 posts" in lines and "t1: done 2 posts" in lines
            (failed,) = [line for line in lines if line.startswith("remote: ")]
            assert "failed, nothing written there (not retried)" in failed and "503" in failed
            burst(app, "enter")
            await until(pilot, lambda: app.screen is screen)
            await quiet(app, pilot)
            status = str(screen.query_one("#queue-status").render())
            assert "Published 4 posts on 2 tenants." in status and "1 tenant failed." in status
            # The remote tenant's drafts stay in the queue, still marked for another try.
            assert {k.split("\x00")[0] for k in screen.items} == {"remote"}
            assert screen.marked == set(screen.items)
            slow_proxy.pass_through()
    finally:
        slow_proxy.pass_through()
        await workspace.close()
    for slug, path in paths.items():
        for post_id in ids[slug]["draft"]:
            read = drizzle_read_post(drizzle, path, post_id)
            assert read["status"] == "published" and read["publishedAt"]["date"] is True
    for post_id in remote_ids:
        done = subprocess.run(
            ["node", str(drizzle / "read_post.mjs"), sqld_tenant_url, post_id],
            check=True,
            capture_output=True,
            timeout=60,
            text=True,
        )
        assert '"status":"draft"' in done.stdout
    outcomes = {(e.tenant, e.status) for e in workspace.audit.entries() if e.status != "pending"}
    assert outcomes == {("t0", "ok"), ("t1", "ok"), ("remote", "failed")}


async def test_a_search_is_read_page_by_page_per_tenant_and_matches_literally() -> None:
    """Drafts by title or content, comments by content; `%` and `_` match only themselves."""
    workspace = await open_workspace()
    try:
        paths, ids = await _fleet(workspace, n=2, drafts=12, comments=6)
        for slug, path in paths.items():
            db = sqlite3.connect(path)
            # Every other draft holds the text (in its title on t0, its content on t1);
            # every draft's title has a near miss that an unescaped LIKE would match.
            column = "title" if slug == "t0" else "content"
            for n, post_id in enumerate(ids[slug]["draft"]):
                text = "a 100%_sure thing" if n % 2 else "a 100XYsure thing"
                db.execute(f"UPDATE posts SET {column} = ? WHERE id = ?", (text, post_id))
            db.execute(
                "UPDATE comments SET content = 'it is 100%_sure' WHERE id = ?",
                (ids[slug]["comment"][0],),
            )
            if slug == "t1":  # drafts never published: no date, in insertion order
                db.execute("UPDATE posts SET published_at = NULL WHERE status = 'draft'")
            db.commit()
            db.close()
        tenants = await workspace.registry.tenants()
        merged = queue.drafts_queue(workspace, tenants, page_size=4, search="100%_SURE")
        pages = []
        while not merged.exhausted:
            page = await merged.next_page()
            if not page:
                break
            pages.append(page)
            buffered = sum(len(s.buffer) for s in merged._sources)
            assert buffered <= 2 * 4  # never more than a page per tenant held
        comments = await queue.comments_queue(workspace, tenants, search="100%_sure").next_page()
    finally:
        await workspace.close()
    found = [row for page in pages for row in page]
    assert [len(page) for page in pages] == [4, 4, 4]
    expected = {(slug, ids[slug]["draft"][n]) for slug in paths for n in range(1, 12, 2)}
    assert {row.key for row in found} == expected
    orders = [row.order for row in found]
    assert orders == sorted(orders, reverse=True)
    assert [row.tenant.slug for row in found] == ["t0"] * 6 + ["t1"] * 6  # dated ones first
    assert {c.key for c in comments} == {(slug, ids[slug]["comment"][0]) for slug in paths}


async def test_keys_typed_as_the_queue_opens_wait_for_its_rows() -> None:
    """On the fleet, `m` `space` `space` `p` `y` in one burst: the two newest drafts published."""
    from support.keys import burst, quiet
    from support.moderation_fixtures import make_test_app
    from tursotui.ui.screens.fleet import FleetScreen
    from tursotui.ui.screens.queue import QueueScreen

    workspace = await open_workspace()
    try:
        paths, ids = await _fleet(workspace, n=2, drafts=3, comments=0)
        app = make_test_app(workspace)
        async with app.run_test(size=(120, 30)) as pilot:
            await quiet(app, pilot)
            app.push_screen(FleetScreen())
            await quiet(app, pilot)
            burst(app, "m", "space", "space", "p", "y")
            await quiet(app, pilot)
            assert isinstance(app.screen, QueueScreen)
            assert "Published 2 posts on 2 tenants." in str(
                app.screen.query_one("#queue-status").render()
            )
            assert len(app.screen.items) == 4
    finally:
        await workspace.close()
    # The newest draft of each tenant (the merge shows t1's then t0's newest first).
    for slug, path in paths.items():
        assert rows(
            path,
            "SELECT id FROM posts WHERE status = 'published' AND id IN (?, ?, ?)",
            tuple(ids[slug]["draft"]),
        ) == [(ids[slug]["draft"][-1],)]
