"""Helpers for the author tests: tenants where one person (by email) posts and comments."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.faults import Fault, FaultProxy
from support.moderation_fixtures import make_tenant
from tursotui.db import connect
from tursotui.tenant.migrations import load_folder, migrate

BASE_TIME = 1_700_000_000


@dataclass
class Made:
    """What `author_rows` put in a tenant."""

    author: str
    other: str
    posts: dict[str, list[str]] = field(default_factory=dict)
    """The author's post ids by status, in insertion order."""
    comments: list[str] = field(default_factory=list)
    """The author's comment ids, in insertion order (created_at grows with it)."""
    other_comments: list[str] = field(default_factory=list)
    statements: list[tuple[str, list[Any]]] = field(default_factory=list)


def author_rows(
    email: str,
    *,
    drafts: int = 0,
    published: int = 0,
    archived: int = 0,
    comments: int = 0,
    other_comments: int = 2,
    name: str = "Bob Smith",
    start: int = BASE_TIME,
) -> Made:
    """INSERTs for a user `email` with posts and comments, and another user with their own."""
    ids = iter(lambda: uuid.uuid4(), None)
    author, other = str(next(ids)), str(next(ids))
    made = Made(author, other)
    made.statements += [
        ("INSERT INTO users VALUES (?, ?, ?, ?)", [author, email, name, start]),
        ("INSERT INTO users VALUES (?, ?, ?, ?)", [other, "other@example.com", "Other", start]),
    ]
    other_post = str(next(ids))
    made.statements.append(
        (
            "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)",
            [other_post, "someone else's", "body", other, start, "published"],
        )
    )
    n = 0
    for status, count in (("draft", drafts), ("published", published), ("archived", archived)):
        made.posts[status] = []
        for i in range(count):
            n += 1
            post_id = str(next(ids))
            when = None if status == "draft" else start + n * 60
            made.statements.append(
                (
                    "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)",
                    [post_id, f"{status} {i}", "body", author, when, status],
                )
            )
            made.posts[status].append(post_id)
    for c in range(comments):
        comment_id = str(next(ids))
        made.statements.append(
            (
                "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
                [comment_id, f"comment {c} <b>[red]x", other_post, author, start + 10 + c],
            )
        )
        made.comments.append(comment_id)
    for c in range(other_comments):
        comment_id = str(next(ids))
        made.statements.append(
            (
                "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
                [comment_id, f"fine comment {c}", other_post, other, start + c],
            )
        )
        made.other_comments.append(comment_id)
    return made


async def local_tenant(path: Path, email: str, **spec: Any) -> Made:
    """A migrated tenant file at `path` holding `author_rows(email, **spec)`."""
    await make_tenant(path)
    made = author_rows(email, **spec)
    db = sqlite3.connect(path)
    try:
        for sql, args in made.statements:
            db.execute(sql, args)
        db.commit()
    finally:
        db.close()
    return made


async def remote_tenant(url: str, email: str, **spec: Any) -> Made:
    """Like `local_tenant` on a remote database: emptied, migrated, filled."""
    made = author_rows(email, **spec)
    conn = await connect(url, name="remote")
    try:
        await conn.batch(
            [
                f"DROP TABLE IF EXISTS {t}"
                for t in ("comments", "posts", "users", "__drizzle_migrations")
            ]
        )
        await migrate(conn, load_folder(None))
        await conn.batch(made.statements)
    finally:
        await conn.close()
    return made


class DropAt(FaultProxy):
    """A fault proxy that resets the connection of the requests numbered in `drop_at`."""

    drop_at: frozenset[int] = frozenset()

    @property  # type: ignore[override]
    def fault(self) -> Fault:
        if self.requests in self.drop_at:
            return Fault("drop")
        return self._fault

    @fault.setter
    def fault(self, value: Fault) -> None:
        self._fault = value
