"""HTTP requests reaching a real sqld to publish one post and to fetch one page of posts.

A `FaultProxy` (tests/support/faults.py) in pass-through mode sits in front of a real sqld and
counts every HTTP request. The tenant is migrated with the built-in folder and seeded with
the demo data; then `tursotui.tenant.moderation.fetch_posts` loads the newest 50 published posts
(status filter, join on users) and `tursotui.tenant.moderation.set_status` publishes drafts with
the guarded `UPDATE … WHERE id = ? AND status = ? RETURNING id` (audited locally). Bar:
exactly 1 request each.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Figure

ID = "B3"

_TESTS = Path(__file__).resolve().parents[1] / "tests"


async def run(quick: bool) -> list[Figure]:
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    from support.faults import FaultProxy
    from support.jwt_kit import JWTKeys
    from support.servers import start_sqld
    from tursotui.db import connect
    from tursotui.demo.build import seed_tenant
    from tursotui.session.audit import AuditLog
    from tursotui.tenant.migrations import load_folder, migrate
    from tursotui.tenant.moderation import fetch_posts, set_status

    keys = JWTKeys()
    server = start_sqld(keys.public_key)
    proxy = FaultProxy(("127.0.0.1", server.port)).start()
    try:
        conn = await connect(proxy.url, keys.token(), name="bench")
        await migrate(conn, load_folder(None))
        await seed_tenant(conn, posts=300 if quick else 1000, seed=3)
        drafts = await conn.execute(
            "SELECT id FROM posts WHERE status = 'draft' ORDER BY id LIMIT ?", [3 if quick else 20]
        )
        with tempfile.TemporaryDirectory() as folder:
            audit = AuditLog(Path(folder) / "audit.jsonl", "bench")
            publishes = []
            for (post_id,) in drafts.rows:
                proxy.reset_count()
                outcome = await set_status(conn, audit, "bench", [(post_id, "draft")], "published")
                assert outcome.changed == [post_id], outcome
                publishes.append(proxy.requests)
        pages = []
        for _ in range(3 if quick else 20):
            proxy.reset_count()
            page = await fetch_posts(conn, "published", limit=50)
            assert len(page.posts) == 50, len(page.posts)
            pages.append(proxy.requests)
        await conn.close()
    finally:
        proxy.stop()
        server.stop()
    return [
        Figure(
            "B3.requests_per_publish",
            statistics.mean(publishes),
            "requests",
            bar="== 1",
            note=f"guarded UPDATE … RETURNING through set_status, {len(publishes)} posts, sqld",
        ),
        Figure(
            "B3.requests_per_page",
            statistics.mean(pages),
            "requests",
            bar="== 1",
            note="fetch_posts('published', limit=50) with the users join, sqld",
        ),
    ]
