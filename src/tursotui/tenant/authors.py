"""One author on one tenant: found by email or id, summed up, their posts and comments paged,
and purged (their comments deleted, their posts archived or moved back to draft).

Every tenant has its own `users` table, so "an author" is a person by email: the user rows
of a tenant whose email matches, ASCII letters in either case (an app that stored
`Bob@x` and `bob@x` as two users has one person twice; a purge covers both). A lookup
by id finds that one row.

Lists are keyset pages, newest first, like the posts screen's: posts by `published_at`
(undated drafts after the dated ones, newest inserted first), comments by `created_at`.

A purge is ONE batch per tenant (one transaction; one HTTP request on a remote tenant):
the author's comments are deleted with `RETURNING *`, so the full rows the audit log
keeps for an undo are read in the same statement that deletes them, and the posts are
moved with the posts screen's guard (`WHERE id = ? AND status IS <status shown>`), a
post changed underneath being a conflict, never overwritten. It is recorded as one
`purge-author` audit entry.

Nothing here imports textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tursotui.db import Connection, LibsqlError
from tursotui.session.audit import AuditError, AuditLog, encode_row
from tursotui.tenant.moderation import (
    COMMENT_PREVIEW,
    PAGE_SIZE,
    POST_COLUMNS,  # the posts screen's own list columns, so its rows read the same here
    POST_FROM,
    STATUSES,
    TITLE_PREVIEW,
    ModerationError,
    PageCursor,
    PostPage,
    PostRow,
    as_moderation_error,
    keyset_run,
    next_cursor,
    post_row,
    preview_sql,
    query,
    two_runs,
)

PURGE_ACTION = "purge-author"
"""The audit log's action name for a purge."""

POST_TARGETS = ("archived", "draft")
"""Where a purge may move an author's posts."""


class AuthorError(ModerationError):
    """An author read or purge failed; the message names the tenant and the cause."""

    title = "Author"


class PurgeNotSent(AuthorError):
    """The purge was refused before anything was sent (the audit log cannot be written)."""


@dataclass(frozen=True)
class Author:
    """A person on one tenant: the user rows whose email matches (usually one).

    Attributes:
        ids: The user ids (rows of `users`) that are this person.
        email: The email as stored (the first row's when several differ in case).
        name: The name as stored (the first row's).
    """

    ids: tuple[str, ...]
    email: Any
    name: Any


@dataclass(frozen=True)
class AuthorSummary:
    """What one author has on one tenant (zeros when they have nothing).

    Attributes:
        author: Who.
        first_activity: Earliest `published_at` of their posts or `created_at` of their
            comments (epoch seconds), or None.
        last_activity: The latest of those, or None.
        posts: Their posts per status value ('' for NULL).
        comments: How many comments they wrote.
    """

    author: Author
    first_activity: int | None
    last_activity: int | None
    posts: dict[str, int]
    comments: int

    @property
    def post_count(self) -> int:
        return sum(self.posts.values())


@dataclass(frozen=True)
class AuthorComment:
    """One of an author's comments as a list shows it (content and post title cut short)."""

    id: str
    content: Any
    post_id: Any
    post_title: Any
    created_at: Any


@dataclass(frozen=True)
class AuthorCommentPage:
    """One page of an author's comments, newest first, and where the next one starts."""

    comments: list[AuthorComment]
    next: PageCursor | None


@dataclass(frozen=True)
class PurgePlan:
    """What a purge will do on one tenant, as read for the confirmation (or a dry run).

    Attributes:
        author: Who.
        comments: How many comments the purge deletes (0 when comments are not purged).
        posts: `(id, status shown)` of the posts the purge moves (those not already there).
        delete_comments: Whether the author's comments are deleted.
        posts_to: `archived`, `draft`, or None (posts left alone).
    """

    author: Author
    comments: int
    posts: list[tuple[str, Any]]
    delete_comments: bool
    posts_to: str | None

    @property
    def rows(self) -> int:
        """Rows the purge changes: comments deleted plus posts moved."""
        return self.comments + len(self.posts)

    @property
    def empty(self) -> bool:
        return self.rows == 0


