"""One tenant's posts: filtered by status, paged through the database, moderated by keys.

Pages are fetched with keyset pagination as the cursor nears the end of what is
loaded, so a tenant is never loaded whole. Every answer carries the request token
it was asked with; an answer for a tenant, filter or search the screen has left is
dropped, so one tenant's rows never show under another's name.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.widgets import Input

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.display.literal import literal
from tursotui.display.matches import contains, highlighted
from tursotui.display.posts import ALREADY, PAST, READ_ONLY_HINT, VERBS, status_text, when
from tursotui.session.registry import RegistryError
from tursotui.tenant import moderation
from tursotui.tenant.moderation import ModerationError, PageCursor, PostFilter, PostRow
from tursotui.ui import navigation, stale
from tursotui.ui.feedback import StatusFeedback
from tursotui.ui.focus_paint import FocusWithoutRepaint
from tursotui.ui.frames import FrameHold, hold_frames
from tursotui.ui.moderating import (
    outcome_text,
    status_bindings,
    sync_replica,
    tenant_connection,
)
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.post import PostScreen
from tursotui.ui.typeahead import hold_keys_for
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.filter_box import FilterBox
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.text_line import TextLine
from tursotui.ui.write_keys import WriteKeys
from tursotui.words import plural

if TYPE_CHECKING:
    from tursotui.db import Connection
    from tursotui.session.registry import Tenant

FILTERS: tuple[tuple[str, str | None, str], ...] = (
    ("1", "draft", "drafts"),
    ("2", "published", "published"),
    ("3", "archived", "archived"),
    ("0", None, "all"),
)
"""Key, status and label of each status filter, in the order the filter bar shows them."""


CELLS_KEPT = 2000
"""Posts whose cells are kept (see `PostsScreen._row_cells`): a few pages of each filter."""

_closing: set[asyncio.Future[None]] = set()
"""Closes in flight (kept referenced so they are not garbage-collected half way)."""


def _close_when_opened(opening: asyncio.Future[Connection]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        closing = asyncio.ensure_future(opening.result().close())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)


def match_cell(post: PostRow, search: str | None, width: int) -> Text:
    """A post's title, its match highlighted; a content match shows after the title.

    The title keeps at most half the room when the match is in the content, so the
    part of the content around the match is always in view.
    """
    if not search or contains(post.title, search) or post.snippet is None:
        return highlighted(post.title, search, width)
    title_room = max(8, min(width // 2, len(literal(post.title, width).plain)))
    cell = literal(post.title, title_room)
    cell.append("  ")
    cell.append_text(
        highlighted(
            post.snippet, search, max(4, width - cell.cell_len), style="dim", ellipsis_before=True
        )
    )
    return cell


class PostsScreen(StatusFeedback, WriteKeys, FocusWithoutRepaint):
    """One tenant's posts by status, newest first, with moderation keys."""

    CSS_PATH = "posts.tcss"
    AUTO_FOCUS = "#posts-table"

    WRITE_ACTIONS = frozenset({"moderate", "mark"})
    """Hidden and refused in a read-only session."""

    BINDINGS = [
        Binding("1", "filter('draft')", "Drafts", show=False, id="posts.drafts"),
        Binding("2", "filter('published')", "Published", show=False, id="posts.published"),
        Binding("3", "filter('archived')", "Archived", show=False, id="posts.archived"),
        Binding("0", "filter('')", "All", show=False, id="posts.all"),
        Binding(
            "o",
            "order",
            "Oldest first",
            tooltip="Newest first ↔ oldest first (queues are worked oldest first)",
            show=False,
            id="posts.order",
        ),
        Binding("enter", "open", "Open", tooltip="Open the post with its comments"),
        Binding(
            "slash", "search", "Search", tooltip="Search titles and contents", id="posts.search"
        ),
        Binding("space", "mark", "Mark", tooltip="Mark the post for a bulk action"),
        *status_bindings(
            "Publish current/marked", "Archive current/marked", "Back to draft current/marked"
        ),
        Binding("s", "console", "SQL", tooltip="SQL console on this tenant"),
        Binding(
            "A",
            "author",
            "Author",
            tooltip="The post's author on every tenant (their posts, comments, purge)",
            show=False,
        ),
        Binding("r", "reload", "Reload", show=False),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
        Binding("escape", "back", "Back", show=False),
        # Priority: the list would only move within the rows loaded so far.
        Binding(
            "end",
            "edge(True)",
            "Last post",
            tooltip="The far end of the list, read at once",
            show=False,
            priority=True,
        ),
        Binding("home", "edge(False)", "First post", show=False, priority=True),
    ]

    def __init__(self, tenant: Tenant, *, status: str | None = "draft") -> None:
        super().__init__()
        self.tenant = tenant
        self.post_filter = PostFilter(status, None)
        self.counts: dict[str, int] | None = None
        self.rows: dict[str, PostRow] = {}
        self.marked: set[str] = set()
        self.next_page: PageCursor | None = None
        self.fetching = False
        self.token = 0
        """Bumped when tenant, filter or search change; answers for an older token are dropped."""
        self.error: str | None = None
        self._counting: Tenant | None = None
        self._columns_for: int | None = None
        """The title width the columns were made for (they follow the terminal's width)."""
        self._side: tuple[Tenant, Connection] | None = None
        """A second connection to a local tenant for the counts (see `counts_connection`)."""
        self._early: tuple[Tenant, PostFilter, asyncio.Task[moderation.PostPage]] | None = None
        """The first page (of that tenant and filter), asked for while the screen is built."""
        self.tail = False
        """The list shows the other end (`end`): pages come in from the top, read backwards."""
        self._restore: tuple[str | None, int, int] | None = None
        """On a reload: the post under the cursor, its row and how many rows were loaded."""
        self.seen_writes = -1
        """The tenant's write count (audit generation) the list was read at."""
        self._writing = asyncio.Lock()
        """Held by a status write; the next waits for it (and for the statuses it left)."""
        self._fresh_status: dict[str, Any] = {}
        """Statuses read back after this screen's last writes (their rows may have left)."""
        self._frames: FrameHold | None = None
        """Frames held from a restart until its first page is shown (see `ui.frames`)."""
        self._first: asyncio.Task[None] | None = None
        """A restart's first page: read and shown by a task of its own (see `_load_first`)."""
        self._first_pending = False
        """A restart's first page is neither shown nor failed yet (keys wait for it)."""
        self._cells: LRUCache[tuple[object, ...], tuple[Text, ...]] = LRUCache(CELLS_KEPT)
        """Cells made for posts, by what they show (see `_row_cells`)."""
        self._fetch_early()

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TenantHeader("posts", id="posts-header")
        yield TextLine(id="posts-filters")
        yield FilterBox(
            placeholder="search titles and contents (literal text); enter applies, escape clears",
            id="posts-search",
        )
        yield RowList(id="posts-table")
        yield TextLine(id="posts-status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#posts-search").display = False
        # Scrolling with the mouse or End moves no cursor: watch the scroll position too.
        table = self.query_one("#posts-table", RowList)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self.restart()

    def _scrolled(self, _y: float) -> None:
        # After the frame that shows the scroll: the next page is read while the user looks.
        self.call_after_refresh(self._maybe_more)

    def _fetch_early(self) -> None:
        """Ask for the first page now, while the widgets are built and laid out.

        Workers start only once the screen is mounted, and the screen's first paint
        follows at once: a page asked for then arrives after that paint and needs a
        second one. Asked for here, it is usually there for the first paint. (Outside a
        running app, say a screen built in a test, the first page is asked for on mount.)
        """
        try:
            self.app  # noqa: B018 (raises when no app is running)
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._fetch(self.tenant, self.post_filter, None))
        # A page nobody awaits (the screen moved on) must not log an unretrieved error.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._early = (self.tenant, self.post_filter, task)

    async def _fetch(
        self,
        tenant: Tenant,
        wanted: PostFilter,
        after: PageCursor | None,
        *,
        backwards: bool = False,
        limit: int = moderation.PAGE_SIZE,
    ) -> moderation.PostPage:
        conn = await tenant_connection(self, tenant)
        return await moderation.fetch_posts(
            conn,
            wanted.status,
            after=after,
            search=wanted.search,
            limit=limit,
            oldest_first=wanted.oldest_first != backwards,
        )

    def _take_early(
        self, tenant: Tenant, wanted: PostFilter, after: PageCursor | None
    ) -> asyncio.Task[moderation.PostPage] | None:
        """The early first page if it answers this request; else None (and it is dropped)."""
        early, self._early = self._early, None
        if early is None:
            return None
        early_tenant, early_filter, task = early
        if after is None and early_tenant is tenant and early_filter == wanted:
            return task
        task.cancel()
        return None

    def title_width(self) -> int:
        """Room for titles: what is left of the terminal after the other columns."""
        width = self.app.size.width or 80
        fixed = 2 + 11 + 17 + (20 if width >= 100 else 14) + 10
        return max(16, width - fixed)

    def _setup_columns(self) -> None:
        table = self.query_one("#posts-table", RowList)
        self._columns_for = self.title_width()
        wide = (self.app.size.width or 80) >= 100
        table.set_columns(
            [
                (" ", 1),
                ("status", 10),
                ("title", self.title_width()),
                ("author", 18 if wide else 12),
                ("published", 16),
            ]
        )

    def restart(self, *, keep: bool = False) -> None:
        """Forget what is shown and load the first page of the current tenant and filter.

        Args:
            keep: A reload of the same list: read as many rows as were loaded and put the
                cursor back on the same post (or, if it is gone, on the row where it was).
        """
        table = self.query_one("#posts-table", RowList)
        self._restore = None
        if keep and self.rows:
            self._restore = (table.cursor_key, table.cursor_row, len(self.rows))
        self.token += 1
        self._drop_first()
        first = not self.tail and (
            self._restore is None or self._restore[2] <= moderation.PAGE_SIZE
        )
        if first:
            # Asked for before the list is emptied and the bars redrawn: the query then runs
            # first, not after everything those set off, and its rows are shown by the same
            # task as soon as it answers (a worker would start only after the messages the
            # restart posts: 2-3 ms of every filter key).
            early = self._take_early(self.tenant, self.post_filter, None)
            self._first = asyncio.get_running_loop().create_task(
                self._load_first(self.token, self.tenant, self.post_filter, early)
            )
        self.seen_writes = self._writes()
        self._fresh_status = {}
        self.rows.clear()
        self.marked.clear()
        self.next_page = None
        self.fetching = True
        self.error = None
        if self._columns_for != self.title_width():
            self._setup_columns()
        else:
            # The first page usually comes before the next frame: the scrollbar is left as
            # it is until then, not taken away (a new layout of the screen) and put back.
            table.clear(refill=True)
        header = self.query_one("#posts-header", TenantHeader)
        if header.tenant is not self.tenant:  # (a filter key leaves the header as it is)
            header.tenant = self.tenant
        self.show_filters()
        self.show_status()
        # The emptied list is painted only if the first page is slow to come (see ui.frames).
        self._show_first_page()
        self._frames = hold_frames(self.app, on_expire=table.refit)
        self._first_pending = True
        if table.has_focus:
            # The keys typed after this one (`down`, `space`…) act on the new list: they wait
            # for its first page (a slow tenant's too; as long as the key gate holds at most).
            hold_keys_for(self.app, lambda: None if self._first_pending else table)
        if self._first is not None:
            # A worker of the page group all the same: it waits for that task, so the
            # pages read before are cancelled and waiting for the screen's work waits for it.
            self._await_first(self._first)
            return
        limit = max(moderation.PAGE_SIZE, self._restore[2] if self._restore else 0)
        self.load_page(self.token, self.tenant, self.post_filter, None, limit)

    def _drop_first(self) -> None:
        """Cancel the first page of the previous restart (its answer is for a list left)."""
        first, self._first = self._first, None
        if first is not None:
            first.cancel()

    async def _load_first(
        self,
        token: int,
        tenant: Tenant,
        wanted: PostFilter,
        early: asyncio.Task[moderation.PostPage] | None,
    ) -> None:
        """Read the first page of a restart (or take the one asked for early), and show it."""
        try:
            page = await (early or self._fetch(tenant, wanted, None))
        except ModerationError as error:
            self._page_failed(token, tenant, error)
            return
        self._page_arrived(token, tenant, None, False, page)

    @work(exclusive=True, group="page", exit_on_error=False)
    async def _await_first(self, first: asyncio.Task[None]) -> None:
        """Until the first page is shown (cancelled with it by the next restart)."""
        await first

    def _show_first_page(self) -> None:
        """Paint again (the first page is shown, or failed)."""
        self._first_pending = False
        if self._frames is not None:
            self._frames.release()
            self._frames = None

    def _writes(self) -> int:
        """The tenant's write count this session (every write anywhere is audited)."""
        return tursotui_app(self).workspace.audit.generation(self.tenant.slug)

    def on_screen_resume(self) -> None:
        self.catch_up()

    def catch_up(self) -> None:
        """Read again what a write made stale since it was read (see `ui.stale`)."""
        # Back from another screen (a post, the console, the queue…): whatever was written to
        # this tenant meanwhile shows now, with the cursor on the same post.
        if self.seen_writes != -1 and self._writes() != self.seen_writes:
            self.counts = None
            self.restart(keep=True)

    def on_resize(self) -> None:
        """Re-lay the columns for the new width, keeping the loaded rows."""
        if self._columns_for is None or self._columns_for == self.title_width():
            return
        table = self.query_one("#posts-table", RowList)
        row, keys = table.cursor_row, table.ordered_keys  # (read from the far end: not dict order)
        self._setup_columns()
        table.add_rows((key, self._row_cells(self.rows[key])) for key in keys)
        table.move_cursor(row=row)

    def show_tenant(self, tenant: Tenant) -> None:
        """Show another tenant's posts on this screen, keeping the filter."""
        self.tenant = tenant
        self.counts = None
        self.restart()

    async def counts_connection(self, tenant: Tenant) -> Connection:
        """Where to count posts per status.

        Counting a 10⁶-post tenant scans an index for a few hundred ms; on a local
        tenant it gets a read-only connection (thread) of its own, so pages never queue
        behind it. Remote tenants answer concurrent requests anyway.
        """
        if tenant.is_remote:
            return await tenant_connection(self, tenant)
        if self._side is not None and self._side[0] is tenant and not self._side[1].closed:
            return self._side[1]
        await self._close_side()
        workspace = tursotui_app(self).workspace
        opening = asyncio.ensure_future(workspace.open_tenant(tenant, read_only=True))
        try:
            conn = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # The screen moved on while the file was opening: close it once it is open.
            opening.add_done_callback(_close_when_opened)
            raise
        except (LibsqlError, RegistryError) as error:
            raise ModerationError(describe(error)) from None
        self._side = (tenant, conn)
        return conn

    async def _close_side(self) -> None:
        side, self._side = self._side, None
        if side is not None:
            await side[1].close()

    async def on_unmount(self) -> None:
        if self._early is not None:  # closed before its first page was shown
            self._early[2].cancel()
            self._early = None
        self._drop_first()
        await self._close_side()

    def show_filters(self) -> None:
        """The filter bar: each status with its key and count, the current one highlighted."""
        bar = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, status, label in FILTERS:
            count = self._count(status)
            current = status == self.post_filter.status
            bar.append(f" {key} ", style="reverse" if current else "bold")
            bar.append(f" {label} ", style="bold" if current else "")
            bar.append(f"{count} " if count is not None else "… ", style="dim")
        if self.counts:
            other = sum(n for s, n in self.counts.items() if s not in moderation.STATUSES)
            if other:
                # Unknown or NULL statuses (no CHECK constraint): listed under "all".
                bar.append(f" other {other} ", style="magenta")
        if self.post_filter.search:
            bar.append("  / ", style="bold")
            bar.append_text(literal(self.post_filter.search, 30))
        bar.append(" o ", style="bold")
        bar.append(" oldest first " if self.post_filter.oldest_first else " newest first ")
        self.query_one("#posts-filters", TextLine).update(bar)

    def _count(self, status: str | None) -> int | None:
        if self.counts is None:
            return None
        if status is None:
            return sum(self.counts.values())
        return self.counts.get(status, 0)

    def show_status(self) -> None:
        """The line under the table: how many are shown, loading, or what went wrong."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        if self.error:
            line.append(" ! ", style="bold white on red")
            line.append(" r retries · ", style="bold")  # first: the error may not fit
            line.append_text(literal(self.error, 300))
        else:
            total = self._count(self.post_filter.status) if not self.post_filter.search else None
            line.append(f" {len(self.rows)}")
            if total is not None:
                line.append(f" of {total}")
            line.append(" post shown" if (total or len(self.rows)) == 1 else " posts shown")
            if self.marked:
                line.append(f" · {len(self.marked)} marked", style="bold")
            if self.tail and (self.next_page is not None or self.fetching):
                end = "newest" if self.post_filter.oldest_first else "oldest"
                line.append(f" · the {end} end (home: back to the top)", style="bold")
            if self.fetching:
                line.append(" · loading…", style="dim")
            elif not self.rows:
                line.append(" · nothing matches", style="dim")
            self.append_feedback(line)
        self.query_one("#posts-status", TextLine).update(line)

    # --- loading ------------------------------------------------------------------------

    def _row_cells(self, post: PostRow) -> tuple[Text, ...]:
        """A post's cells; those of a post shown before as it is now are made once.

        Making a page's cells is a few ms of a filter key's frame; a list shown again (a
        filter key and back, a reload) finds its posts' cells made. Cells are kept by all
        they show (every field of the post, the mark, the search, the title's room), and
        the list never changes a cell it is given.
        """
        search, width = self.post_filter.search, self.title_width()
        marked = post.id in self.marked
        key = (post, marked, search, width)
        cells = self._cells.get(key)
        if cells is None:
            cells = (
                Text("●", style="bold cyan") if marked else Text(" "),
                status_text(post.status),
                match_cell(post, search, width),
                literal(post.author_name, 18),
                when(post.published_at),
            )
            self._cells.set(key, cells)
        return cells

    def _current(self, token: int, tenant: Tenant) -> bool:
        return token == self.token and tenant is self.tenant and self.is_attached

    @work(exclusive=True, group="page", exit_on_error=False)
    async def load_page(
        self,
        token: int,
        tenant: Tenant,
        wanted: PostFilter,
        after: PageCursor | None,
        limit: int = moderation.PAGE_SIZE,
    ) -> None:
        """Fetch one page and add it, unless the screen has moved on meanwhile.

        At the other end (`tail`) pages are read backwards and added above the rows shown.
        """
        tail = self.tail
        early = None
        if not tail and limit == moderation.PAGE_SIZE:
            early = self._take_early(tenant, wanted, after)
        try:
            page = await (early or self._fetch(tenant, wanted, after, backwards=tail, limit=limit))
        except ModerationError as error:
            self._page_failed(token, tenant, error)
            return
        self._page_arrived(token, tenant, after, tail, page)

    def _page_failed(self, token: int, tenant: Tenant, error: ModerationError) -> None:
        """A page could not be read: said, unless the screen has moved on meanwhile."""
        if self._current(token, tenant):
            self.fetching = False
            table = self.query_one("#posts-table", RowList)
            table.more_available = False
            table.refit()  # no rows came after `clear(refill=True)`
            self.error = str(error)
            self.show_status()
            self._show_first_page()
            self.notify(str(error), title="Posts", severity="error", markup=False)

    def _page_arrived(
        self,
        token: int,
        tenant: Tenant,
        after: PageCursor | None,
        tail: bool,
        page: moderation.PostPage,
    ) -> None:
        """Add a page read, unless the screen has moved on meanwhile."""
        if not self._current(token, tenant) or tail != self.tail:
            return
        new = []
        for post in page.posts:
            if post.id in self.rows:
                continue  # moved since the previous page was read
            self.rows[post.id] = post
            new.append((post.id, self._row_cells(post)))
        table = self.query_one("#posts-table", RowList)
        if tail:
            table.insert_rows_at_top(reversed(new))
        else:
            table.add_rows(new)
        if after is None:
            self._place_cursor()
        self.next_page = page.next
        # Keys past the last row wait for the next page; read from the far end (`end`), the
        # next page goes above the first row, so nothing below is worth waiting for.
        table.more_available = page.next is not None and not tail
        self.fetching = False
        self.show_status()
        self._show_first_page()
        if self.counts is None and self._counting is not tenant:
            # Once the first page is on screen, so the page never waits for the count
            # (a 10⁶-post tenant takes a few hundred ms of a CPU to count). Counts do not
            # depend on the filter: only a new tenant, a write or `r` recounts.
            self.call_after_refresh(self._count_after_page, token, tenant)
        self.call_after_refresh(self._maybe_more)

    def _place_cursor(self) -> None:
        """After a first page: the cursor back where a reload found it, or at the list's end."""
        table = self.query_one("#posts-table", RowList)
        restore, self._restore = self._restore, None
        if restore is not None:
            key, row, _loaded = restore
            if key is not None and table.has_row(key):
                table.move_cursor(row=table.get_row_index(key))
            else:  # gone (or moved out of this list): the post that took its place
                table.move_cursor(row=row)
        elif self.tail:
            table.move_cursor(row=table.row_count - 1)

    def _count_after_page(self, token: int, tenant: Tenant) -> None:
        if self.counts is None and self._counting is not tenant and tenant is self.tenant:
            self._counting = tenant
            self.load_counts(token, tenant)

    @work(exclusive=True, group="counts", exit_on_error=False)
    async def load_counts(self, token: int, tenant: Tenant) -> None:
        """Fetch the per-status counts for the filter bar."""
        self._counting = tenant
        try:
            conn = await self.counts_connection(tenant)
            counts = await moderation.status_counts(conn)
        except ModerationError:
            return  # the page load reports the same failure
        finally:
            if self._counting is tenant:
                self._counting = None
        # Counts hold for every filter: only the tenant must still be the same.
        if tenant is self.tenant and self.is_attached:
            self.counts = counts
            self.show_filters()
            self.show_status()

    def _maybe_more(self) -> None:
        """Fetch the next page when the cursor or the view nears the last loaded rows."""
        if self.fetching or self.next_page is None or self.error:
            return
        table = self.query_one("#posts-table", RowList)
        if table.wants_rows_above() if self.tail else table.wants_rows():
            self.fetching = True
            self.show_status()
            self.load_page(self.token, self.tenant, self.post_filter, self.next_page)

    @on(RowList.RowHighlighted, "#posts-table")
    def _on_highlight(self, _event: RowList.RowHighlighted) -> None:
        # After the frame that shows the move: the next page is read while the user looks.
        self.call_after_refresh(self._maybe_more)

    @on(RowList.RowSelected, "#posts-table")
    def _on_select(self, _event: RowList.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the post under the cursor."""
        post_id = self.current_id()
        if post_id is not None:
            self.app.push_screen(PostScreen(self.tenant, post_id))

    # --- keys ---------------------------------------------------------------------------

    def action_filter(self, status: str) -> None:
        """Show the posts with this status ('' for all)."""
        self.post_filter = replace(self.post_filter, status=status or None)
        self.tail = False
        self.restart()

    def action_order(self) -> None:
        """Newest first ↔ oldest first (for any filter; the filter bar says which)."""
        self.post_filter = replace(self.post_filter, oldest_first=not self.post_filter.oldest_first)
        self.tail = False
        self.restart()

    def action_edge(self, last: bool) -> None:
        """`end`: the last post of the list, read from that end at once; `home`: the first."""
        focused = self.focused
        if isinstance(focused, Input):  # the search box keeps its own home/end
            focused.action_end() if last else focused.action_home()
            return
        table = self.query_one("#posts-table", RowList)
        if last and not self.tail and self.next_page is not None and not self.error:
            self.tail = True  # more than is loaded: read the list from its other end
            self.restart()
        elif not last and self.tail and (self.next_page is not None or self.fetching):
            self.tail = False
            self.restart()
        else:
            table.action_edge(last)

    def action_search(self) -> None:
        """Open the search of titles and contents."""
        search = self.query_one("#posts-search", Input)
        search.display = True
        search.value = self.post_filter.search or ""
        search.focus()
        hold_keys_for(self.app, search)

    @on(Input.Submitted, "#posts-search")
    def _on_search(self, event: Input.Submitted) -> None:
        # Kept as typed: a search is literal text, spaces included.
        search = event.value if event.value.strip() else None
        self.post_filter = replace(self.post_filter, search=search)
        self.tail = False
        if not self.post_filter.search:
            event.input.display = False
        self.query_one("#posts-table").focus()
        self.restart()

    def action_back(self) -> None:
        """Close the search (clearing it) if open, else go back."""
        search = self.query_one("#posts-search", Input)
        if search.display:
            search.display = False
            self.query_one("#posts-table").focus()
            if self.post_filter.search:
                self.post_filter = replace(self.post_filter, search=None)
                self.tail = False
                self.restart()
            return
        tursotui_app(self).action_back()

    def action_cursor(self, direction: str) -> None:
        """Move the cursor (j/k)."""
        table = self.query_one("#posts-table", RowList)
        if direction == "down":
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def action_reload(self) -> None:
        """Sync the tenant's replica (if it reads from one), then reload the list and the
        counts, the cursor on the same post."""
        if tursotui_app(self).workspace.replica_of(self.tenant.slug) is None:
            self._reload()  # at once: the keys typed after `r` act on the reloaded list
        else:
            self.run_worker(self._sync_then_reload(), group="replica-sync", exclusive=True)

    async def _sync_then_reload(self) -> None:
        await sync_replica(self, self.tenant)
        self._reload()

    def _reload(self) -> None:
        self.counts = None
        self.restart(keep=True)

    def action_author(self) -> None:
        """Open the author of the post under the cursor."""
        post_id = self.current_id()
        author = self.rows[post_id].author_id if post_id is not None else None
        if author is None:
            self.notify("No post here.", severity="warning")
            return
        navigation.author(self.app, str(author), self.tenant)

    def current_id(self) -> str | None:
        """The id of the post under the cursor."""
        key = self.query_one("#posts-table", RowList).cursor_key
        return key if key in self.rows else None

    def action_mark(self) -> None:
        """Mark or unmark the current post, then move down."""
        post_id = self.current_id()
        if post_id is None:
            return
        self.marked.symmetric_difference_update({post_id})
        self._refresh_row(post_id)
        self.query_one("#posts-table", RowList).action_cursor_down()
        self.show_status()

    def _refresh_row(self, post_id: str) -> None:
        self.query_one("#posts-table", RowList).update_row(
            post_id, self._row_cells(self.rows[post_id])
        )

    def action_console(self) -> None:
        """Open the SQL console on this tenant."""
        navigation.console(self.app, self.tenant)

    def action_moderate(self, new_status: str) -> None:
        """Publish / archive / move back to draft the marked posts, or the current one."""
        if tursotui_app(self).workspace.settings.read_only:
            self.notify(READ_ONLY_HINT.format(VERBS[new_status]), severity="warning")
            return
        table = self.query_one("#posts-table", RowList)
        if self.marked:
            ordered = table.ordered_keys
            targets = [i for i in ordered if i in self.marked]
        else:
            current = self.current_id()
            targets = [current] if current else []
        if not targets:
            self.notify("No post here to " + VERBS[new_status], severity="warning")
            return
        # On the app, not this screen: going back while it runs must not cut the write short.
        self.app.run_worker(
            self.moderate(self.tenant, [(i, self.rows[i].status) for i in targets], new_status),
            group="moderate",
            exit_on_error=False,
            description="moderation write",
        )

    async def moderate(self, tenant: Tenant, posts: list[tuple[str, Any]], new_status: str) -> None:
        """Ask (for more than one post), write, then show what changed and what conflicted.

        Writes typed in a burst (`p` `u`) run one after the other, each guarded by the
        status the previous one left (as if typed slowly), not the one shown at the key.
        """
        async with self._writing:
            if tenant is self.tenant:
                posts = [
                    (i, self.rows[i].status if i in self.rows else self._fresh_status.get(i, s))
                    for i, s in posts
                ]
            await self._moderate(tenant, posts, new_status)

    async def _moderate(
        self, tenant: Tenant, posts: list[tuple[str, Any]], new_status: str
    ) -> None:
        token = self.token
        reason = None
        if len(posts) > 1:
            question = Text(f"{VERBS[new_status].capitalize()} {len(posts)} posts on ")
            question.append_text(literal(tenant.name or tenant.slug, 40))
            question.append("?")
            confirm = ConfirmScreen(question, title="Bulk action", ask_reason=True)
            if not await self.app.push_screen_wait(confirm):
                return
            reason = confirm.reason
        try:
            conn = await tenant_connection(self, tenant)
            result = await moderation.set_status(
                conn,
                tursotui_app(self).workspace.audit,
                tenant.slug,
                posts,
                new_status,
                reason=reason,
            )
            fresh = await moderation.fetch_posts_by_id(conn, [i for i, _ in posts])
        except ModerationError as error:
            self.notify(str(error), title="Not written", severity="error", markup=False)
            return
        # Said in the status line: a toast would sit on the rows being worked on.
        said = outcome_text(
            done=f"{PAST[new_status]} {plural(len(result.changed), 'post')} on {tenant.slug}."
            if result.changed
            else None,
            unchanged=(
                f"{plural(len(result.unchanged), 'post')} {ALREADY[new_status]}: nothing written."
                if len(posts) > 1
                else f"The post is {ALREADY[new_status]}: nothing written."
            )
            if result.unchanged
            else None,
            conflicts=f"{plural(len(result.conflicts), 'post')} changed by someone else meanwhile: "
            "left alone, shown as they are now."
            if result.conflicts
            else None,
        )
        if said:
            self.say(said)
        if tenant is self.tenant:
            self._fresh_status = {i: post.status for i, post in fresh.items()}
        if not self._current(token, tenant) or self.app.screen is not self:
            # The user went on (this screen may still be on its way out, or under another):
            # the screen shown now catches up, and this one when it is shown again.
            stale.catch_up(self.app)
            return
        self._apply_fresh([i for i, _ in posts], fresh)
        wanted = self.post_filter.status
        if any(i not in self.rows and wanted in (None, p.status) for i, p in fresh.items()):
            # A post came (back) into this list, say `p` `u` typed at once on a draft: the
            # list is read again, so it shows in its place (the cursor stays on its post).
            self.counts = None
            self.restart(keep=True)
            return
        if result.changed:
            # This screen's own write is shown already (the rows above, the counts below).
            self.seen_writes = self._writes()
        self.load_counts(self.token, self.tenant)

    def _apply_fresh(self, ids: list[str], fresh: dict[str, PostRow]) -> None:
        """Show posts as the database has them now; drop those that left the current filter."""
        table = self.query_one("#posts-table", RowList)
        for post_id in ids:
            self.marked.discard(post_id)
            if post_id not in self.rows:
                continue
            post = fresh.get(post_id)
            if post is None or (
                self.post_filter.status is not None and post.status != self.post_filter.status
            ):
                del self.rows[post_id]
                table.remove_row(post_id)
            else:
                self.rows[post_id] = post
                self._refresh_row(post_id)
        self.show_status()
        self.call_after_refresh(self._maybe_more)
