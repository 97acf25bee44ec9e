"""The moderation queue across tenants: drafts and newest comments of every tenant, merged.

Every tenant is read a page at a time (keyset pages, as on the posts screen) and
the pages are merged newest first with a k-way merge: the queue holds at most
one page per tenant, so a fleet of large tenants never loads their posts whole.
The order is the posts screen's: dated rows newest first, then undated ones by
id (`(coalesce(time, -1), id) DESC`), so a tenant's rows keep their own order.

A search narrows the queue to rows whose text contains a string, literally
(`moderation.contains_clause`): drafts by title or content, comments by content, still
read a page per tenant from the database.

Actions go to the right tenant's database through `tursotui.tenant.moderation`
(`set_status`, `delete_comments`): the same guards and the same audit log as
the posts screen, one batch per tenant, the tenants asked in parallel through
`fleet.fanout.bounded`; a tenant that fails is reported and never asked again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.moderation import (
    COMMENT_PREVIEW,
    POST_COLUMNS,
    POST_FROM,
    TITLE_PREVIEW,
    ModerationError,
    PageCursor,
    PostRow,
    contains_clause,
    fetch_posts,
    post_row,
    preview_sql,
)

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace

PAGE_SIZE = 50

T = TypeVar("T")


@dataclass(frozen=True)
class QueuedPost:
    """A post in the queue, with the tenant it belongs to."""

    tenant: Tenant
    post: PostRow

    @property
    def key(self) -> tuple[str, str]:
        """(tenant slug, post id): unique across the fleet."""
        return (self.tenant.slug, str(self.post.id))

    @property
    def order(self) -> tuple[int, int, str]:
        """Sort key, larger is newer: the posts list's order (date, then rowid) on one tenant."""
        when = self.post.published_at
        return (when if isinstance(when, int) else -1, self.post.rowid, str(self.post.id))


@dataclass(frozen=True)
class QueuedComment:
    """A comment in the queue, with its tenant and the title of its post.

    Attributes:
        tenant: The tenant it belongs to.
        id: The comment's id.
        content: Its content, cut to COMMENT_PREVIEW characters (untrusted).
        post_id: The post it is on.
        post_title: That post's title, cut (untrusted), or None if the post is gone.
        author_name: Its author's name (untrusted), or None.
        created_at: Epoch seconds, or None.
    """

    tenant: Tenant
    id: str
    content: Any
    post_id: Any
    post_title: Any
    author_name: Any
    created_at: Any

    @property
    def key(self) -> tuple[str, str]:
        """(tenant slug, comment id): unique across the fleet."""
        return (self.tenant.slug, str(self.id))

    @property
    def order(self) -> tuple[int, str]:
        """Sort key, larger is newer (the order `newest_comments` reads in)."""
        when = self.created_at
        return (when if isinstance(when, int) else -1, str(self.id))


COMMENTS_SQL = (
    f"SELECT c.id, {preview_sql('c.content', COMMENT_PREVIEW)}, c.post_id, "
    f"{preview_sql('p.title', TITLE_PREVIEW)}, u.name, c.created_at "
    "FROM comments AS c LEFT JOIN users AS u ON u.id = c.author_id "
    "LEFT JOIN posts AS p ON p.id = c.post_id "
)