@dataclass
class PurgeResult:
    """What a purge did on one tenant.

    Attributes:
        deleted: Ids of the comments deleted.
        moved: Ids of the posts moved.
        conflicts: Ids of posts changed or deleted underneath (not written).
        entry: The id of its audit entry ('' when there was nothing to do).
    """

    deleted: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    entry: str = ""


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _author(rows: list[Any]) -> Author | None:
    if not rows:
        return None
    return Author(tuple(str(row[0]) for row in rows), rows[0][1], rows[0][2])


_WHO = (
    "SELECT id FROM users WHERE id = ? UNION ALL SELECT id FROM users "
    "WHERE email = ? COLLATE NOCASE AND NOT EXISTS (SELECT 1 FROM users WHERE id = ?)"
)
"""The user ids that are one author: the row with that id, else the rows with that email in
any case of ASCII letters (args: `_who_args(text)`). A subquery, so a lookup and what is read
about the author travel in one batch (one request on a remote tenant)."""

_WHO_ROWS = (
    f"SELECT id, email, name FROM users WHERE id IN ({_WHO}) "
    # The exact match first, so the author's email is the one they were looked up by.
    "ORDER BY email IS NOT ?, rowid"
)


def _who_args(text: str) -> list[Any]:
    return [text, text, text]


async def find_author(conn: Connection, email_or_id: str) -> Author | None:
    """The author whose user id or email (any case of ASCII letters) is `email_or_id`.

    An id is tried first, then the email, compared without regard to case: the stored
    email may be `Bob@Example.com` and the operator typed `bob@example.com`. Every row with
    that email is the author.

    Raises:
        MissingTableError: the tenant has no `users` table.
        ModerationError: the tenant cannot be read.
    """
    text = email_or_id.strip()
    if not text:
        return None
    rows = await query(conn, _WHO_ROWS, [*_who_args(text), text], "read users")
    return _author(rows)


_Selector = tuple[str, list[Any]]
"""Which user ids are the author, as SQL for `author_id IN (...)` and its arguments."""


def _ids_of(author: Author) -> _Selector:
    return _marks(author.ids), list(author.ids)


def _who_of(text: str) -> _Selector:
    return _WHO, _who_args(text)


def _summary_statements(who: _Selector) -> list[tuple[str, list[Any]]]:
    sql, args = who
    return [
        (
            "SELECT status, count(*), min(published_at), max(published_at) FROM posts "
            f"WHERE author_id IN ({sql}) GROUP BY status",
            list(args),
        ),
        (
            "SELECT count(*), min(created_at), max(created_at) FROM comments "
            f"WHERE author_id IN ({sql})",
            list(args),
        ),
    ]


def _summary(author: Author, posts_rows: list[Any], comment_rows: list[Any]) -> AuthorSummary:
    posts: dict[str, int] = {}
    times: list[int | float] = []
    for status, count, first, last in posts_rows:
        key = "" if status is None else str(status)
        posts[key] = posts.get(key, 0) + int(count)
        times += [t for t in (first, last) if isinstance(t, int | float)]
    count, first, last = comment_rows[0]
    times += [t for t in (first, last) if isinstance(t, int | float)]
    return AuthorSummary(
        author,
        int(min(times)) if times else None,
        int(max(times)) if times else None,
        posts,
        int(count or 0),
    )


async def _batch(
    conn: Connection, statements: list[tuple[str, list[Any]]], doing: str
) -> list[Any]:
    try:
        return list(await conn.batch(statements))
    except LibsqlError as error:
        raise as_moderation_error(conn, error, doing) from None


async def summarize(conn: Connection, author: Author) -> AuthorSummary:
    """The author's counts and first and last activity on this tenant, in one batch.

    Raises:
        MissingTableError: the tenant lacks `posts` or `comments`.
        ModerationError: the tenant cannot be read.
    """
    posts, comments = await _batch(
        conn, _summary_statements(_ids_of(author)), "read the author's posts and comments"
    )
    return _summary(author, list(posts.rows), list(comments.rows))


