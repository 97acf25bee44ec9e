"""Moderation IO: one tenant's posts and comments, paged from the database, and guarded writes.

Pages use keyset pagination so a 10⁶-post tenant costs the same as a small one:

- posts are ordered by `published_at DESC, rowid DESC`, the order of the built-in
  index `posts(status, published_at)` (SQLite keeps the rowid as its last column) walked
  backwards; posts without `published_at` (drafts) come after the dated ones, newest
  inserted first, since the schema has no creation time and the rowid is insertion order;
- "all" is the same order over every status, merged from each status's run of that index;
- oldest first is the same walk the other way (the other end of the list, at once).

Writes are guarded: `UPDATE … WHERE id = ? AND status IS <the status the screen showed>
RETURNING id`, all of one action in one batch (one request on a remote tenant); a post
changed underneath is a conflict, never overwritten. Every write is recorded in the audit
log (`pending` before it is sent, then `ok`/`failed`) before it is reported.

Nothing here imports textual.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.errors import TursotuiError
from tursotui.session.audit import AuditError, AuditLog, encode_row

STATUSES = ("draft", "published", "archived")
"""The statuses the app knows; a row may still hold any other value (no CHECK constraint)."""

ACTIONS = {"published": "publish", "archived": "archive", "draft": "draft"}
"""The audit log's action name for each target status."""

PAGE_SIZE = 50
TITLE_PREVIEW = 300
"""Characters of a title fetched for lists: a 1 MB title must not travel with every page."""

COMMENT_PREVIEW = 2000
"""Characters of a comment fetched for the comments list."""


def preview_sql(column: str, chars: int) -> str:
    """SQL for the first `chars` characters of a text `column`, NUL characters included.

    SQLite's `substr()` stops at the first NUL of a text value, so a title holding one
    would be cut short in lists while the post screen shows it whole. A value of at most
    `chars * 4` bytes (what `chars` characters of UTF-8 can take) is fetched unchanged, so
    no more bytes travel than before; only a longer one is cut with `substr()` (and still
    stops at a NUL among its first `chars` characters: rare, and the list marks it cut).
    """
    return (
        f"CASE WHEN typeof({column}) = 'text' AND length(CAST({column} AS BLOB)) <= {chars * 4} "
        f"THEN {column} ELSE substr({column}, 1, {chars}) END"
    )


class ModerationError(TursotuiError):
    """A moderation read or write failed; the message names the tenant and the cause."""

    title = "Moderation"


class MissingTableError(ModerationError):
    """The tenant lacks a table moderation needs (not migrated, or a different schema)."""


@dataclass(frozen=True)
class PostFilter:
    """What a posts list shows: a status (None for all), a search of titles and contents, and
    which end first."""

    status: str | None = None
    search: str | None = None
    oldest_first: bool = False


@dataclass(frozen=True)
class PageCursor:
    """Where the next page starts: after the last row shown.

    Attributes:
        published_at: The last row's `published_at` (None when it has none).
        key: The last row's rowid.
        undated: The last row shown has no `published_at` (its run goes on).
        statuses: The status values an "all" list walks (found once, on its first page).
    """

    published_at: int | None
    key: Any
    undated: bool = False
    statuses: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class PostRow:
    """One post as a list shows it (title cut to TITLE_PREVIEW characters)."""

    id: str
    title: Any
    status: Any
    published_at: Any
    author_id: Any
    author_name: Any
    rowid: int
    snippet: Any = None
    """With a search that the content matches: the content around its first match."""


@dataclass(frozen=True)
class PostPage:
    """One page of posts, and where the next one starts (None at the end)."""

    posts: list[PostRow]
    next: PageCursor | None


@dataclass(frozen=True)
class Post:
    """One post in full."""

    id: str
    title: Any
    content: Any
    status: Any
    published_at: Any
    author_id: Any
    author_name: Any
    author_email: Any
    comment_count: int


@dataclass(frozen=True)
class CommentRow:
    """One comment of a post (content cut to COMMENT_PREVIEW characters)."""

    id: str
    content: Any
    author_id: Any
    author_name: Any
    created_at: Any
    excerpt: Any = 0
    """True when `content` is the part around a search's match (found past the preview)."""


@dataclass(frozen=True)
class FoundComment:
    """A comment found by a search or an author over a whole tenant, with its post.

    `content` is the comment around its first match (or its beginning, without a search).
    """

    id: str
    content: Any
    post_id: Any
    post_title: Any
    author_id: Any
    author_name: Any
    created_at: Any