async def newest_comments(
    conn: Connection,
    tenant: Tenant,
    *,
    after: tuple[int, str] | None,
    limit: int,
    search: str | None = None,
) -> list[QueuedComment]:
    """One page of a tenant's newest comments (any post), after the `order` key given.

    Args:
        search: Only comments whose content contains this text, literally.

    Raises:
        ModerationError: the tenant cannot be read.
    """
    args: list[Any] = []
    where = "WHERE 1"
    if after is not None:
        where += " AND (coalesce(c.created_at, -1), c.id) < (?, ?)"
        args += list(after)
    where += contains_clause(search, args, ("c.content",))
    sql = COMMENTS_SQL + where + " ORDER BY coalesce(c.created_at, -1) DESC, c.id DESC LIMIT ?"
    try:
        result = await conn.execute(sql, [*args, limit])
    except LibsqlError as error:
        raise ModerationError(f"cannot read comments: {describe(error)}") from None
    return [QueuedComment(tenant, str(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in result.rows]


# The posts list's columns and how a row of them reads: one definition, in moderation.
DRAFTS_MATCHING_SQL = f"SELECT {POST_COLUMNS} {POST_FROM} WHERE p.status = 'draft'"


async def matching_drafts(
    conn: Connection, *, search: str, after: tuple[int, int] | None, limit: int
) -> list[PostRow]:
    """One page of a tenant's drafts whose title or content contains `search`, literally.

    In the queue's order (date, then rowid, newest first) after the `(date, rowid)` given.
    A content search looks at every draft's text anyway, so one ordered scan it is.

    Raises:
        ModerationError: the tenant cannot be read.
    """
    args: list[Any] = []
    sql = DRAFTS_MATCHING_SQL
    if after is not None:
        sql += " AND (coalesce(p.published_at, -1), p.rowid) < (?, ?)"
        args += list(after)
    sql += contains_clause(search, args, ("p.title", "p.content"))
    sql += " ORDER BY coalesce(p.published_at, -1) DESC, p.rowid DESC LIMIT ?"
    try:
        result = await conn.execute(sql, [*args, limit])
    except LibsqlError as error:
        raise ModerationError(f"cannot read drafts: {describe(error)}") from None
    return [post_row(r) for r in result.rows]


@dataclass(eq=False)
class _Source(Generic[T]):
    """One tenant's place in the merge: its buffered rows and where its next page starts.

    Attributes:
        late: A page was emitted while this tenant had not answered: when it does, its
            rows newer than the oldest row shown belong among the rows already shown.
    """

    tenant: Tenant
    buffer: deque[T] = field(default_factory=deque)
    cursor: Any = None
    done: bool = False
    error: str | None = None
    late: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def asking(self) -> bool:
        """A page of this tenant's has been asked for and has not arrived."""
        return self.task is not None and not self.task.done()


class MergedQueue(Generic[T]):
    """A k-way merge of per-tenant pages, newest first, read page by page.

    `fetch(tenant, cursor, limit)` returns `(rows, next_cursor)` (next None at the end)
    and raises for the tenant's failures; a failing tenant is dropped from the queue
    with its error kept in `errors`.

    A slow tenant costs only itself: `next_page(patience=...)` merges the tenants that
    have answered by then, and a tenant answering later hands its rows that belong among
    those already shown (newer than the oldest one) to `arrivals()`; its older rows stay
    for the pages to come. `waiting` names the tenants still being asked.
    """

    def __init__(
        self,
        tenants: Iterable[Tenant],
        fetch: Callable[[Tenant, Any, int], Awaitable[tuple[list[T], Any]]],
        order: Callable[[T], Any],
        *,
        page_size: int = PAGE_SIZE,
        concurrency: int = 16,
        timeout: float = 10.0,
    ) -> None:
        self._sources = [_Source[T](t) for t in tenants if not t.broken]
        self._fetch = fetch
        self._order = order
        self.page_size = page_size
        self._gate = asyncio.Semaphore(max(1, concurrency))
        self._timeout = timeout
        self.errors: dict[str, str] = {t.slug: t.problem or "" for t in tenants if t.broken}
        self._floor: Any = None
        """Sort key of the oldest row handed out so far (None before the first)."""
        self._arrived: list[T] = []
        self._changed = asyncio.Event()

    @property
    def exhausted(self) -> bool:
        """True when every tenant has given all its rows."""
        return all(s.done and not s.buffer for s in self._sources) and not self._arrived

    @property
    def waiting(self) -> list[str]:
        """Slugs of the tenants asked for a page that has not arrived yet."""
        return [s.tenant.slug for s in self._sources if s.asking]

    @property
    def has_arrivals(self) -> bool:
        """Rows from late tenants are ready for `arrivals()`."""
        return bool(self._arrived)

    async def _refill(self, source: _Source[T]) -> None:
        try:
            async with self._gate:
                try:
                    async with asyncio.timeout(self._timeout):
                        rows, cursor = await self._fetch(
                            source.tenant, source.cursor, self.page_size
                        )
                except TimeoutError:
                    source.error = f"{source.tenant.slug}: no answer within {self._timeout:g} s"
                    source.done = True
                    return
                except (ModerationError, LibsqlError, RegistryError) as error:
                    source.error = describe(error)
                    source.done = True
                    return
            source.buffer.extend(rows)
            source.cursor = cursor
            source.done = cursor is None
            if source.late:
                source.late = False
                # Its rows newer than the oldest shown belong among the shown ones.
                floor = self._floor
                while source.buffer and (floor is None or self._order(source.buffer[0]) >= floor):
                    self._arrived.append(source.buffer.popleft())
                if floor is None and self._arrived:
                    self._floor = min(self._order(row) for row in self._arrived)
        finally:
            if source.error:
                self.errors[source.tenant.slug] = source.error
            self._changed.set()

    def _ask(self) -> list[_Source[T]]:
        """Start a refill for every tenant whose buffer is empty; those still being asked."""
        for source in self._sources:
            if not source.buffer and not source.done and not source.asking:
                source.task = asyncio.ensure_future(self._refill(source))
        return [s for s in self._sources if s.asking]

    async def next_page(self, *, patience: float | None = None) -> list[T]:
        """The next `page_size` rows of the merged queue (fewer at the end).

        Args:
            patience: Seconds to wait for tenants that have not answered before merging
                those that have; None waits for every tenant (each up to the timeout).
                A tenant left out answers into `arrivals()`.
        """
        loop = asyncio.get_running_loop()
        deadline = None if patience is None else loop.time() + patience
        page: list[T] = []
        while len(page) < self.page_size:
            asking = [s for s in self._ask() if not s.buffer]
            if asking:
                remaining = None if deadline is None else max(0.0, deadline - loop.time())
                if remaining is None or remaining > 0:
                    await asyncio.wait(
                        [s.task for s in asking if s.task is not None], timeout=remaining
                    )
            ready = [s for s in self._sources if s.buffer]
            if not ready:
                break
            best = max(ready, key=lambda s: self._order(s.buffer[0]))
            row = best.buffer.popleft()
            page.append(row)
            key = self._order(row)
            self._floor = key if self._floor is None else min(self._floor, key)
        for source in self._sources:
            if source.asking and not source.buffer and (page or patience is not None):
                source.late = True
        return page

    async def arrivals(self) -> list[T]:
        """Rows of late tenants that belong among those shown, newest first.

        Waits for the next late answer (or failure, then it may return nothing) while
        some tenant is still being asked; returns at once when nothing is.
        """
        if not self._arrived and self.waiting:
            self._changed.clear()
            await self._changed.wait()
        rows, self._arrived = self._arrived, []
        return sorted(rows, key=self._order, reverse=True)

    def close(self) -> None:
        """Stop asking the tenants that have not answered (the queue is not read any more)."""
        for source in self._sources:
            if source.task is not None and not source.task.done():
                source.task.cancel()


class _Ordered(Protocol):
    @property
    def order(self) -> tuple[Any, ...]: ...


_O = TypeVar("_O", bound=_Ordered)


def _session_queue(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    fetch: Callable[[Tenant, Any, int], Awaitable[tuple[list[_O], Any]]],
    page_size: int,
) -> MergedQueue[_O]:
    """A queue of rows that have an `order`, with the session's concurrency and timeout."""
    return MergedQueue(
        tenants,
        fetch,
        lambda row: row.order,
        page_size=page_size,
        concurrency=workspace.settings.fleet_concurrency,
        timeout=workspace.settings.timeout,
    )


def drafts_queue(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    *,
    page_size: int = PAGE_SIZE,
    search: str | None = None,
) -> MergedQueue[QueuedPost]:
    """Drafts across tenants, newest first, read a page per tenant at a time.

    Args:
        search: Only drafts whose title or content contains this text, literally.
    """

    async def fetch(
        tenant: Tenant, cursor: PageCursor | None, limit: int
    ) -> tuple[list[QueuedPost], PageCursor | None]:
        conn = await workspace.connection(tenant)
        page = await fetch_posts(conn, "draft", after=cursor, limit=limit)
        return [QueuedPost(tenant, p) for p in page.posts], page.next

    async def fetch_matching(
        tenant: Tenant, cursor: tuple[int, int] | None, limit: int
    ) -> tuple[list[QueuedPost], tuple[int, int] | None]:
        assert search  # only used with one
        conn = await workspace.connection(tenant)
        posts = await matching_drafts(conn, search=search, after=cursor, limit=limit)
        last = posts[-1] if len(posts) == limit else None
        return [QueuedPost(tenant, p) for p in posts], (
            None if last is None else QueuedPost(tenant, last).order[:2]
        )

    if search:
        return _session_queue(workspace, tenants, fetch_matching, page_size)
    return _session_queue(workspace, tenants, fetch, page_size)


def comments_queue(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    *,
    page_size: int = PAGE_SIZE,
    search: str | None = None,
) -> MergedQueue[QueuedComment]:
    """Newest comments across tenants, read a page per tenant at a time.

    Args:
        search: Only comments whose content contains this text, literally.
    """

    async def fetch(
        tenant: Tenant, cursor: tuple[int, str] | None, limit: int
    ) -> tuple[list[QueuedComment], tuple[int, str] | None]:
        conn = await workspace.connection(tenant)
        rows = await newest_comments(conn, tenant, after=cursor, limit=limit, search=search)
        return rows, (rows[-1].order if len(rows) == limit else None)

    return _session_queue(workspace, tenants, fetch, page_size)


__all__ = [
    "PAGE_SIZE",
    "MergedQueue",
    "QueuedComment",
    "QueuedPost",
    "comments_queue",
    "drafts_queue",
    "matching_drafts",
    "newest_comments",
]
