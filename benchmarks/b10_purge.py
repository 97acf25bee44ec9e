"""Author purge of 10,000 comments on one tenant: one transaction, locally and on a real sqld.

A migrated tenant holds one author with 10,000 comments (and a post), beside another user's
10,000 comments that must stay. Locally, `tenant.authors.purge` (one batch: `DELETE …
RETURNING *` of the author's comments, their full rows kept in the audit entry, fsynced)
is timed against raw sqlite3 deleting the same rows (`DELETE FROM comments WHERE author_id
= ?`, commit) on a copy of the same file, in the same run. Bar: ≤ 1 s. On sqld behind the
pass-through `FaultProxy` (tests/support/faults.py), every HTTP request of the whole
action is counted: the plan (author looked up, rows counted: one batch) and the purge (one
batch). Bar: ≤ 2 requests per tenant.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.common import Figure

ID = "B10"

_TESTS = Path(__file__).resolve().parents[1] / "tests"
EMAIL = "spammer@example.com"


def _rows(comments: int) -> tuple[str, list[tuple[str, list[Any]]]]:
    author, other, post = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    statements: list[tuple[str, list[Any]]] = [
        ("INSERT INTO users VALUES (?, ?, ?, ?)", [author, EMAIL, "Spammer", 1]),
        ("INSERT INTO users VALUES (?, ?, ?, ?)", [other, "fine@example.com", "Fine", 1]),
        (
            "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)",
            [post, "a post", "body", other, 1_700_000_000, "published"],
        ),
    ]
    for who in (author, other):
        statements += [
            (
                "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
                [str(uuid.uuid4()), f"buy now {i} " + "x" * 80, post, who, 1_700_000_000 + i],
            )
            for i in range(comments)
        ]
    return author, statements


async def _local(folder: Path, comments: int) -> tuple[float, float, int]:
    from tursotui.db import connect
    from tursotui.session.audit import AuditLog
    from tursotui.tenant.authors import plan_purge_of, purge
    from tursotui.tenant.migrations import load_folder, migrate

    path = folder / "tenant.db"
    conn = await connect(f"file:{path}", create=True, name="bench")
    await migrate(conn, load_folder(None))
    author, statements = _rows(comments)
    await conn.batch(statements)
    await conn.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    baseline_path = folder / "baseline.db"
    shutil.copy(path, baseline_path)

    db = sqlite3.connect(baseline_path)
    started = time.perf_counter()
    deleted = db.execute("DELETE FROM comments WHERE author_id = ?", (author,)).rowcount
    db.commit()
    baseline = time.perf_counter() - started
    db.close()
    assert deleted == comments, deleted

    audit = AuditLog(folder / "audit.jsonl", "bench")
    conn = await connect(f"file:{path}", name="bench")
    try:
        plan = await plan_purge_of(conn, EMAIL, delete_comments=True, posts_to=None)
        assert plan is not None and plan.comments == comments
        started = time.perf_counter()
        result = await purge(conn, audit, "bench", plan)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    assert len(result.deleted) == comments, len(result.deleted)
    left = sqlite3.connect(path).execute("SELECT count(*) FROM comments").fetchone()[0]
    assert left == comments, left  # the other user's comments stay
    return elapsed, baseline, len(audit.entries())


async def _remote(comments: int) -> tuple[int, int]:
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    from support.faults import FaultProxy
    from support.jwt_kit import JWTKeys
    from support.servers import start_sqld
    from tursotui.db import connect
    from tursotui.session.audit import AuditLog
    from tursotui.tenant.authors import plan_purge_of, purge
    from tursotui.tenant.migrations import load_folder, migrate

    keys = JWTKeys()
    server = start_sqld(keys.public_key)
    proxy = FaultProxy(("127.0.0.1", server.port)).start()
    try:
        conn = await connect(proxy.url, keys.token(), name="bench")
        await migrate(conn, load_folder(None))
        _, statements = _rows(comments)
        for start in range(0, len(statements), 2000):
            await conn.batch(statements[start : start + 2000])
        with tempfile.TemporaryDirectory() as folder:
            audit = AuditLog(Path(folder) / "audit.jsonl", "bench")
            proxy.reset_count()
            plan = await plan_purge_of(conn, EMAIL, delete_comments=True, posts_to="archived")
            assert plan is not None and plan.comments == comments
            result = await purge(conn, audit, "bench", plan)
            requests = proxy.requests
        await conn.close()
    finally:
        proxy.stop()
        server.stop()
    return requests, len(result.deleted)


async def run(quick: bool) -> list[Figure]:
    comments = 200 if quick else 10_000
    with tempfile.TemporaryDirectory() as folder:
        elapsed, baseline, entries = await _local(Path(folder), comments)
    requests, deleted = await _remote(comments)
    assert deleted == comments, deleted
    return [
        Figure(
            "B10.local_purge_ms",
            elapsed * 1000,
            "ms",
            baseline=baseline * 1000,
            bar="<= 1000",
            note=f"{comments} comments deleted in one batch, full rows audited "
            f"({entries} audit lines: pending + ok); baseline raw sqlite3 DELETE + commit",
        ),
        Figure(
            "B10.requests_per_tenant",
            requests,
            "requests",
            bar="<= 2",
            note=f"plan (lookup + counts) and purge of {comments} comments, sqld",
        ),
    ]