@dataclass(frozen=True)
class FoundComments:
    """One page of found comments, newest first, and where the next one starts."""

    comments: list[FoundComment]
    next: PageCursor | None


@dataclass(frozen=True)
class CommentPage:
    """One page of comments, newest first, and where the next one starts."""

    comments: list[CommentRow]
    next: PageCursor | None


@dataclass
class ModerationResult:
    """What a guarded write did.

    Attributes:
        changed: Ids the database changed.
        conflicts: Ids it did not change: changed or deleted underneath.
        unchanged: Ids that already had the status asked for: nothing was sent for them.
    """

    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def as_moderation_error(conn: Connection, error: LibsqlError, doing: str) -> ModerationError:
    """What a failed read or write of `doing` says: a tenant without the tables is named so."""
    cause = describe(error)
    if "no such table" in cause or "no such column" in cause:
        return MissingTableError(
            f"{conn.name}: cannot {doing}: the tenant does not have the expected tables "
            f"({cause.removeprefix(conn.name + ': ')}); is it migrated?"
        )
    return ModerationError(f"cannot {doing}: {cause}")


async def query(conn: Connection, sql: str, args: list[Any], doing: str) -> list[Any]:
    """The rows of one read; a failure is a ModerationError saying what was being read."""
    try:
        return list((await conn.execute(sql, args)).rows)
    except LibsqlError as error:
        raise as_moderation_error(conn, error, doing) from None


_Row = TypeVar("_Row")

POST_COLUMNS = (
    f"p.rowid, p.id, {preview_sql('p.title', TITLE_PREVIEW)}, p.status, p.published_at, "
    "p.author_id, u.name"
)
POST_FROM = "FROM posts AS p LEFT JOIN users AS u ON u.id = p.author_id"


def post_row(row: Any) -> PostRow:
    """A `PostRow` from a row of `POST_COLUMNS`."""
    return PostRow(
        id=row[1],
        title=row[2],
        status=row[3],
        published_at=row[4],
        author_id=row[5],
        author_name=row[6],
        rowid=row[0],
        snippet=row[7] if len(row) > 7 else None,
    )


def keyset_run(
    dated: bool,
    bound: PageCursor | None,
    time: str,
    key: str,
    args: list[Any],
    *,
    oldest_first: bool = False,
) -> tuple[str, str]:
    """The ` AND ...` condition and the order of one run of a two-run keyset page.

    The dated rows run by (`time`, `key`), the undated ones by `key` alone (SQLite sorts
    NULL first, so they are read as a run of their own); `bound` is where the page before
    ended, and its values are bound into `args`.
    """
    direction, compare = ("ASC", ">") if oldest_first else ("DESC", "<")
    if dated:
        where = f" AND {time} IS NOT NULL"
        if bound is not None:
            where += f" AND ({time}, {key}) {compare} (?, ?)"
            args += [bound.published_at, bound.key]
        return where, f"{time} {direction}, {key} {direction}"
    where = f" AND {time} IS NULL"
    if bound is not None:
        where += f" AND {key} {compare} ?"
        args.append(bound.key)
    return where, f"{key} {direction}"


def contains_clause(
    search: str | None, args: list[Any], columns: Sequence[str] = ("p.title",)
) -> str:
    """` AND (...)`: rows where any of `columns` contains `search` literally, or "" for no search.

    The one way text is matched, wherever tursotui searches: `%`, `_` and `\\` in the search
    match themselves (escaped for LIKE), and the text is a bound argument, never SQL.
    ASCII letters match in either case, as LIKE does.
    """
    if not search:
        return ""
    pattern = f"%{_escape_like(search)}%"
    args.extend(pattern for _ in columns)
    return " AND (" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in columns) + ")"


def author_clause(column: str, email: str | None, args: list[Any]) -> str:
    """` AND ...`: rows whose `column` is the id of the user with this email, or "" for none.

    The email matches in any case of its ASCII letters (emails are stored as typed).
    """
    if email is None:
        return ""
    args.append(email)
    return f" AND {column} IN (SELECT id FROM users WHERE lower(email) = lower(?))"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SEARCHED = ("p.title", "p.content")
"""What a posts search looks in: the title and the content."""

