"""Moderating a tenant while its owning app writes to the same rows.

The owning app is simulated by a real subprocess with its own sqlite3 connection
(busy timeout, autocommit, like a web app) that, for a few seconds, moves random posts
to statuses of its own (`spam`, `review`), inserts new drafts and deletes posts.
Meanwhile tursotui moderates the same posts between draft/published/archived, through
`moderation.set_status` and through the posts screen.

A trigger records every UPDATE and DELETE of a post (old status, new status) in commit
order, which makes "no lost update" checkable:

- every change tursotui reports as done is in the history as exactly the transition it
  asked for (from the status it showed), and the post still has that status unless a
  later history entry (the owner's) changed it;
- no transition into draft/published/archived ever starts from a status tursotui did
  not show (the guard held: nothing of the owner's was overwritten);
- every post reported as a conflict was really changed underneath;
- neither side ever saw `database is locked`.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from adversarial_stats import count
from fault_fixtures import ProxiedTenant

from support.moderation_fixtures import fill, fill_remote, make_tenant, settle
from support.screen import screen_text, until
from tursotui.db import connect
from tursotui.session.audit import AuditLog
from tursotui.tenant import moderation
from tursotui.ui.widgets.row_list import RowList
from tursotui.words import plural

APP_STATUSES = ("draft", "published", "archived")
OWNER_SECONDS = 3.0

OWNER = textwrap.dedent(
    """
    import json, random, sqlite3, sys, time, uuid
    path, seconds = sys.argv[1], float(sys.argv[2])
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    rng = random.Random(7)
    ops = {"update": 0, "insert": 0, "delete": 0, "locked": 0}
    author = db.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            ids = [r[0] for r in db.execute("SELECT id FROM posts ORDER BY random() LIMIT 3")]
            op = rng.random()
            if op < 0.6 and ids:
                db.execute("UPDATE posts SET status = ? WHERE id = ?",
                           (rng.choice(["spam", "review"]), ids[0]))
                ops["update"] += 1
            elif op < 0.85:
                db.execute("INSERT INTO posts (id, title, content, author_id, status) "
                           "VALUES (?, 'owner', 'b', ?, 'draft')", (str(uuid.uuid4()), author))
                ops["insert"] += 1
            elif ids:
                db.execute("DELETE FROM comments WHERE post_id = ?", (ids[0],))
                db.execute("DELETE FROM posts WHERE id = ?", (ids[0],))
                ops["delete"] += 1
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                ops["locked"] += 1
            else:
                raise
        time.sleep(rng.uniform(0.001, 0.01))
    print(json.dumps(ops))
    """
)

HISTORY = """
CREATE TABLE history (seq INTEGER PRIMARY KEY, post_id TEXT, old TEXT, new TEXT);
CREATE TRIGGER posts_updated AFTER UPDATE OF status ON posts BEGIN
  INSERT INTO history (post_id, old, new) VALUES (old.id, old.status, new.status);
END;
CREATE TRIGGER posts_deleted AFTER DELETE ON posts BEGIN
  INSERT INTO history (post_id, old, new) VALUES (old.id, old.status, NULL);
