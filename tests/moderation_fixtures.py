"""Helpers for the moderation tests: a migrated tenant file with posts, users and comments."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from tursotui.db import connect
from tursotui.migrations import load_folder, migrate

BASE_TIME = 1_700_000_000


async def make_tenant(path: Path) -> None:
    """Create and migrate an empty tenant database at `path` (the built-in migrations)."""
    conn = await connect(f"file:{path}", create=True, name=path.stem)
    try:
        await migrate(conn, load_folder(None))
    finally:
        await conn.close()


def fill(
    path: Path,
    *,
    drafts: int = 0,
    published: int = 0,
    archived: int = 0,
    prefix: str = "",
    comments_per_post: int = 0,
) -> dict[str, list[str]]:
    """Insert posts by two authors; returns post ids per status, newest first as lists show them.

    Published/archived posts get distinct published_at values (newest has the largest);
    titles are `<prefix><status> <n>`.
    """
    db = sqlite3.connect(path)
    users = [(str(uuid.uuid4()), f"u{i}@example.com", f"Author {i}", BASE_TIME) for i in range(2)]
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", users)
    ids: dict[str, list[str]] = {"draft": [], "published": [], "archived": []}
    n = 0
    for status, count in (("draft", drafts), ("published", published), ("archived", archived)):
        for i in range(count):
            n += 1
            post_id = str(uuid.uuid4())
            when = None if status == "draft" else BASE_TIME + n * 60
            db.execute(
                "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)",
                (
                    post_id,
                    f"{prefix}{status} {i}",
                    f"body of {status} {i}",
                    users[i % 2][0],
                    when,
                    status,
                ),
            )
            ids[status].append(post_id)
            for c in range(comments_per_post):
                db.execute(
                    "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()),
                        f"comment {c} on {status} {i}",
                        post_id,
                        users[c % 2][0],
                        BASE_TIME + c,
                    ),
                )
    db.commit()
    db.close()
    ids["draft"].sort(reverse=True)  # undated posts are listed by id, descending
    ids["published"].reverse()
    ids["archived"].reverse()
    return ids


def rows(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Read the tenant file directly, as another process would."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()