SNIPPET_LEAD = 40
"""Characters of a snippet before the match, so it is read in context."""

SNIPPET_CHARS = 240
"""Characters of a snippet after its start (plus the search's own length)."""


def snippet_sql(column: str, search: str, args: list[Any]) -> str:
    """SQL for `column` around the first place it holds `search`, or NULL where it does not.

    Case is folded for ASCII letters only, as LIKE does (SQLite's `lower()`), so the
    snippet finds what `contains_clause` matched. Only the rows a page returns compute
    it, and only a few hundred characters of a long content travel.
    """
    args += [search, search]
    at = f"instr(lower({column}), lower(?))"
    length = SNIPPET_LEAD + SNIPPET_CHARS + len(search)
    return f"CASE WHEN {at} > 0 THEN substr({column}, max(1, {at} - {SNIPPET_LEAD}), {length}) END"


async def fetch_posts(
    conn: Connection,
    status: str | None,
    *,
    after: PageCursor | None = None,
    limit: int = PAGE_SIZE,
    search: str | None = None,
    oldest_first: bool = False,
    author_email: str | None = None,
) -> PostPage:
    """One page of posts, newest first (or oldest first).

    Newest first is: posts with `published_at`, latest first, then those without it
    (drafts), newest inserted first. Oldest first is exactly the reverse. "All" is the
    same order over every status: each status's run of the index `posts(status,
    published_at)` is read (a page at most each) and the runs merged, so a page costs
    a few index seeks whatever the tenant's size.

    Args:
        conn: The tenant's connection.
        status: Only posts with this status (any text, even unknown ones), or None for all.
        after: The cursor of the previous page, or None for the first page.
        limit: Posts per page.
        search: Only posts whose title or content contains this text, literally
            (case-insensitive for ASCII); each row's `snippet` is its content around the match.
        oldest_first: Walk the order backwards (the other end of the list).
        author_email: Only posts by the user with this email (case-insensitive for ASCII).

    Raises:
        MissingTableError: the tenant has no `posts`/`users` table.
        ModerationError: the tenant cannot be read.
    """
    if status is None and (search or author_email is not None):
        posts = await _scan(conn, after, limit, search, oldest_first, author_email)
        cursor = next_cursor(
            posts, limit, date=lambda post: post.published_at, key=lambda post: post.rowid
        )
        return PostPage(posts, cursor)
    if status is not None:
        statuses: tuple[Any, ...] = (status,)
    elif after is not None and after.statuses is not None:
        statuses = after.statuses
    else:
        statuses = await _all_statuses(conn)

    async def run(dated: bool, bound: PageCursor | None, wanted: int) -> list[PostRow]:
        return await _run(conn, statuses, dated, bound, wanted, search, oldest_first, author_email)

    # Newest first: the dated run, then the undated one; oldest first: the reverse.
    posts = await two_runs(after, limit, run, dated_first=not oldest_first)
    cursor = next_cursor(
        posts,
        limit,
        date=lambda post: post.published_at,
        key=lambda post: post.rowid,
        statuses=statuses if status is None else None,
    )
    return PostPage(posts, cursor)


async def two_runs(
    after: PageCursor | None,
    limit: int,
    run: Callable[[bool, PageCursor | None, int], Awaitable[list[_Row]]],
    *,
    dated_first: bool = True,
) -> list[_Row]:
    """Up to `limit` rows of an order made of two runs, resuming after `after`.

    Rows with a date come in one run (by date, then key), rows without in the other (by
    key); `run(dated, bound, wanted)` reads up to `wanted` rows of one run after `bound`.
    Each run is a keyset range on an index, so a page costs a seek whatever the table's
    size; the second run is read only when the first one ends inside the page.
    """
    phases = [True, False] if dated_first else [False, True]
    if after is not None:
        phases = phases[phases.index(not after.undated) :]
    rows: list[_Row] = []
    for dated in phases:
        bound = after if after is not None and dated == (not after.undated) else None
        rows += await run(dated, bound, limit - len(rows))
        if len(rows) >= limit:
            break
    return rows


def next_cursor(
    rows: list[_Row],
    limit: int,
    *,
    date: Callable[[_Row], Any],
    key: Callable[[_Row], Any],
    statuses: tuple[Any, ...] | None = None,
) -> PageCursor | None:
    """Where the page after `rows` starts, or None when this page was the last."""
    if len(rows) < limit or not rows:
        return None
    last = rows[-1]
    dated = date(last)
    return PageCursor(dated, key(last), undated=dated is None, statuses=statuses)