END;
"""


def owner(path: Path, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", OWNER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> dict[str, int]:
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    ops = json.loads(out)
    assert ops["locked"] == 0, ops  # its busy timeout always got the lock in the end
    return ops


def check_history(path: Path, reported: list[tuple[str, str, str, str]]) -> None:
    """`reported`: (post_id, shown, new, outcome) with outcome `changed` or `conflict`."""
    import sqlite3

    db = sqlite3.connect(path)
    history = db.execute("SELECT seq, post_id, old, new FROM history ORDER BY seq").fetchall()
    final = dict(db.execute("SELECT id, status FROM posts").fetchall())
    db.close()
    asked = {(p, shown, new) for p, shown, new, outcome in reported if outcome == "changed"}
    # The guard held: every move into an app status came from a status the app showed.
    for _seq, post_id, old, new in history:
        if new in APP_STATUSES:
            assert (post_id, old, new) in asked, (post_id, old, new)
    for post_id, shown, new, outcome in reported:
        entries = [(seq, old, n) for seq, p, old, n in history if p == post_id]
        mine = [seq for seq, old, n in entries if (old, n) == (shown, new)]
        if outcome == "changed":
            assert mine, (post_id, shown, new)
            later = [e for e in entries if e[0] > mine[-1]]
            if not later:  # nobody touched it since: it must still be what the app made it
                assert final.get(post_id) == new, (post_id, new, final.get(post_id))
            count("concurrency_changes_checked")
        else:
            # A conflict: the post was changed or deleted underneath, so the guard refused.
            assert any(old == shown and n not in APP_STATUSES for _, old, n in entries) or any(
                n is None for _, _, n in entries
            ), (post_id, shown, entries)
            count("concurrency_conflicts_checked")


async def test_set_status_against_the_owning_app(tmp_path: Path) -> None:
    path = tmp_path / "acme.db"
    await make_tenant(path)
    fill(path, drafts=60, published=30, archived=10)
    import sqlite3

    db = sqlite3.connect(path)
    db.executescript(HISTORY)
    db.close()
    conn = await connect(f"file:{path}", name="acme")
    audit = AuditLog(tmp_path / "audit.jsonl", "tester")
    reported: list[tuple[str, str, str, str]] = []
    rng = random.Random(11)
    process = owner(path, OWNER_SECONDS)
    try:
        end = time.monotonic() + OWNER_SECONDS
        while time.monotonic() < end:
            # What the screen shows...
            shown = (await conn.execute(
                "SELECT id, status FROM posts WHERE status IN ('draft', 'published', 'archived') "
                "ORDER BY random() LIMIT 8"
            )).rows  # fmt: skip
            await asyncio.sleep(rng.uniform(0.0, 0.02))  # ...while the operator decides
            new = rng.choice(APP_STATUSES)
            posts = [(str(r[0]), str(r[1])) for r in shown if r[1] != new]
            result = await moderation.set_status(conn, audit, "acme", posts, new)
            assert sorted(result.changed + result.conflicts) == sorted(p for p, _ in posts)
            for post_id, status in posts:
                outcome = "changed" if post_id in result.changed else "conflict"
                reported.append((post_id, status, new, outcome))
    finally:
        ops = finish(process)
        await conn.close()
    count("concurrency_owner_ops", sum(ops.values()))
    assert ops["update"] > 20 and len(reported) > 50, (ops, len(reported))
    check_history(path, reported)
    # The audit log agrees with what was reported.
    entries = [e for e in audit.entries() if e.status == "ok"]
    audited = {i for e in entries for i in e.row_ids}
    assert audited == {p for p, _, _, o in reported if o == "changed"}


async def test_posts_screen_bulk_publish_against_the_owning_app(tmp_path: Path) -> None:
    from support.moderation_fixtures import make_test_app, workspace_with
    from tursotui.ui.screens.confirm import ConfirmScreen
    from tursotui.ui.screens.posts import PostsScreen

    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=40)})
    path, _ids = made["acme"]
    import sqlite3

    db = sqlite3.connect(path)
    db.executescript(HISTORY)
    db.close()
    app = make_test_app(workspace)
    reported: list[tuple[str, str, str, str]] = []
    try:
        async with app.run_test(size=(100, 60)) as pilot:
            app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
            await settle(app, pilot)
            screen = app.screen
            table = screen.query_one("#posts-table", RowList)
            shown = table.ordered_keys
            assert len(shown) == 40
            process = owner(path, 1.5)
            await pilot.press("space")  # the key once; then its action, without the pilot's
            for _ in shown[1:]:  # per-key repaint wait (the owner runs for 1.5 s only)
                screen.action_mark()
            await pilot.pause()
            assert len(screen.marked) == 40
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(pilot, lambda: not moderating(app))
            ops = finish(process)
            messages = [str(n.message) for n in app._notifications]
            said = screen.feedback.plain if screen.feedback is not None else ""
            text = screen_text(app)
            assert "locked" not in " ".join(messages).lower() and "locked" not in text.lower()
        changed = {r[0] for r in _rows(path, "SELECT post_id FROM history WHERE new = 'published'")}
        for post_id in shown:
            reported.append(
                (post_id, "draft", "published", "changed" if post_id in changed else "conflict")
            )
        # What the write did is said in the status line (a toast would cover the rows).
        assert said.startswith(f"Published {plural(len(changed), 'post')} on acme."), said
        conflicts = 40 - len(changed)
        if conflicts:
            assert f"{plural(conflicts, 'post')} changed by someone else" in said, said
        count("concurrency_owner_ops", sum(ops.values()))
        check_history(path, reported)
    finally:
        await workspace.close()


def moderating(app) -> bool:
    return any(w.group == "moderate" and w.is_running for w in app.screen_stack[-1].workers) or any(
        w.group == "moderate" and w.is_running for w in app.workers
    )


def _rows(path: Path, sql: str) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.mark.servers
async def test_bulk_publish_of_200_marked_posts_on_a_slow_tenant(tenant: ProxiedTenant) -> None:
    """200 posts marked on the posts screen of a tenant 300 ms away: one request, all
    published, and the screen answers keys while the write is in flight."""
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.confirm import ConfirmScreen
    from tursotui.ui.screens.posts import PostsScreen

    await fill_remote(tenant.server.http_url, tenant.token, drafts=200)
    workspace = await Workspace.open(load_settings(timeout=20))
    app = make_app(workspace.settings, workspace)
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
            await settle(app, pilot)
            screen = app.screen
            table = screen.query_one("#posts-table", RowList)
            await pilot.press("space")
            for _ in range(199):
                screen.action_mark()  # what `space` does, without the pilot's repaint wait
                if not table.cursor_row < table.row_count - 1:
                    await settle(app, pilot)  # the next page loads
            await settle(app, pilot)
            assert len(screen.marked) == 200
            tenant.proxy.delay(300)
            count("faults_injected")
            tenant.proxy.reset_count()
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await pilot.pause(0.1)
            # The write is in flight (300 ms away): the screen still takes keys.
            before = table.cursor_row
            await pilot.press("k")
            await pilot.pause()
            assert table.cursor_row == before - 1
            await until(pilot, lambda: not moderating(app))
            messages = [str(n.message) for n in app._notifications]
            assert app.screen.feedback.plain == "Published 200 posts on acme.", messages
        published = tenant.rows("SELECT count(*) FROM posts WHERE status = 'published'")
        assert published == [(200,)]
        count("write_checks")
    finally:
        await workspace.close()
