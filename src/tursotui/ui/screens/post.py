"""One post: its metadata, its full content (scrollable, literal) and its comments, newest first.

The content is made literal and wrapped in a thread and shown in a `Log`, which
paints only the visible lines, so a 1 MB body opens at once and scrolls freely.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Log, Static

from tursotui.display.literal import literal
from tursotui.display.matches import highlighted
from tursotui.display.posts import ALREADY, PAST, READ_ONLY_HINT, VERBS, status_text, when
from tursotui.tenant import moderation
from tursotui.tenant.moderation import CommentRow, ModerationError, PageCursor, Post
from tursotui.ui import navigation, stale
from tursotui.ui.feedback import StatusFeedback
from tursotui.ui.focus_paint import FocusWithoutRepaint
from tursotui.ui.moderating import status_bindings, sync_replica, tenant_connection
from tursotui.ui.screens.confirm import ConfirmScreen
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
    from tursotui.session.registry import Tenant


def wrap_lines(text: str, width: int) -> list[str]:
    """Cut text into lines of at most `width` characters, breaking at a space where one is near."""
    width = max(8, width)
    lines: list[str] = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", width * 2 // 3, width)
            cut = width if cut <= 0 else cut + 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


def literal_lines(content: Any, width: int) -> list[str]:
    """The content as visible, inert text, wrapped to `width` (runs in a thread: may be MBs)."""
    return wrap_lines(literal(content, multiline=True).plain, width)


class PostScreen(StatusFeedback, WriteKeys, FocusWithoutRepaint):
    """A post in full, with its comments; moderation keys for the post, `x` for comments."""

    CSS_PATH = "post.tcss"
    AUTO_FOCUS = "#post-comments"
    FEEDBACK_REPAINT = "show_comments_title"

    WRITE_ACTIONS = frozenset({"moderate", "mark", "delete"})
    """Hidden and refused in a read-only session."""

    BINDINGS = [
        *status_bindings("Publish this post", "Archive this post", "Move this post back to draft"),
        Binding("space", "mark", "Mark", tooltip="Mark the comment for deletion"),
        Binding("x", "delete", "Delete", tooltip="Delete current/marked comments (asks first)"),
        Binding(
            "A",
            "author",
            "Author",
            tooltip="The author of the comment under the cursor (of the post when the "
            "content has focus) on every tenant",
            show=False,
        ),
        Binding(
            "slash",
            "search",
            "Search",
            tooltip="Show only the comments that contain a text",
            id="post.search",
        ),
        Binding("r", "reload", "Reload", show=False),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
        Binding(
            "escape", "back", "Back", tooltip="Close the comment search, else the previous screen"
        ),
    ]

    def __init__(self, tenant: Tenant, post_id: str) -> None:
        super().__init__()
        self.tenant = tenant
        self.post_id = post_id
        self.post: Post | None = None
        self.comments: dict[str, CommentRow] = {}
        self.marked: set[str] = set()
        self.next_page: PageCursor | None = None
        self.fetching = False
        self.token = 0
        """Bumped on reload; older answers are dropped."""
        self.comment_token = 0
        """Bumped when the comments are read again (a reload, a search); older pages are dropped."""
        self._wrapped_for: int | None = None
        self.seen_writes = -1
        """The tenant's write count (audit generation) the post was read at."""
        self._writing = asyncio.Lock()
        """Held by a status write; the next waits for it (and for the status it left)."""
        self.search: str | None = None
        """Only the comments containing this text are listed (None: every comment)."""

    def compose(self) -> ComposeResult:
        yield TenantHeader("post", id="post-header")
        yield Static(id="post-meta")
        yield Log(id="post-content", auto_scroll=False)
        yield TextLine(id="post-comments-title")
        yield FilterBox(
            placeholder="comments containing (literal text); enter applies, escape clears",
            id="post-search",
        )
        yield RowList(id="post-comments")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#post-search").display = False
        table = self.query_one("#post-comments", RowList)
        wide = (self.app.size.width or 80) >= 100
        table.set_columns(
            [
                (" ", 1),
                ("when", 16),
                ("author", 18 if wide else 12),
                ("comment", self.comment_width()),
            ]
        )
        # Scrolling with the mouse moves no cursor: watch the scroll position too.
        self.watch(table, "scroll_y", lambda _y: self._maybe_more(), init=False)
        self.reload()

    def comment_width(self) -> int:
        """Room for a comment's text after the other columns."""
        width = self.app.size.width or 80
        return max(16, width - (2 + 17 + (19 if width >= 100 else 13) + 8))

    def action_reload(self) -> None:
        """Sync the tenant's replica (if it reads from one), then reload the post and its
        comments."""
        if tursotui_app(self).workspace.replica_of(self.tenant.slug) is None:
            self.reload()
        else:
            self.run_worker(self._sync_then_reload(), group="replica-sync", exclusive=True)

    async def _sync_then_reload(self) -> None:
        await sync_replica(self, self.tenant)
        self.reload()

    def _writes(self) -> int:
        return tursotui_app(self).workspace.audit.generation(self.tenant.slug)

    def on_screen_resume(self) -> None:
        self.catch_up()

    def catch_up(self) -> None:
        """Read again what a write made stale since it was read (see `ui.stale`)."""
        # Back from the console (say): a write to this tenant meanwhile shows now.
        if self.seen_writes != -1 and self._writes() != self.seen_writes:
            self.reload()

    def reload(self) -> None:
        """Forget what is shown and load the post and the first page of comments."""
        self.seen_writes = self._writes()
        self.token += 1
        self.comments.clear()
        self.marked.clear()
        self.next_page = None
        self.fetching = True
        self.query_one("#post-comments", RowList).clear()
        self.show_comments_title()
        self.comment_token += 1
        self.load_post(self.token)
        self.load_comments(self.comment_token, None)

    def reload_comments(self) -> None:
        """Forget the comments shown and load their first page again (the post stays)."""
        self.comment_token += 1
        self.comments.clear()
        self.marked.clear()
        self.next_page = None
        self.fetching = True
        self.query_one("#post-comments", RowList).clear()
        self.show_comments_title()
        self.load_comments(self.comment_token, None)

    # --- the post ------------------------------------------------------------------------

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load_post(self, token: int) -> None:
        """Fetch the post and show it."""
        meta = self.query_one("#post-meta", Static)
        try:
            conn = await tenant_connection(self, self.tenant)
            post = await moderation.fetch_post(conn, self.post_id)
        except ModerationError as error:
            if token == self.token:
                meta.update(Text(f"{error}  (r retries)", style="red"))
                self.notify(str(error), title="Post", severity="error", markup=False)
            return
        if token != self.token:
            return
        self.post = post
        if post is None:
            meta.update(Text("This post no longer exists (deleted meanwhile).", style="yellow"))
            self.query_one("#post-content", Log).clear()
            return
        self.show_meta(post)
        await self._show_content(token, post)

    def _content_width(self) -> int:
        content = self.query_one("#post-content", Log)
        return max(20, (content.scrollable_content_region.width or self.app.size.width) - 1)

    async def _show_content(self, token: int, post: Post) -> None:
        content = self.query_one("#post-content", Log)
        width = self._content_width()
        lines = await asyncio.to_thread(literal_lines, post.content, width)
        if token != self.token:
            return
        self._wrapped_for = width
        content.clear()
        content.write_lines(lines)
        content.scroll_home(animate=False)

    def on_resize(self) -> None:
        """Wrap the content again for the new width."""
        if self.post is not None and self._wrapped_for not in (None, self._content_width()):
            self._rewrap(self.token, self.post)

    @work(exclusive=True, group="load", exit_on_error=False)
    async def _rewrap(self, token: int, post: Post) -> None:
        await self._show_content(token, post)

    def show_meta(self, post: Post) -> None:
        """The title, status, author, date and id above the content."""
        width = self.app.size.width or 80
        text = Text(end="")
        text.append_text(literal(post.title, max(20, width * 2 - 4), style="bold"))
        text.append("\n")
        text.append_text(status_text(post.status))
        text.append(" · by ")
        text.append_text(literal(post.author_name, 30))
        if post.author_email is not None:
            text.append(" <")
            text.append_text(literal(post.author_email, 40))
            text.append(">")
        text.append(" · published ")
        text.append_text(when(post.published_at))
        text.append(f" · {plural(post.comment_count, 'comment')} · id ", style="dim")
        text.append_text(literal(post.id, 40, style="dim"))
        self.query_one("#post-meta", Static).update(text)

    # --- comments ------------------------------------------------------------------------

    def show_comments_title(self) -> None:
        """The line above the comments: how many shown and marked."""
        line = Text(" Comments", style="bold", end="")
        line.append(f"  {len(self.comments)} shown")
        if self.post is not None:
            line.append(f" of {self.post.comment_count}")
        if self.search:
            line.append(" · containing ", style="dim")
            line.append_text(literal(self.search, 30))
            if not self.comments and not self.fetching:
                line.append(" · none", style="dim")
        if self.marked:
            line.append(f" · {len(self.marked)} marked", style="bold")
        if self.fetching:
            line.append(" · loading…", style="dim")
        self.append_feedback(line)
        self.query_one("#post-comments-title", TextLine).update(line)

    @work(exclusive=True, group="page", exit_on_error=False)
    async def load_comments(self, token: int, after: PageCursor | None) -> None:
        """Fetch one page of comments and append it."""
        try:
            conn = await tenant_connection(self, self.tenant)
            page = await moderation.fetch_comments(
                conn, self.post_id, after=after, search=self.search
            )
        except ModerationError as error:
            if token == self.comment_token:
                self.fetching = False
                self.query_one("#post-comments", RowList).more_available = False
                self.notify(str(error), title="Comments", severity="error", markup=False)
                self.show_comments_title()
            return
        if token != self.comment_token:
            return
        table = self.query_one("#post-comments", RowList)
        new = []
        for comment in page.comments:
            if comment.id in self.comments:
                continue
            self.comments[comment.id] = comment
            new.append((comment.id, self._cells(comment)))
        table.add_rows(new)
        self.next_page = page.next
        table.more_available = page.next is not None  # keys past the last row wait for it
        self.fetching = False
        self.show_comments_title()
        self.call_after_refresh(self._maybe_more)

    def _cells(self, comment: CommentRow) -> tuple[Text, ...]:
        mark = Text("●", style="bold red") if comment.id in self.marked else Text(" ")
        return (
            mark,
            when(comment.created_at),
            literal(comment.author_name, 18),
            highlighted(
                comment.content,
                self.search,
                self.comment_width(),
                ellipsis_before=bool(comment.excerpt),
            ),
        )

    def _maybe_more(self) -> None:
        if self.fetching or self.next_page is None:
            return
        if self.query_one("#post-comments", RowList).wants_rows():
            self.fetching = True
            self.load_comments(self.comment_token, self.next_page)

    @on(RowList.RowHighlighted, "#post-comments")
    def _on_highlight(self, _event: RowList.RowHighlighted) -> None:
        self._maybe_more()

    def action_search(self) -> None:
        """Open the comment search (the keys typed next go into it)."""
        search = self.query_one("#post-search", Input)
        search.display = True
        search.value = self.search or ""
        search.focus()
        hold_keys_for(self.app, search)

    @on(Input.Submitted, "#post-search")
    def _on_search(self, event: Input.Submitted) -> None:
        # Kept as typed: a search is literal text, spaces included.
        self.search = event.value if event.value.strip() else None
        if self.search is None:
            event.input.display = False
        self.query_one("#post-comments").focus()
        self.reload_comments()

    def action_back(self) -> None:
        """Close the comment search (clearing it) if open, else go back."""
        search = self.query_one("#post-search", Input)
        if search.display:
            search.display = False
            self.query_one("#post-comments").focus()
            if self.search is not None:
                self.search = None
                self.reload_comments()
            return
        tursotui_app(self).action_back()

    def action_author(self) -> None:
        """Open the author of the comment under the cursor, or of the post."""
        comment = self.current_comment()
        if comment is not None and not isinstance(self.focused, Log):
            author = self.comments[comment].author_id
        else:
            author = self.post.author_id if self.post is not None else None
        if author is None:
            self.notify("No author here.", severity="warning")
            return
        navigation.author(self.app, str(author), self.tenant)

    def current_comment(self) -> str | None:
        """The id of the comment under the cursor."""
        key = self.query_one("#post-comments", RowList).cursor_key
        return key if key in self.comments else None

    def action_cursor(self, direction: str) -> None:
        """Move in the comments (or scroll the content when it has focus)."""
        focused = self.focused
        if isinstance(focused, Log):
            focused.scroll_relative(y=1 if direction == "down" else -1, animate=False)
            return
        table = self.query_one("#post-comments", RowList)
        table.action_cursor_down() if direction == "down" else table.action_cursor_up()

    def action_mark(self) -> None:
        """Mark or unmark the current comment, then move down."""
        comment_id = self.current_comment()
        if comment_id is None:
            return
        self.marked.symmetric_difference_update({comment_id})
        table = self.query_one("#post-comments", RowList)
        table.update_row(comment_id, self._cells(self.comments[comment_id]))
        table.action_cursor_down()
        self.show_comments_title()

    def action_delete(self) -> None:
        """Delete the marked comments, or the current one, after a confirmation."""
        if tursotui_app(self).workspace.settings.read_only:
            self.notify(READ_ONLY_HINT.format("deleting comments"), severity="warning")
            return
        table = self.query_one("#post-comments", RowList)
        if self.marked:
            ids = [key for key in table.ordered_keys if key in self.marked]
        else:
            current = self.current_comment()
            ids = [current] if current else []
        if not ids:
            self.notify("No comment here to delete.", severity="warning")
            return
        # On the app, not this screen: going back while it runs must not cut the write short.
        self.app.run_worker(
            self.delete_comments([i for i in ids if i is not None]),
            group="moderate",
            exit_on_error=False,
            description="deleting comments",
        )

    async def delete_comments(self, ids: list[str]) -> None:
        """Confirm, delete, then drop the deleted rows from the list."""
        if len(ids) == 1:
            question = Text("Delete this comment?\n\n")
            question.append_text(literal(self.comments[ids[0]].content, 200))
        else:
            question = Text(f"Delete {len(ids)} comments?")
        confirm = ConfirmScreen(question, title="Delete", ask_reason=True)
        if not await self.app.push_screen_wait(confirm):
            return
        try:
            conn = await tenant_connection(self, self.tenant)
            result = await moderation.delete_comments(
                conn,
                tursotui_app(self).workspace.audit,
                self.tenant.slug,
                ids,
                reason=confirm.reason,
            )
        except ModerationError as error:
            self.notify(str(error), title="Not deleted", severity="error", markup=False)
            return
        message = f"Deleted {plural(len(result.changed), 'comment')}."
        if result.conflicts:
            message += f" {len(result.conflicts)} were already gone."
        if self.app.screen is not self:
            # The user went back meanwhile (this screen may still be on its way out): the
            # screen shown now catches up.
            stale.catch_up(self.app)
        if not self.is_attached:
            self.notify(message)  # this screen's line is gone
            return
        table = self.query_one("#post-comments", RowList)
        for comment_id in ids:
            self.marked.discard(comment_id)
            if comment_id in self.comments:
                del self.comments[comment_id]
                table.remove_row(comment_id)
        if self.post is not None:
            count = max(0, self.post.comment_count - len(result.changed))
            self.post = moderation.Post(**{**self.post.__dict__, "comment_count": count})
            self.show_meta(self.post)
        self.say(message)  # in the comments line: a toast would cover the comments
        if result.changed:
            self.seen_writes = self._writes()  # shown already
        self.show_comments_title()

    # --- moderating the post ---------------------------------------------------------------

    def action_moderate(self, new_status: str) -> None:
        """Publish / archive / move this post back to draft."""
        if tursotui_app(self).workspace.settings.read_only:
            self.notify(READ_ONLY_HINT.format(VERBS[new_status]), severity="warning")
            return
        if self.post is None:
            self.notify("The post is not loaded.", severity="warning")
            return
        # On the app, not this screen: going back while it runs must not cut the write short.
        self.app.run_worker(
            self.moderate(new_status),
            group="moderate",
            exit_on_error=False,
            description="moderation write",
        )

    async def moderate(self, new_status: str) -> None:
        """Write the new status, guarded by the one shown; show the post as it is now.

        Keys typed in a burst (`p` `u`) write one after the other, each guarded by the
        status the previous one left, as if typed slowly.
        """
        async with self._writing:
            if self.post is not None:
                await self._moderate(self.post.status, new_status)

    async def _moderate(self, shown: Any, new_status: str) -> None:
        try:
            conn = await tenant_connection(self, self.tenant)
            result = await moderation.set_status(
                conn,
                tursotui_app(self).workspace.audit,
                self.tenant.slug,
                [(self.post_id, shown)],
                new_status,
            )
            post = await moderation.fetch_post(conn, self.post_id)
        except ModerationError as error:
            self.notify(str(error), title="Not written", severity="error", markup=False)
            return
        if result.changed:
            self.say(f"{PAST[new_status]} the post on {self.tenant.slug}.")
            self.seen_writes = self._writes()  # shown below
        elif result.unchanged:
            self.say(f"The post is {ALREADY[new_status]}: nothing written.", style="bold yellow")
        else:
            self.say(
                "The post was changed by someone else meanwhile and was left alone; "
                "it is shown as it is now.",
                style="bold yellow",
            )
        self.post = post
        if self.app.screen is not self:
            # The user went back meanwhile (this screen may still be on its way out): the
            # screen shown now catches up.
            stale.catch_up(self.app)
        if not self.is_attached:
            return
        if post is not None:
            self.show_meta(post)
        # The screens below (posts list, queue…) see the tenant's write count move and
        # read the database again when they are shown.