async def _all_statuses(conn: Connection) -> tuple[Any, ...]:
    """Every status value present, found with one index seek per value (a loose index scan).

    The app's own statuses and NULL are always included (an empty run costs one seek), so
    a post moved into a status no other post had yet is still listed on later pages.
    """
    rows = await query(
        conn,
        "WITH RECURSIVE s(v) AS (SELECT (SELECT min(status) FROM posts) UNION ALL "
        "SELECT (SELECT min(status) FROM posts WHERE status > s.v) FROM s "
        "WHERE s.v IS NOT NULL) SELECT v FROM s WHERE v IS NOT NULL",
        [],
        "read posts",
    )
    found = [row[0] for row in rows]
    extra = [s for s in STATUSES if s not in found]
    return (*found, *extra, None)


async def _run(
    conn: Connection,
    statuses: tuple[Any, ...],
    dated: bool,
    after: PageCursor | None,
    limit: int,
    search: str | None,
    oldest_first: bool,
    author_email: str | None = None,
) -> list[PostRow]:
    """Up to `limit` posts of the dated (or undated) run of these statuses, after `after`.

    With several statuses, each status's run is read on its own (one index range each,
    `LIMIT` applied inside) and SQLite merges them: `UNION ALL` of ordered subqueries.
    """
    direction = "ASC" if oldest_first else "DESC"
    parts: list[str] = []
    args: list[Any] = []
    for status in statuses:
        where_args: list[Any] = []
        if status is None:
            where = "p.status IS NULL"
        else:
            where = "p.status = ?"
            where_args.append(status)
        keyset, order = keyset_run(
            dated, after, "p.published_at", "p.rowid", where_args, oldest_first=oldest_first
        )
        where += keyset
        where += contains_clause(search, where_args, SEARCHED)
        where += author_clause("p.author_id", author_email, where_args)
        where_args.append(limit)
        select_args: list[Any] = []
        snippet = snippet_sql("p.content", search, select_args) if search else "NULL"
        args += select_args + where_args
        parts.append(
            f"SELECT {POST_COLUMNS}, {snippet} {POST_FROM} WHERE {where} ORDER BY {order} LIMIT ?"
        )
    if len(parts) == 1:
        sql = parts[0]
    else:
        # Columns by position: 5 is published_at, 1 the rowid (see POST_COLUMNS).
        outer = f"5 {direction}, 1 {direction}" if dated else f"1 {direction}"
        union = " UNION ALL ".join(f"SELECT * FROM ({part})" for part in parts)
        sql = f"{union} ORDER BY {outer} LIMIT ?"
        args.append(limit)
    return [post_row(r) for r in await query(conn, sql, args, "read posts")]


def one_run(
    date: str, key: str, after: PageCursor | None, args: list[Any], *, oldest_first: bool = False
) -> tuple[str, str]:
    """(WHERE condition, ORDER BY) of the whole two-run order in one query, after `after`.

    The same order `two_runs` reads in two (dated rows by date then key, then the undated
    ones by key; oldest first is its reverse), for a query that scans the table anyway (a
    search): one scan instead of one per run.
    """
    if not oldest_first:
        order = f"({date} IS NULL), {date} DESC, {key} DESC"
        if after is None:
            return "1", order
        if after.undated:
            args.append(after.key)
            return f"({date} IS NULL AND {key} < ?)", order
        args += [after.published_at, after.key]
        return f"({date} IS NULL OR ({date}, {key}) < (?, ?))", order
    order = f"({date} IS NOT NULL), {date} ASC, {key} ASC"
    if after is None:
        return "1", order
    if after.undated:
        args.append(after.key)
        return f"({date} IS NOT NULL OR {key} > ?)", order
    args += [after.published_at, after.key]
    return f"({date} IS NOT NULL AND ({date}, {key}) > (?, ?))", order


