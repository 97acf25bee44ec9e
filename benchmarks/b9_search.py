"""Fleet content search: 200 local tenants of 5,000 posts and 20,000 comments each.

- `B9.first_ms`: from the search's start until the first tenant's matches are there to
  show (what the fleet's `/` panel adds to its list as it arrives), bar <= 300 ms;
- `B9.all_ms`: until every tenant has answered, bar <= 5000 ms;
- `B9.all_cpu_ms`: the CPU time the process spent meanwhile (all threads): on a machine
  busy with other work, wall time says more about the others than about the search;

both through `fleet.search.search_content` (bounded fan-out, `fleet_concurrency` in
flight), against the baseline of the same queries in a sequential loop, one tenant after
the other (`search_tenant` per tenant), measured in the same run. Each tenant is asked
for its 20 newest posts (title or content) and 20 newest comments holding a text that
a few rows of each tenant hold (a spam wave): LIKE reads every title, content and
comment, so this is the full scan a rare text costs; nothing is indexed for it (reading
must not change a tenant's schema).

The tenants are copies of one file made with the demo data generator
(`tursotui.demo.data`), cached under `.cache/bench/b9-<tenants>`; each measurement opens a
fresh workspace (connections opened as the search asks, as after a start), with the
files in the OS cache (one warm-up search first, as on a host that serves them).
`--quick` uses 4 tenants of 500 posts and 2,000 comments.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.common import Figure

ID = "B9"
REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench"
SPAM = "cheap pills at spam.example"
"""The text searched: planted in a few posts and comments of every tenant."""


def _settings(data_dir: Path, **extra: object):
    from tursotui.session.settings import Settings

    return Settings(data_dir=data_dir, registry_url=None, **extra)


async def _template(path: Path, posts: int, comments: int) -> None:
    """One migrated tenant file with demo rows and the planted spam (checkpointed)."""
    from tursotui.db import connect
    from tursotui.demo.data import INSERT_COMMENT, INSERT_POST, INSERT_USER, Rows, user_count
    from tursotui.tenant.migrations import load_folder, migrate

    conn = await connect(f"file:{path}", create=True, name="template")
    try:
        await migrate(conn, load_folder(None))
    finally:
        await conn.close()
    rows = Rows(9, int(time.time()))
    users = rows.users(user_count(posts))
    authors = [u[0] for u in users]
    post_rows = [p for chunk in rows.posts(posts, authors) for p in chunk]
    dated = [(p[0], p[4]) for p in post_rows]
    comment_rows = [c for chunk in rows.comments(dated, authors, comments / posts) for c in chunk][
        :comments
    ]
    # The wave: every 1000th comment and every 1000th post carry the link.
    comment_rows = [
        (c[0], f"{c[1]} {SPAM}", *c[2:]) if i % 1000 == 7 else c for i, c in enumerate(comment_rows)
    ]
    post_rows = [
        (p[0], p[1], f"{p[2]} {SPAM}", *p[3:]) if i % 1000 == 3 else p
        for i, p in enumerate(post_rows)
    ]
    db = sqlite3.connect(path)
    db.executemany(INSERT_USER, users)
    db.executemany(INSERT_POST, post_rows)
    db.executemany(INSERT_COMMENT, comment_rows)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


async def build_fleet(count: int, posts: int, comments: int) -> Path:
    """`count` tenant files (copies of one template), cached between runs."""
    folder = CACHE / f"b9-{count}-{posts}-{comments}"
    done = folder / "complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    template = folder / "template.db"
    await _template(template, posts, comments)
    for i in range(count):
        shutil.copyfile(template, folder / f"t{i:04d}.db")
    done.write_text("ok\n")
    return folder


async def _registry(data_dir: Path, folder: Path, count: int) -> None:
    from tursotui.session.registry import Registry

    registry = await Registry.open(_settings(data_dir))
    try:
        await registry.connection.batch(
            [
                (
                    "INSERT INTO organizations (id, name, slug, db_url, db_token, created_at) "
                    "VALUES (?, ?, ?, ?, '', ?)",
                    [
                        str(uuid.uuid4()),
                        f"t{i:04d}",
                        f"t{i:04d}",
                        f"file:{folder / f't{i:04d}.db'}",
                        int(time.time()),
                    ],
                )
                for i in range(count)
            ]
        )
    finally:
        await registry.close()


async def measure(data_dir: Path, *, sequential: bool) -> tuple[float, float, float, int, int]:
    """(ms to the first matches, ms to every answer, CPU ms of this process meanwhile,
    tenants with matches, failures)."""
    from tursotui.fleet.search import search_content, search_tenant
    from tursotui.session.workspace import Workspace

    workspace = await Workspace.open(_settings(data_dir, timeout=60.0))
    try:
        tenants = await workspace.registry.tenants()
        first: float | None = None
        found = failed = 0
        cpu = time.process_time()
        start = time.perf_counter()
        if sequential:
            for tenant in tenants:
                answer = await search_tenant(workspace, tenant, SPAM)
                if answer.error:
                    failed += 1
                if answer.posts or answer.comments:
                    found += 1
                    first = first or (time.perf_counter() - start) * 1000
        else:
            async for answer in search_content(workspace, tenants, SPAM):
                if answer.error:
                    failed += 1
                if answer.posts or answer.comments:
                    found += 1
                    first = first or (time.perf_counter() - start) * 1000
        total = (time.perf_counter() - start) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
    finally:
        await workspace.close()
    return first or total, total, cpu_ms, found, failed


async def run(quick: bool) -> list[Figure]:
    """Measure B9."""
    count, posts, comments = (4, 500, 2_000) if quick else (200, 5_000, 20_000)
    folder = await build_fleet(count, posts, comments)
    with tempfile.TemporaryDirectory(prefix="b9-") as tmp:
        data_dir = Path(tmp)
        await _registry(data_dir, folder, count)
        await measure(data_dir, sequential=False)  # warm the OS file cache once
        first, total, cpu, found, failed = await measure(data_dir, sequential=False)
        s_first, s_total, s_cpu, s_found, s_failed = await measure(data_dir, sequential=True)
    if failed or s_failed or found != count or s_found != count:
        raise RuntimeError(
            f"B9: {failed + s_failed} tenants failed; matches on {found} and {s_found} of {count}"
        )
    shape = f"{count} local tenants × {posts:,} posts + {comments:,} comments"
    return [
        Figure(
            f"{ID}.first_ms",
            first,
            "ms",
            s_first,
            "<= 300",
            f"first tenant's matches, {shape}; baseline: sequential loop",
        ),
        Figure(
            f"{ID}.all_ms",
            total,
            "ms",
            s_total,
            "<= 5000",
            f"every tenant answered, {shape}; baseline: sequential loop",
        ),
        Figure(
            f"{ID}.all_cpu_ms",
            cpu,
            "ms",
            s_cpu,
            None,
            "CPU time of the process (all its threads) while every tenant answered: what the "
            "search costs whatever else the machine runs; baseline: sequential loop",
        ),
    ]
