"""Undo from the audit log, against real SQLite tenant files and a real sqld.

Every undo is guarded like any write (rows changed since are conflicts, left alone),
audited (and undoable in turn), and refused a second time.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from support.moderation_fixtures import fill_remote, remote_rows, rows, workspace_with
from tursotui.session.audit import AuditEntry, AuditLog
from tursotui.tenant import moderation
from tursotui.tenant.undo import History, UndoError, effect_of, undo, undo_entries

SPEC = {"drafts": 3, "published": 4, "archived": 1, "comments_per_post": 3}


@pytest.fixture
async def acme(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": SPEC})
    path, ids = made["acme"]
    try:
        yield workspace, path, ids
    finally:
        await workspace.close()


async def _conn(workspace, slug: str = "acme"):
    tenant = next(t for t in await workspace.registry.tenants() if t.slug == slug)
    return await workspace.connection(tenant)


def _last_id(workspace) -> str:
    return workspace.audit.entries()[-1].id


def _comments(path: Path, post_id: str | None = None) -> list[tuple]:
    if post_id is None:
        return rows(path, "SELECT * FROM comments ORDER BY id")
    return rows(path, "SELECT * FROM comments WHERE post_id = ? ORDER BY id", (post_id,))


# -- status changes ----------------------------------------------------------------------


async def test_undo_of_an_archive_puts_the_posts_back_and_is_audited(acme):
    workspace, path, ids = acme
    posts = ids["published"][:2]
    dates = rows(path, "SELECT id, published_at FROM posts ORDER BY id")
    conn = await _conn(workspace)
    await moderation.set_status(
        conn, workspace.audit, "acme", [(p, "published") for p in posts], "archived", reason="spam"
    )
    archived = _last_id(workspace)
    assert workspace.audit.entries()[-1].reason == "spam"
    [outcome] = await undo(workspace, archived)
    assert sorted(outcome.reverted) == sorted(posts) and outcome.conflicts == {}
    assert rows(path, "SELECT status FROM posts WHERE id IN (?, ?)", tuple(posts)) == [
        ("published",),
        ("published",),
    ]
    assert rows(path, "SELECT id, published_at FROM posts ORDER BY id") == dates
    record = workspace.audit.entries()[-1]
    assert (record.action, record.status, record.undoes) == ("undo", "ok", archived)
    assert sorted(record.row_ids) == sorted(posts)


async def test_undo_of_a_move_to_draft_restores_the_cleared_date(acme):
    workspace, path, ids = acme
    post = ids["published"][0]
    ((date,),) = rows(path, "SELECT published_at FROM posts WHERE id = ?", (post,))
    conn = await _conn(workspace)
    await moderation.set_status(conn, workspace.audit, "acme", [(post, "published")], "draft")
    assert rows(path, "SELECT published_at FROM posts WHERE id = ?", (post,)) == [(None,)]
    await undo(workspace, _last_id(workspace))
    assert rows(path, "SELECT status, published_at FROM posts WHERE id = ?", (post,)) == [
        ("published", date)
    ]


async def test_undo_of_a_publish_clears_the_date_it_set(acme):
    workspace, path, ids = acme
    post = ids["draft"][0]
    conn = await _conn(workspace)
    await moderation.set_status(conn, workspace.audit, "acme", [(post, "draft")], "published")
    await undo(workspace, _last_id(workspace))
    assert rows(path, "SELECT status, published_at FROM posts WHERE id = ?", (post,)) == [
        ("draft", None)
    ]


async def test_a_post_changed_since_is_a_conflict_and_is_left_alone(acme):
    workspace, path, ids = acme
    a, b = ids["published"][:2]
    conn = await _conn(workspace)
    await moderation.set_status(
        conn, workspace.audit, "acme", [(a, "published"), (b, "published")], "archived"
    )
    entry = _last_id(workspace)
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET status = 'draft' WHERE id = ?", (b,))  # someone else, since
    db.commit()
    db.close()
    [outcome] = await undo(workspace, entry)
    assert outcome.reverted == [a]
    assert outcome.conflicts == {b: "post changed since (now draft)"}
    assert rows(path, "SELECT id, status FROM posts WHERE id IN (?, ?) ORDER BY id", (a, b)) == (
        sorted([(a, "published"), (b, "draft")])
    )
    assert "left alone" in workspace.audit.entries()[-1].detail


# -- deleted comments ----------------------------------------------------------------------


async def test_deleted_comments_come_back_verbatim(acme):
    workspace, path, ids = acme
    post = ids["published"][0]
    before = _comments(path)
    doomed = [row[0] for row in _comments(path, post)][:2]
    conn = await _conn(workspace)
    await moderation.delete_comments(conn, workspace.audit, "acme", doomed, reason="spam wave")
    assert len(_comments(path)) == len(before) - 2
    [outcome] = await undo(workspace, _last_id(workspace))
    assert sorted(outcome.reverted) == sorted(doomed) and outcome.conflicts == {}
    assert _comments(path) == before  # every column of every row, as it was


async def test_a_blob_and_odd_values_come_back_exactly(acme):
    workspace, path, ids = acme
    post = ids["published"][0]
    db = sqlite3.connect(path)
    author = db.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
    db.execute(
        "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
        ("odd", b"\x00\xffbytes", post, author, 1.5),
    )
    db.commit()
    db.close()
    before = rows(
        path, "SELECT *, typeof(content), typeof(created_at) FROM comments WHERE id = 'odd'"
    )
    conn = await _conn(workspace)
    await moderation.delete_comments(conn, workspace.audit, "acme", ["odd"])
    await undo(workspace, _last_id(workspace))
    after = rows(
        path, "SELECT *, typeof(content), typeof(created_at) FROM comments WHERE id = 'odd'"
    )
    assert after == before


async def test_a_comment_whose_post_was_deleted_is_not_restored_and_says_why(acme):
    workspace, path, ids = acme
    gone_post, kept_post = ids["published"][:2]
    doomed = [_comments(path, gone_post)[0][0], _comments(path, kept_post)[0][0]]
    conn = await _conn(workspace)
    await moderation.delete_comments(conn, workspace.audit, "acme", doomed)
    db = sqlite3.connect(path)  # the app deletes the post (and its other comments)
    db.execute("DELETE FROM comments WHERE post_id = ?", (gone_post,))
    db.execute("DELETE FROM posts WHERE id = ?", (gone_post,))
    db.commit()
    db.close()
    [outcome] = await undo(workspace, _last_id(workspace))
    assert outcome.reverted == [doomed[1]]
    assert "foreign key" in outcome.conflicts[doomed[0]]
    assert "post was deleted" in outcome.conflicts[doomed[0]]
    assert rows(path, "SELECT count(*) FROM comments WHERE id = ?", (doomed[0],)) == [(0,)]
    assert rows(path, "SELECT count(*) FROM comments WHERE id = ?", (doomed[1],)) == [(1,)]


async def test_a_comment_id_taken_since_is_not_overwritten(acme):
    workspace, path, ids = acme
    post = ids["published"][0]
    victim = _comments(path, post)[0]
    conn = await _conn(workspace)
    await moderation.delete_comments(conn, workspace.audit, "acme", [victim[0]])
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO comments VALUES (?, 'a new one', ?, ?, 5)", (victim[0], post, victim[3])
    )
    db.commit()
    db.close()
    [outcome] = await undo(workspace, _last_id(workspace))
    assert outcome.reverted == [] and "exists" in outcome.conflicts[victim[0]]
    assert rows(path, "SELECT content FROM comments WHERE id = ?", (victim[0],)) == [("a new one",)]


# -- undo twice, undo of undo ----------------------------------------------------------------


async def test_undoing_twice_is_refused_and_an_undo_can_be_undone(acme):
    workspace, path, ids = acme
    before = _comments(path)
    doomed = [_comments(path, ids["published"][0])[0][0]]
    conn = await _conn(workspace)
    await moderation.delete_comments(conn, workspace.audit, "acme", doomed)
    deleted = _last_id(workspace)
    [first] = await undo(workspace, deleted)
    assert _comments(path) == before
    with pytest.raises(UndoError, match="undone already"):
        await undo(workspace, deleted)
    # The undo is undone: the comment goes again (it is still exactly as put back).
    [again] = await undo(workspace, first.undo_id)
    assert again.reverted == doomed
    assert len(_comments(path)) == len(before) - 1
    # And that in turn: back again, verbatim.
    [third] = await undo(workspace, again.undo_id)
    assert third.reverted == doomed and _comments(path) == before
    with pytest.raises(UndoError, match="undone already"):
        await undo(workspace, first.undo_id)


async def test_the_undo_of_a_restore_leaves_a_comment_edited_since(acme):
    workspace, path, ids = acme
    victim = _comments(path, ids["published"][0])[0][0]
    conn = await _conn(workspace)
    await moderation.delete_comments(conn, workspace.audit, "acme", [victim])
    [restored] = await undo(workspace, _last_id(workspace))
    db = sqlite3.connect(path)
    db.execute("UPDATE comments SET content = 'edited' WHERE id = ?", (victim,))
    db.commit()
    db.close()
    [outcome] = await undo(workspace, restored.undo_id)
    assert outcome.reverted == [] and outcome.conflicts == {victim: "comment changed since"}
    assert rows(path, "SELECT content FROM comments WHERE id = ?", (victim,)) == [("edited",)]


# -- tenants gone or unreachable, read-only ----------------------------------------------------


async def test_an_unreachable_tenant_is_a_clear_error_and_the_entry_stays_undoable(acme):
    workspace, path, ids = acme
    post = ids["published"][0]
    conn = await _conn(workspace)
    await moderation.set_status(conn, workspace.audit, "acme", [(post, "published")], "archived")
    entry = _last_id(workspace)
    await workspace.forget("acme")
    aside = path.with_suffix(".away")
    path.rename(aside)
    try:
        [outcome] = await undo(workspace, entry)
        assert outcome.error is not None and "acme" in outcome.error, outcome.error
        assert outcome.error.startswith("acme: no database file at "), outcome.error
        assert outcome.reverted == []
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        aside.rename(path)
    history = History.read(workspace.audit)
    assert history.refusal(history.find(entry)[0]) is None
    [outcome] = await undo(workspace, entry)  # reachable again: it works
    assert outcome.reverted == [post]


async def test_a_tenant_gone_from_the_registry_is_a_clear_error(acme):
    workspace, _, ids = acme
    conn = await _conn(workspace)
    await moderation.set_status(
        conn, workspace.audit, "acme", [(ids["draft"][0], "draft")], "published"
    )
    entry = _last_id(workspace)
    await workspace.registry.remove("acme")
    [outcome] = await undo(workspace, entry)
    assert outcome.error == "the tenant acme is not in the registry any more"
    history = History.read(workspace.audit)
    assert history.refusal(history.find(entry)[0]) is None


async def test_a_read_only_session_refuses_undo_with_the_reason(tmp_path: Path):
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    workspace, made = await workspace_with(tmp_path, {"acme": SPEC})
    path, ids = made["acme"]
    try:
        conn = await _conn(workspace)
        await moderation.set_status(
            conn, workspace.audit, "acme", [(ids["published"][0], "published")], "archived"
        )
        entry = _last_id(workspace)
    finally:
        await workspace.close()
    read_only = await Workspace.open(load_settings(read_only=True))
    try:
        with pytest.raises(UndoError, match="read-only"):
            await undo(read_only, entry)
    finally:
        await read_only.close()
    assert rows(path, "SELECT status FROM posts WHERE id = ?", (ids["published"][0],)) == [
        ("archived",)
    ]


async def test_failed_pending_and_unknown_entries_are_refused(acme):
    workspace, _, _ = acme
    workspace.audit.record(AuditEntry("archive", "acme", ["x"], "published", "archived"))
    pending = _last_id(workspace)
    with pytest.raises(UndoError, match="outcome is unknown"):
        await undo(workspace, pending)
    with pytest.raises(UndoError, match="no audit entry"):
        await undo(workspace, "nope")
    workspace.audit.record(AuditEntry("sql", "acme", status="ok"))
    with pytest.raises(UndoError, match="cannot be undone"):
        await undo(workspace, _last_id(workspace))


# -- groups and author purges --------------------------------------------------------------------


async def test_a_group_across_tenants_is_undone_at_once(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": SPEC, "beta": SPEC})
    try:
        for slug in ("acme", "beta"):
            _, ids = made[slug]
            conn = await _conn(workspace, slug)
            await moderation.set_status(
                conn,
                workspace.audit,
                slug,
                [(ids["published"][0], "published")],
                "archived",
                group="g-1",
            )
        outcomes = await undo(workspace, "g-1")
        assert sorted(o.entry.tenant for o in outcomes) == ["acme", "beta"]
        assert all(o.ok and len(o.reverted) == 1 for o in outcomes)
        undos = [e for e in History.read(workspace.audit).entries if e.action == "undo"]
        assert len({e.group for e in undos}) == 1 and undos[0].group is not None
        for slug in ("acme", "beta"):
            path, ids = made[slug]
            assert rows(path, "SELECT status FROM posts WHERE id = ?", (ids["published"][0],)) == [
                ("published",)
            ]
        with pytest.raises(UndoError, match="undone already"):
            await undo(workspace, "g-1")
    finally:
        await workspace.close()


async def test_an_author_purge_entry_is_undone_by_the_same_code(acme):
    """A purge entry as the author purge writes it: comments deleted and posts archived."""
    workspace, path, ids = acme
    author = rows(path, "SELECT author_id FROM posts WHERE id = ?", (ids["published"][0],))[0][0]
    before_posts = rows(path, "SELECT * FROM posts ORDER BY id")
    before_comments = _comments(path)
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    comments = [
        dict(r) for r in db.execute("SELECT * FROM comments WHERE author_id = ?", (author,))
    ]
    posts = [dict(r) for r in db.execute("SELECT * FROM posts WHERE author_id = ?", (author,))]
    moved = {p["id"]: p["status"] for p in posts if p["status"] != "draft"}
    dates = {p["id"]: p["published_at"] for p in posts if p["id"] in moved and p["published_at"]}
    db.execute("DELETE FROM comments WHERE author_id = ?", (author,))
    db.executemany(
        "UPDATE posts SET status = 'draft', published_at = NULL WHERE id = ?",
        [(p,) for p in moved],
    )
    db.commit()
    db.close()
    workspace.audit.record(
        AuditEntry(
            "purge-author",
            "acme",
            [c["id"] for c in comments] + list(moved),
            before={**moved, "published_at": dates},
            after={"posts": "draft", "comments": "deleted"},
            status="ok",
            detail="u0@example.com",
            rows={"comments": comments},
        )
    )
    effect = effect_of(workspace.audit.entries()[-1])
    assert set(effect.status_after) == set(moved) and len(effect.deleted) == len(comments)
    [outcome] = await undo(workspace, _last_id(workspace))
    assert outcome.ok
    assert rows(path, "SELECT * FROM posts ORDER BY id") == before_posts
    assert _comments(path) == before_comments


# -- the audit log file -----------------------------------------------------------------------


def test_the_audit_log_is_created_owner_only_and_a_wider_one_is_narrowed(tmp_path: Path):
    path = tmp_path / "data" / "audit.jsonl"
    old = os.umask(0)
    try:
        AuditLog(path, "ada").record(AuditEntry("sql", "acme"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # an older version's log, or a copy
    AuditLog(path, "ada").record(AuditEntry("sql", "acme"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(AuditLog(path, "ada").entries()) == 2


def test_a_line_cut_short_is_reported_once_and_the_rest_still_works(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, "ada")
    log.record(AuditEntry("archive", "acme", status="ok"))
    with path.open("a") as file:
        file.write('{"action": "publish", "tenant": "ac')  # the process died mid-line
    log.record(AuditEntry("draft", "beta", status="ok"))  # starts a line of its own
    assert [e.tenant for e in log.entries()] == ["acme", "beta"]
    assert log.broken_lines == [2]
    [said] = log.problems()
    assert "line 2" in said and "cannot be read" in said
    log.entries()
    assert log.problems() == []  # once, not on every read
    lines = path.read_text().splitlines()
    assert json.loads(lines[2])["tenant"] == "beta"


# -- interop and remote -------------------------------------------------------------------------


READ_COMMENTS = Path(__file__).parent / "drizzle" / "read_comments.mjs"


async def test_drizzle_reads_restored_comments_exactly(tmp_path: Path) -> None:
    runner = _drizzle_runner()
    workspace, made = await workspace_with(tmp_path, {"acme": SPEC})
    path, ids = made["acme"]
    post = ids["published"][0]
    try:
        original = _drizzle_comments(runner, path, post)
        assert len(original) == 3
        conn = await _conn(workspace)
        await moderation.delete_comments(
            conn, workspace.audit, "acme", [c["id"] for c in original[:2]]
        )
        assert len(_drizzle_comments(runner, path, post)) == 1
        await undo(workspace, _last_id(workspace))
        await workspace.forget("acme")  # checkpointed, as another process sees it
    finally:
        await workspace.close()
    assert _drizzle_comments(runner, path, post) == original


def _drizzle_runner() -> Path:
    from test_drizzle_interop import CACHE

    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for the drizzle interoperability tests")
        pytest.skip("node or npm is not installed")
    if not (CACHE / "node_modules" / "drizzle-orm").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        shutil.copy(READ_COMMENTS.parent / "package.json", CACHE / "package.json")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    shutil.copy(READ_COMMENTS, CACHE / READ_COMMENTS.name)
    shutil.copy(READ_COMMENTS.parent / "read_post.mjs", CACHE / "read_post.mjs")
    return CACHE


def _drizzle_comments(runner: Path, db: Path, post_id: str) -> list[dict]:
    done = subprocess.run(
        ["node", str(runner / READ_COMMENTS.name), f"file:{db}", post_id],
        check=True,
        capture_output=True,
        timeout=60,
        text=True,
    )
    return json.loads(done.stdout)


@pytest.mark.servers
async def test_undo_on_sqld_is_one_request_and_guarded(tmp_path: Path, slow_proxy) -> None:
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    ids = await fill_remote(slow_proxy.url, published=3, comments_per_post=2)
    workspace = await Workspace.open(load_settings())
    try:
        await workspace.registry.add("remote", slow_proxy.url, None, name="Remote")
        conn = await _conn(workspace, "remote")
        post = ids["published"][0]
        comments = await remote_rows(
            slow_proxy.url, "SELECT * FROM comments WHERE post_id = ? ORDER BY id", (post,)
        )
        await moderation.delete_comments(conn, workspace.audit, "remote", [c[0] for c in comments])
        deleted = _last_id(workspace)
        other = ids["published"][1]
        others = await remote_rows(
            slow_proxy.url, "SELECT id FROM comments WHERE post_id = ?", (other,)
        )
        await moderation.delete_comments(conn, workspace.audit, "remote", [others[0][0]])
        second = _last_id(workspace)
        await remote_rows(slow_proxy.url, "SELECT 1")  # warm
        slow_proxy.reset_count()
        [outcome] = await undo(workspace, deleted)
        assert slow_proxy.requests == 1  # one batch, one HTTP request
        assert outcome.ok and sorted(outcome.reverted) == sorted(c[0] for c in comments)
        assert (
            await remote_rows(
                slow_proxy.url, "SELECT * FROM comments WHERE post_id = ? ORDER BY id", (post,)
            )
            == comments
        )
        # The post of the other deleted comment goes; its undo restores nothing of it.
        await remote_rows(slow_proxy.url, "DELETE FROM comments WHERE post_id = ?", (other,))
        await remote_rows(slow_proxy.url, "DELETE FROM posts WHERE id = ?", (other,))
        [outcome] = await undo(workspace, second)
        assert outcome.reverted == [] and "foreign key" in outcome.conflicts[others[0][0]]
    finally:
        await workspace.close()


async def test_undo_entries_refuses_when_every_entry_is_refused(acme):
    workspace, _, ids = acme
    conn = await _conn(workspace)
    await moderation.set_status(
        conn, workspace.audit, "acme", [(ids["published"][0], "published")], "archived"
    )
    entry = workspace.audit.entries()[-1]
    await undo_entries(workspace, [entry])
    with pytest.raises(UndoError):
        await undo_entries(workspace, [entry])


async def test_a_remote_tenant_that_does_not_answer_leaves_the_entry_undoable(tmp_path: Path):
    import socket

    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workspace = await Workspace.open(load_settings(timeout=2))
    try:
        await workspace.registry.add("remote", f"http://127.0.0.1:{port}", None, name="Remote")
        workspace.audit.record(
            AuditEntry("archive", "remote", ["p1"], "published", "archived", status="ok")
        )
        entry = _last_id(workspace)
        [outcome] = await undo(workspace, entry)
        assert outcome.error is not None and not outcome.reverted
        assert outcome.summary == f"remote: not undone: 127.0.0.1:{port} refused the connection"
        failed = workspace.audit.entries()[-1]
        assert (failed.action, failed.status, failed.undoes) == ("undo", "failed", entry)
        history = History.read(workspace.audit)
        assert history.refusal(history.find(entry)[0]) is None  # still undoable
    finally:
        await workspace.close()


async def test_drizzle_reads_an_undone_move_to_draft_with_its_old_date(tmp_path: Path) -> None:
    from test_drizzle_interop import drizzle_read_post

    runner = _drizzle_runner()
    workspace, made = await workspace_with(tmp_path, {"acme": SPEC})
    path, ids = made["acme"]
    post = ids["published"][0]
    try:
        original = drizzle_read_post(runner, path, post)
        conn = await _conn(workspace)
        await moderation.set_status(conn, workspace.audit, "acme", [(post, "published")], "draft")
        assert drizzle_read_post(runner, path, post) == {"status": "draft", "publishedAt": None}
        await undo(workspace, _last_id(workspace))
        await workspace.forget("acme")
    finally:
        await workspace.close()
    assert drizzle_read_post(runner, path, post) == original


async def test_an_entry_edited_into_nonsense_is_refused_in_words(acme):
    workspace, _, _ = acme
    path = workspace.audit.path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        for line in (
            {
                "action": "delete-comment",
                "tenant": "acme",
                "row_ids": ["c1"],
                "status": "ok",
                "id": "e1",
                "rows": {"comments": "garbage"},
            },
            {
                "action": "archive",
                "tenant": "acme",
                "row_ids": "p1",
                "status": "ok",
                "id": "e2",
                "before": "published",
                "after": {"status": ["x"]},
            },
            [1, 2],
            None,
        ):
            file.write(json.dumps(line) + "\n")
    history = History.read(workspace.audit)
    assert [e.id for e in history.entries] == ["e1", "e2"]
    assert workspace.audit.broken_lines == [3, 4]
    assert "cannot be read" in history.refusal(history.find("e1")[0])
    assert history.refusal(history.find("e2")[0]) == "the write changed nothing"
    with pytest.raises(UndoError, match="cannot be read"):
        await undo(workspace, "e1")


async def test_many_comments_go_and_come_back_in_one_batch_each(tmp_path: Path):
    """More ids than one `IN (…)` list holds: read in chunks, still one batch each way."""
    workspace, made = await workspace_with(
        tmp_path, {"big": {"published": 40, "comments_per_post": 30}}
    )
    path, _ = made["big"]
    before = _comments(path)
    assert len(before) == 1200
    try:
        conn = await _conn(workspace, "big")
        batches = []
        real_batch = conn.batch

        async def batch(stmts):
            batches.append(len(stmts))
            return await real_batch(stmts)

        conn.batch = batch
        result = await moderation.delete_comments(
            conn, workspace.audit, "big", [row[0] for row in before]
        )
        assert len(result.changed) == 1200 and _comments(path) == []
        assert len(workspace.audit.entries()[-1].rows["comments"]) == 1200
        [outcome] = await undo(workspace, _last_id(workspace))
        assert outcome.ok and len(outcome.reverted) == 1200
        assert len(batches) == 2  # the delete, the undo
    finally:
        await workspace.close()
    assert _comments(path) == before


def test_a_log_that_cannot_be_narrowed_is_still_written_and_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's log (root may chmod anything, so the refusal is injected)."""
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    path.chmod(0o644)

    def refuse(fd: int, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchmod", refuse)
    log = AuditLog(path, "ada")
    log.record(AuditEntry("sql", "acme"))
    log.record(AuditEntry("sql", "beta"))
    assert [e.tenant for e in log.entries()] == ["acme", "beta"]
    [said] = log.problems()
    assert "readable by others (mode 644)" in said and "Operation not permitted" in said
    assert log.problems() == []


async def test_a_real_author_purge_is_undone_exactly(acme):
    """The author purge's own entry (comments deleted, posts moved to draft), undone."""
    from tursotui.tenant import authors

    workspace, path, _ = acme
    before_posts = rows(path, "SELECT * FROM posts ORDER BY id")
    before_comments = _comments(path)
    conn = await _conn(workspace)
    plan = await authors.plan_purge_of(
        conn, "U0@example.com", delete_comments=True, posts_to="draft"
    )
    assert plan is not None
    result = await authors.purge(conn, workspace.audit, "acme", plan, reason="abuse")
    assert result.deleted and result.moved
    assert rows(path, "SELECT * FROM posts ORDER BY id") != before_posts
    entry = workspace.audit.entries()[-1]
    assert (entry.action, entry.reason) == ("purge-author", "abuse")
    [outcome] = await undo(workspace, entry.id)
    assert outcome.ok, outcome.summary
    assert sorted(outcome.reverted) == sorted(result.deleted + result.moved)
    assert rows(path, "SELECT * FROM posts ORDER BY id") == before_posts
    assert _comments(path) == before_comments


async def test_a_fleet_search_action_is_one_group_with_its_reason_undone_at_once(tmp_path: Path):
    from tursotui.fleet.actions import delete_comments_across

    workspace, made = await workspace_with(tmp_path, {"acme": SPEC, "beta": SPEC})
    try:
        tenants = {t.slug: t for t in await workspace.registry.tenants()}
        before = {slug: _comments(made[slug][0]) for slug in made}
        targets = [(tenants[slug], before[slug][0][0]) for slug in ("acme", "beta")]
        action = await delete_comments_across(workspace, targets, reason="spam wave")
        entries = [e for e in History.read(workspace.audit).entries if e.action == "delete-comment"]
        assert {e.group for e in entries} == {action.group}
        assert {e.reason for e in entries} == {"spam wave"}
        outcomes = await undo(workspace, action.group)
        assert sorted(o.entry.tenant for o in outcomes) == ["acme", "beta"]
        assert all(o.ok for o in outcomes)
        for slug in made:
            assert _comments(made[slug][0]) == before[slug]
    finally:
        await workspace.close()