async def _scan(
    conn: Connection,
    after: PageCursor | None,
    limit: int,
    search: str | None,
    oldest_first: bool,
    author_email: str | None,
) -> list[PostRow]:
    """Up to `limit` posts of every status matching a search or an author, after `after`.

    A search reads the whole table once: each title and content must be looked at anyway
    when matches are rare, and one scan in table order costs about a tenth of walking
    every status's index run (1M posts, titles: 0.6 s against 7.7 s). The whole order is
    one query (`one_run`), so a page is one scan, not one per run.
    """
    args: list[Any] = []
    snippet = snippet_sql("p.content", search, args) if search else "NULL"
    where, order = one_run("p.published_at", "p.rowid", after, args, oldest_first=oldest_first)
    where += contains_clause(search, args, SEARCHED)
    where += author_clause("p.author_id", author_email, args)
    sql = f"SELECT {POST_COLUMNS}, {snippet} {POST_FROM} WHERE {where} ORDER BY {order} LIMIT ?"
    return [post_row(r) for r in await query(conn, sql, [*args, limit], "read posts")]


async def status_counts(conn: Connection) -> dict[str, int]:
    """Posts per status value, in one query (unknown values and NULL included, NULL as '')."""
    rows = await query(
        conn, "SELECT status, count(*) FROM posts GROUP BY status", [], "count posts"
    )
    counts: dict[str, int] = {}
    for status, count in rows:
        key = "" if status is None else str(status)
        counts[key] = counts.get(key, 0) + int(count)
    return counts


async def fetch_post(conn: Connection, post_id: str) -> Post | None:
    """One post in full with its author and comment count, or None if it is gone."""
    rows = await query(
        conn,
        "SELECT p.id, p.title, p.content, p.status, p.published_at, p.author_id, u.name, "
        "u.email, (SELECT count(*) FROM comments AS c WHERE c.post_id = p.id) "
        f"{POST_FROM} WHERE p.id = ?",
        [post_id],
        "read the post",
    )
    if not rows:
        return None
    r = rows[0]
    return Post(
        id=r[0],
        title=r[1],
        content=r[2],
        status=r[3],
        published_at=r[4],
        author_id=r[5],
        author_name=r[6],
        author_email=r[7],
        comment_count=int(r[8] or 0),
    )