async def look_up(conn: Connection, email_or_id: str) -> AuthorSummary | None:
    """`find_author` and `summarize` in ONE batch (one request on a remote tenant), or None.

    Raises:
        MissingTableError: the tenant lacks `users`, `posts` or `comments`.
        ModerationError: the tenant cannot be read.
    """
    text = email_or_id.strip()
    if not text:
        return None
    users, posts, comments = await _batch(
        conn,
        [(_WHO_ROWS, [*_who_args(text), text]), *_summary_statements(_who_of(text))],
        "read the author's posts and comments",
    )
    author = _author(list(users.rows))
    if author is None:
        return None
    return _summary(author, list(posts.rows), list(comments.rows))


async def fetch_author_posts(
    conn: Connection, author: Author, *, after: PageCursor | None = None, limit: int = PAGE_SIZE
) -> PostPage:
    """One page of the author's posts, every status, newest first (undated drafts last).

    Raises:
        ModerationError: the tenant cannot be read.
    """
    ids = list(author.ids)
    marks = _marks(ids)

    async def run(dated: bool, bound: PageCursor | None, wanted: int) -> list[PostRow]:
        args: list[Any] = list(ids)
        keyset, order = keyset_run(dated, bound, "p.published_at", "p.rowid", args)
        where = f"p.author_id IN ({marks})" + keyset
        rows = await query(
            conn,
            f"SELECT {POST_COLUMNS} {POST_FROM} WHERE {where} ORDER BY {order} LIMIT ?",
            [*args, wanted],
            "read the author's posts",
        )
        return [post_row(row) for row in rows]

    posts = await two_runs(after, limit, run)
    cursor = next_cursor(
        posts, limit, date=lambda post: post.published_at, key=lambda post: post.rowid
    )
    return PostPage(posts, cursor)


async def fetch_author_comments(
    conn: Connection, author: Author, *, after: PageCursor | None = None, limit: int = PAGE_SIZE
) -> AuthorCommentPage:
    """One page of the author's comments on any post, newest first (undated last).

    Raises:
        ModerationError: the tenant cannot be read.
    """
    ids = list(author.ids)
    marks = _marks(ids)
    columns = (
        f"c.id, {preview_sql('c.content', COMMENT_PREVIEW)}, c.post_id, "
        f"{preview_sql('p.title', TITLE_PREVIEW)}, c.created_at "
        "FROM comments AS c LEFT JOIN posts AS p ON p.id = c.post_id"
    )

    async def run(dated: bool, bound: PageCursor | None, wanted: int) -> list[AuthorComment]:
        args: list[Any] = list(ids)
        keyset, order = keyset_run(dated, bound, "c.created_at", "c.id", args)
        where = f"c.author_id IN ({marks})" + keyset
        rows = await query(
            conn,
            f"SELECT {columns} WHERE {where} ORDER BY {order} LIMIT ?",
            [*args, wanted],
            "read the author's comments",
        )
        return [AuthorComment(*row) for row in rows]

    comments = await two_runs(after, limit, run)
    cursor = next_cursor(
        comments, limit, date=lambda comment: comment.created_at, key=lambda comment: comment.id
    )
    return AuthorCommentPage(comments, cursor)


def _plan_statements(who: _Selector, posts_to: str | None) -> list[tuple[str, list[Any]]]:
    sql, args = who
    return [
        (f"SELECT count(*) FROM comments WHERE author_id IN ({sql})", list(args)),
        (
            f"SELECT id, status FROM posts WHERE author_id IN ({sql}) AND status IS NOT ? "
            "ORDER BY rowid",
            [*args, posts_to],
        ),
    ]


def _check_target(posts_to: str | None) -> None:
    if posts_to is not None and posts_to not in POST_TARGETS:
        raise AuthorError(f"posts can be moved to {' or '.join(POST_TARGETS)}, not {posts_to!r}")