async def fetch_posts_by_id(conn: Connection, ids: list[str]) -> dict[str, PostRow]:
    """The list rows of these posts as they are now (after a write); gone ones are absent."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await query(
        conn,
        f"SELECT {POST_COLUMNS} {POST_FROM} WHERE p.id IN ({marks})",
        list(ids),
        "read posts",
    )
    return {row[1]: post_row(row) for row in rows}


async def fetch_comments(
    conn: Connection,
    post_id: str,
    *,
    after: PageCursor | None = None,
    limit: int = PAGE_SIZE,
    search: str | None = None,
) -> CommentPage:
    """One page of a post's comments, newest first (`created_at DESC, id DESC`, undated last).

    With `search`, only the comments whose content contains it, literally (`contains_clause`).

    Raises:
        MissingTableError: the tenant has no `comments`/`users` table.
        ModerationError: the tenant cannot be read.
    """
    select_args: list[Any] = []
    content = preview_sql("c.content", COMMENT_PREVIEW)
    excerpt = "0"
    if search:
        # A match past the preview: the part around it instead, so the list shows the match.
        past = f"instr(lower(c.content), lower(?)) + {len(search)} > {COMMENT_PREVIEW}"
        select_args.append(search)
        snippet = snippet_sql("c.content", search, select_args)
        content = f"CASE WHEN {past} THEN {snippet} ELSE {content} END"
        excerpt = past
        select_args.append(search)
    columns = (
        f"c.id, {content}, c.author_id, u.name, c.created_at, {excerpt} "
        "FROM comments AS c LEFT JOIN users AS u ON u.id = c.author_id"
    )

    async def run(dated: bool, bound: PageCursor | None, wanted: int) -> list[CommentRow]:
        args: list[Any] = [*select_args, post_id]
        keyset, order = keyset_run(dated, bound, "c.created_at", "c.id", args)
        where = "c.post_id = ?" + keyset
        where += contains_clause(search, args, ("c.content",))
        rows = await query(
            conn,
            f"SELECT {columns} WHERE {where} ORDER BY {order} LIMIT ?",
            [*args, wanted],
            "read comments",
        )
        return [CommentRow(*r) for r in rows]

    comments = await two_runs(after, limit, run)
    cursor = next_cursor(
        comments, limit, date=lambda comment: comment.created_at, key=lambda comment: comment.id
    )
    return CommentPage(comments, cursor)


async def find_comments(
    conn: Connection,
    *,
    search: str | None = None,
    post_id: str | None = None,
    author_email: str | None = None,
    after: PageCursor | None = None,
    limit: int = PAGE_SIZE,
) -> FoundComments:
    """One page of a tenant's comments, on every post, newest first (undated last).

    Args:
        conn: The tenant's connection.
        search: Only comments whose content contains this text, literally
            (`contains_clause`); each comment's `content` is then the part around the match.
        post_id: Only the comments of this post.
        author_email: Only the comments of the user with this email (any ASCII case).
        after: The cursor of the previous page, or None for the first page.
        limit: Comments per page.

    Raises:
        MissingTableError: the tenant has no `comments`/`posts`/`users` table.
        ModerationError: the tenant cannot be read.
    """

    args: list[Any] = []
    content = (
        snippet_sql("c.content", search, args)
        if search
        else preview_sql("c.content", COMMENT_PREVIEW)
    )
    # One query for the whole order: with a search or without an index for the order,
    # each run would scan the table again.
    where, order = one_run("c.created_at", "c.id", after, args)
    if post_id is not None:
        where += " AND c.post_id = ?"
        args.append(post_id)
    where += contains_clause(search, args, ("c.content",))
    where += author_clause("c.author_id", author_email, args)
    rows = await query(
        conn,
        f"SELECT c.id, {content}, c.post_id, {preview_sql('p.title', TITLE_PREVIEW)}, "
        "c.author_id, u.name, c.created_at FROM comments AS c "
        "LEFT JOIN posts AS p ON p.id = c.post_id LEFT JOIN users AS u ON u.id = c.author_id "
        f"WHERE {where} ORDER BY {order} LIMIT ?",
        [*args, limit],
        "read comments",
    )
    comments = [FoundComment(*r) for r in rows]
    cursor = next_cursor(
        comments, limit, date=lambda comment: comment.created_at, key=lambda comment: comment.id
    )
    return FoundComments(comments, cursor)


def _before(posts: list[tuple[str, Any]]) -> Any:
    statuses = {status for _, status in posts}
    if len(statuses) == 1:
        return next(iter(statuses))
    return {post_id: status for post_id, status in posts}


async def set_status(
    conn: Connection,
    audit: AuditLog,
    tenant_slug: str,
    posts: list[tuple[str, Any]],
    new_status: str,
    *,
    reason: str | None = None,
    group: str | None = None,
) -> ModerationResult:
    """Move posts to `new_status`, each only if it still has the status the screen showed.

    All updates go in one batch (one transaction, one request on a remote tenant).
    Publishing sets `published_at` to now (integer seconds) where it is empty, and the
    audit entry keeps the dates it set; moving back to draft clears it (a draft has not
    been published; a later publish stamps its own date), and the audit entry keeps the
    dates it cleared: an undo puts either back. Archiving keeps it.
    Posts shown with the status asked for are left alone, not written and not
    audited (`unchanged`).

    Args:
        conn: The tenant's connection.
        audit: The audit log; the write is recorded before it is sent and its outcome after.
        tenant_slug: The tenant, for the audit log.
        posts: `(id, status shown)` pairs.
        new_status: `draft`, `published` or `archived`.
        reason: Why, as the operator typed it (kept in the audit entry).
        group: The id shared by the entries of one action across several tenants.

    Returns:
        Which posts changed, which were changed underneath (conflicts), which already
        had the status (unchanged).

    Raises:
        ModerationError: the audit log cannot be written (nothing was sent) or the write failed
            (nothing was changed).
    """
    if new_status not in STATUSES:
        raise ModerationError(f"unknown status {new_status!r}")
    unchanged = [post_id for post_id, shown in posts if shown == new_status]
    posts = [(post_id, shown) for post_id, shown in posts if shown != new_status]
    if not posts:
        return ModerationResult(unchanged=unchanged)
    now = int(time.time())
    statements: list[tuple[str, list[Any]]] = []
    ids = [post_id for post_id, _ in posts]
    marks = ", ".join("?" for _ in ids)
    if new_status == "draft":
        # Read in the same transaction as the update: the dates it is about to clear.
        statements.append(
            (
                f"SELECT id, published_at FROM posts WHERE id IN ({marks}) "
                "AND published_at IS NOT NULL",
                list(ids),
            )
        )
    elif new_status == "published":
        # The same for the posts a publish is about to date: an undo clears those again.
        statements.append(
            (f"SELECT id FROM posts WHERE id IN ({marks}) AND published_at IS NULL", list(ids))
        )
    first_update = len(statements)
    statements += [
        (
            "UPDATE posts SET status = ?, published_at = CASE ? "
            "WHEN 'published' THEN coalesce(published_at, ?) WHEN 'draft' THEN NULL "
            "ELSE published_at END "
            "WHERE id = ? AND status IS ? RETURNING id",
            [new_status, new_status, now, post_id, shown],
        )
        for post_id, shown in posts
    ]
    try:
        async with audit.recording(
            ACTIONS[new_status],
            tenant_slug,
            ids,
            before=_before(posts),
            after=new_status,
            reason=reason,
            group=group,
        ) as entry:
            results = await conn.batch(statements)
            changed = [str(row[0]) for result in results[first_update:] for row in result.rows]
            done = set(changed)  # once: a set per id made a 10,000-row write quadratic
            conflicts = [post_id for post_id in ids if post_id not in done]
            entry.row_ids = changed
            if first_update and new_status == "draft":
                cleared = {str(row[0]): row[1] for row in results[0].rows if str(row[0]) in changed}
                if cleared:
                    entry.before = {"status": entry.before, "published_at": cleared}
                    entry.after = {"status": new_status, "published_at": None}
            elif first_update:
                dated = {str(row[0]): now for row in results[0].rows if str(row[0]) in changed}
                if dated:
                    entry.after = {"status": new_status, "published_at": dated}
            if conflicts:
                entry.detail = (
                    f"conflicts (changed underneath, not written): {', '.join(conflicts)}"
                )
    except AuditError as error:
        raise ModerationError(str(error)) from None
    except LibsqlError as error:
        raise as_moderation_error(conn, error, f"{ACTIONS[new_status]} posts") from None
    return ModerationResult(changed, conflicts, unchanged)


async def delete_comments(
    conn: Connection,
    audit: AuditLog,
    tenant_slug: str,
    ids: list[str],
    *,
    reason: str | None = None,
    group: str | None = None,
) -> ModerationResult:
    """Delete comments by id in one batch, audited; ids already gone are reported as conflicts.

    The full rows are read in the same batch (one transaction) just before the deletes,
    so the audit entry holds exactly what was deleted, every column, and an undo can
    put the comments back as they were.

    Args:
        reason: Why, as the operator typed it (kept in the audit entry).
        group: The id shared by the entries of one action across several tenants.

    Raises:
        ModerationError: the audit log cannot be written or the delete failed (nothing deleted).
    """
    if not ids:
        return ModerationResult()
    statements = [
        (f"SELECT * FROM comments WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)
        for chunk in id_chunks(ids)
    ]
    reads = len(statements)
    statements += [("DELETE FROM comments WHERE id = ? RETURNING id", [i]) for i in ids]
    try:
        async with audit.recording(
            "delete-comment", tenant_slug, ids, after="deleted", reason=reason, group=group
        ) as entry:
            results = await conn.batch(statements)
            changed = [str(row[0]) for result in results[reads:] for row in result.rows]
            done = set(changed)  # once: a set per id made a 10,000-row delete quadratic
            conflicts = [i for i in ids if i not in done]
            entry.row_ids = changed
            entry.rows = {
                "comments": [row for r in results[:reads] for row in deleted_rows(r, changed)]
            }
            if conflicts:
                entry.detail = f"already gone: {', '.join(conflicts)}"
    except AuditError as error:
        raise ModerationError(str(error)) from None
    except LibsqlError as error:
        raise as_moderation_error(conn, error, "delete comments") from None
    return ModerationResult(changed, conflicts)


def deleted_rows(result: Any, ids: list[str]) -> list[dict[str, Any]]:
    """The rows of a `SELECT *` whose `id` is among `ids`, as the audit log keeps them."""
    wanted = set(ids)
    columns = list(result.columns)
    rows = [dict(zip(columns, tuple(row), strict=True)) for row in result.rows]
    return [encode_row(row) for row in rows if str(row.get("id")) in wanted]


ID_CHUNK = 500
"""Ids bound in one `IN (…)` list: SQLite allows 32,766 variables a statement, older builds 999."""


def id_chunks(ids: Sequence[Any]) -> list[list[Any]]:
    """`ids` in lists of at most ID_CHUNK (one `IN (…)` statement each)."""
    return [list(ids[i : i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK)]