def _plan(
    author: Author, count: Any, posts: Any, delete_comments: bool, posts_to: str | None
) -> PurgePlan:
    return PurgePlan(
        author,
        int(count.rows[0][0] or 0) if delete_comments else 0,
        [(str(row[0]), row[1]) for row in posts.rows] if posts_to is not None else [],
        delete_comments,
        posts_to,
    )


async def plan_purge(
    conn: Connection, author: Author, *, delete_comments: bool, posts_to: str | None
) -> PurgePlan:
    """Read what a purge would do: the comments it deletes, the posts it moves (one batch).

    Raises:
        AuthorError: `posts_to` is not a purge target.
        ModerationError: the tenant cannot be read.
    """
    _check_target(posts_to)
    count, posts = await _batch(
        conn, _plan_statements(_ids_of(author), posts_to), "read the author's posts and comments"
    )
    return _plan(author, count, posts, delete_comments, posts_to)


async def plan_purge_of(
    conn: Connection, email_or_id: str, *, delete_comments: bool, posts_to: str | None
) -> PurgePlan | None:
    """`find_author` and `plan_purge` in ONE batch (one request on a remote tenant), or None
    when the author is not on this tenant.

    Raises:
        AuthorError: `posts_to` is not a purge target.
        ModerationError: the tenant cannot be read.
    """
    _check_target(posts_to)
    text = email_or_id.strip()
    if not text:
        return None
    users, count, posts = await _batch(
        conn,
        [(_WHO_ROWS, [*_who_args(text), text]), *_plan_statements(_who_of(text), posts_to)],
        "read the author's posts and comments",
    )
    author = _author(list(users.rows))
    if author is None:
        return None
    return _plan(author, count, posts, delete_comments, posts_to)


def _purge_statements(plan: PurgePlan) -> tuple[list[tuple[str, list[Any]]], int, int]:
    """The purge's batch, and where its comment delete and its post updates start (-1: none)."""
    ids = list(plan.author.ids)
    marks = _marks(ids)
    statements: list[tuple[str, list[Any]]] = []
    delete_at = -1
    if plan.posts_to == "draft" and plan.posts:
        # The dates a move back to draft clears, read in the same transaction (for an undo).
        post_ids = [post_id for post_id, _ in plan.posts]
        statements.append(
            (
                f"SELECT id, published_at FROM posts WHERE id IN ({_marks(post_ids)}) "
                "AND published_at IS NOT NULL",
                post_ids,
            )
        )
    if plan.delete_comments:
        delete_at = len(statements)
        # RETURNING *: every column of every row deleted, read by the statement that deletes.
        statements.append(
            (f"DELETE FROM comments WHERE author_id IN ({marks}) RETURNING *", list(ids))
        )
    first_update = len(statements) if plan.posts_to is not None and plan.posts else -1
    if plan.posts_to is not None:
        statements += [
            (
                "UPDATE posts SET status = ?, published_at = CASE ? "
                "WHEN 'draft' THEN NULL ELSE published_at END "
                "WHERE id = ? AND status IS ? RETURNING id",
                [plan.posts_to, plan.posts_to, post_id, shown],
            )
            for post_id, shown in plan.posts
        ]
    return statements, delete_at, first_update


async def purge(
    conn: Connection,
    audit: AuditLog,
    tenant_slug: str,
    plan: PurgePlan,
    *,
    reason: str | None = None,
    group: str | None = None,
) -> PurgeResult:
    """Delete the author's comments and move their posts, in ONE batch, audited as one entry.

    The comments deleted are all the author's comments when the batch runs (a purge
    removes what they wrote, including a comment written since the confirmation); the
    posts moved are those of the plan still in the status it read (the others are
    conflicts). The audit entry keeps every deleted row in full (`rows`), each moved
    post's status before (`before`) and, for a move to draft, the dates it cleared.

    Raises:
        PurgeNotSent: the audit log cannot be written (nothing was sent).
        AuthorError: the write failed (one transaction: all applied or none, see
            `purge_applied`).
    """
    if plan.empty:
        return PurgeResult()  # nothing was shown to confirm, so nothing is written
    statements, delete_at, first_update = _purge_statements(plan)
    post_ids = [post_id for post_id, _ in plan.posts]
    shown = {post_id: status for post_id, status in plan.posts}
    after = {
        "posts": plan.posts_to if plan.posts else None,
        "comments": "deleted" if plan.delete_comments else None,
    }
    try:
        async with audit.recording(
            PURGE_ACTION,
            tenant_slug,
            post_ids,
            before=dict(shown),
            after=after,
            detail=str(plan.author.email),
        ) as entry:
            entry.reason = reason
            entry.group = group
            results = await conn.batch(statements)
            deleted_rows: list[dict[str, Any]] = []
            if delete_at >= 0:
                columns = list(results[delete_at].columns)
                # As the log keeps rows (a blob as base64), so an undo writes back the same value.
                deleted_rows = [
                    encode_row(dict(zip(columns, row[:], strict=False)))
                    for row in results[delete_at].rows
                ]
            deleted = [str(row.get("id")) for row in deleted_rows]
            moved: list[str] = []
            if first_update >= 0:
                moved = [str(row[0]) for result in results[first_update:] for row in result.rows]
            conflicts = [post_id for post_id in post_ids if post_id not in set(moved)]
            before: dict[str, Any] = {post_id: shown[post_id] for post_id in moved}
            if plan.posts_to == "draft" and moved:
                cleared = {str(row[0]): row[1] for row in results[0].rows if str(row[0]) in moved}
                if cleared:
                    before["published_at"] = cleared
            entry.row_ids = deleted + moved
            entry.before = before
            entry.rows = {"comments": deleted_rows} if plan.delete_comments else None
            # The email alone (an undo reads it back); posts left alone as conflicts are the
            # planned ones (the pending line's `row_ids`) missing from this entry's `row_ids`.
            entry.detail = str(plan.author.email)
    except AuditError as error:
        raise PurgeNotSent(str(error)) from None
    except LibsqlError as error:
        # One transaction: either all of it was applied or none; a lost answer does not say
        # which (`purge_applied` finds out).
        raise AuthorError(
            str(as_moderation_error(conn, error, f"purge {plan.author.email}"))
        ) from None
    return PurgeResult(deleted, moved, conflicts, entry.id)


async def purge_applied(conn: Connection, plan: PurgePlan) -> bool:
    """Whether a purge whose answer was lost took effect: the author has none of the
    comments it deleted and every post it moved is at its target.

    Used after a failure to tell the operator which tenants were done and which were left
    untouched (the batch is one transaction: it is one or the other).
    """
    ids = list(plan.author.ids)
    applied = True
    if plan.delete_comments and plan.comments:
        rows = await query(
            conn,
            f"SELECT count(*) FROM comments WHERE author_id IN ({_marks(ids)})",
            ids,
            "read the author's comments",
        )
        applied = int(rows[0][0] or 0) == 0
    if plan.posts_to is not None and plan.posts:
        post_ids = [post_id for post_id, _ in plan.posts]
        rows = await query(
            conn,
            f"SELECT count(*) FROM posts WHERE id IN ({_marks(post_ids)}) AND status IS ?",
            [*post_ids, plan.posts_to],
            "read the author's posts",
        )
        applied = applied and int(rows[0][0] or 0) > 0
    return applied


__all__ = [
    "POST_TARGETS",
    "PURGE_ACTION",
    "STATUSES",
    "Author",
    "AuthorComment",
    "AuthorCommentPage",
    "AuthorError",
    "AuthorSummary",
    "PurgeNotSent",
    "PurgePlan",
    "PurgeResult",
    "fetch_author_comments",
    "fetch_author_posts",
    "find_author",
    "look_up",
    "plan_purge",
    "plan_purge_of",
    "purge",
    "purge_applied",
    "summarize",
]
