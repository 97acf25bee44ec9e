"""The moderation queue across tenants: drafts (or the newest comments) of every tenant, merged.

Rows come newest first from a k-way merge of per-tenant pages (`tursotui.fleet.queue`),
the tenant on every row; the keys are the posts screen's, and every action goes
to each row's own tenant with the same guards and audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.display.literal import literal
from tursotui.display.posts import ALREADY, PAST, VERBS, status_text, when
from tursotui.fleet import queue
from tursotui.session.registry import RegistryError
from tursotui.tenant.moderation import ModerationError, fetch_posts_by_id
from tursotui.ui import navigation, stale
from tursotui.ui.feedback import StatusFeedback
from tursotui.ui.moderating import outcome_text, status_bindings
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.write_keys import WriteKeys
from tursotui.words import plural

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace

PREFETCH_ROWS = 10
ANSWER_PATIENCE = 0.3
"""Seconds a page waits for slow tenants before showing the others' rows (the slow ones
fill in as they answer): a hung tenant must not hold the queue for the whole timeout."""
MODES = {"drafts": "drafts awaiting review", "comments": "newest comments"}


class QueueScreen(StatusFeedback, WriteKeys):
    """Drafts and newest comments across every tenant, moderated from one list."""

    CSS_PATH = "queue.tcss"
    AUTO_FOCUS = "#queue-table"
    HELP_TITLE = "moderation queue"

    WRITE_ACTIONS = frozenset({"moderate", "mark", "delete"})
    """Hidden and refused in a read-only session."""

    BINDINGS = [
        Binding(
            "1", "mode('drafts')", "Drafts", tooltip="Drafts across tenants", id="queue.drafts"
        ),
        Binding(
            "2",
            "mode('comments')",
            "Comments",
            tooltip="Newest comments across tenants",
            id="queue.comments",
        ),
        Binding("space", "mark", "Mark", tooltip="Mark the row for a bulk action"),
        *status_bindings(
            "Publish current/marked drafts",
            "Archive current/marked drafts",
            "As on the posts screen; queue rows are drafts already, so it only says so",
            show_draft=False,
        ),
        Binding("x", "delete", "Delete", tooltip="Delete current/marked comments (asks first)"),
        Binding("r", "reload", "Reload", tooltip="Read the queue again"),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, mode: str = "drafts") -> None:
        super().__init__()
        self.mode = mode
        self.items: dict[str, Any] = {}
        """Rows shown, by row key `slug\\x00id`."""
        self.marked: set[str] = set()
        self.merged: queue.MergedQueue[Any] | None = None
        self.fetching = False
        self.token = 0
        self.seen_writes = -1
        """The session's write count (audit generation) the queue was read at."""
        self._keep: tuple[str | None, int] | None = None
        """On a reload: the row key under the cursor and its row, to put the cursor back."""

    @property
    def workspace(self) -> Workspace:
        """The app's workspace."""
        return tursotui_app(self).workspace

    def compose(self) -> ComposeResult:
        yield TenantHeader("moderation queue", id="queue-header")
        yield Static(id="queue-modes")
        yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="queue-status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.restart()

    def on_unmount(self) -> None:
        if self.merged is not None:
            self.merged.close()

    # --- loading --------------------------------------------------------------------

    def _setup_columns(self) -> None:
        table = self.query_one("#queue-table", DataTable)
        table.clear(columns=True)
        width = self.app.size.width or 80
        table.add_column(" ", key="mark", width=1)
        table.add_column("tenant", key="tenant", width=14)
        if self.mode == "drafts":
            table.add_column("status", key="status", width=9)
            table.add_column("title", key="title", width=max(16, width - 14 - 9 - 16 - 12))
            table.add_column("published", key="when", width=16)
        else:
            rest = max(24, width - 14 - 16 - 14)
            table.add_column("comment", key="text", width=rest * 3 // 5)
            table.add_column("on post", key="post", width=rest * 2 // 5)
            table.add_column("created", key="when", width=16)

    def restart(self, *, keep: bool = False) -> None:
        """Forget the rows and read the first page of the current mode.

        Args:
            keep: A reload: put the cursor back on the same row (or where it was).
        """
        table = self.query_one("#queue-table", DataTable)
        self._keep = (self.current_key(), table.cursor_row) if keep and self.items else None
        self.seen_writes = self.workspace.audit.generation()
        self.token += 1
        self.items.clear()
        self.marked.clear()
        if self.merged is not None:
            self.merged.close()
        self.merged = None
        self.fetching = True
        self._setup_columns()
        self.show_modes()
        self.show_status()
        self.load_page(self.token, first=True)

    def show_modes(self) -> None:
        """The mode bar."""
        bar = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, mode in (("1", "drafts"), ("2", "comments")):
            current = mode == self.mode
            bar.append(f" {key} ", style="reverse" if current else "bold")
            bar.append(f" {MODES[mode]} ", style="bold" if current else "")
        bar.append(" across every tenant", style="dim")
        self.query_one("#queue-modes", Static).update(bar)

    def show_status(self) -> None:
        """Rows shown, marked, loading, tenants that failed."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(f" {len(self.items)} shown")
        if self.merged is not None and self.merged.exhausted:
            line.append(" (all)")
        if self.marked:
            line.append(f" · {len(self.marked)} marked", style="bold")
        waiting = self.merged.waiting if self.merged is not None else []
        if waiting:
            names = ", ".join(waiting[:3]) + ("…" if len(waiting) > 3 else "")
            line.append(" · waiting for ", style="yellow")
            line.append_text(literal(names, 60, style="yellow"))
            if len(waiting) > 3:
                line.append(f" ({len(waiting)})", style="yellow")
        if self.fetching:
            line.append(" · loading…", style="dim")
        elif not self.items and not waiting:
            line.append(" · nothing to review", style="dim")
        errors = self.merged.errors if self.merged is not None else {}
        if errors:
            line.append(f" · {plural(len(errors), 'tenant')} failed: ", style="red")
            # Messages usually start with the slug already ("acme: no answer…").
            told = "; ".join(
                error if error.startswith(f"{slug}:") else f"{slug}: {error}"
                for slug, error in errors.items()
            )
            line.append_text(literal(told, 240))
        self.append_feedback(line)
        self.query_one("#queue-status", Static).update(line)

    @work(exclusive=True, group="page", exit_on_error=False, description="queue page")
    async def load_page(self, token: int, first: bool = False) -> None:
        """Read the next merged page and append it."""
        if first:
            try:
                workspace = await tursotui_app(self).wait_workspace()
                tenants = await workspace.registry.tenants()
            except (RegistryError, LibsqlError) as error:
                self.fetching = False
                self.notify(describe(error), title="Registry", severity="error", markup=False)
                self.show_status()
                return
            if token != self.token:
                return
            make = queue.drafts_queue if self.mode == "drafts" else queue.comments_queue
            self.merged = make(workspace, tenants)
        merged = self.merged
        if merged is None:
            return
        page = await merged.next_page(patience=ANSWER_PATIENCE)
        if token != self.token:
            return
        self._add(page)
        if first and self._keep is not None:
            key, row = self._keep
            self._keep = None
            table = self.query_one("#queue-table", DataTable)
            table.move_cursor(row=table.get_row_index(key) if key in self.items else row)
        self.fetching = False
        self.show_status()
        if merged.waiting or merged.has_arrivals:
            self.fill_in(token, merged)
        if page:
            # An empty page while tenants are still asked: their rows come through
            # `fill_in`, which asks for more when they are in; asking again now would
            # only wait on the same slow tenants every few tenths of a second.
            self.call_after_refresh(self._maybe_more)

    @work(exclusive=True, group="arrivals", exit_on_error=False, description="late tenants")
    async def fill_in(self, token: int, merged: queue.MergedQueue[Any]) -> None:
        """Add the rows of tenants that answer after their page was shown, as they answer."""
        while merged.waiting or merged.has_arrivals:
            rows = await merged.arrivals()
            if token != self.token:
                return
            self._add(rows)
            self.show_status()
        self.show_status()
        self.call_after_refresh(self._maybe_more)

    def _add(self, rows: list[Any]) -> None:
        """Show new rows in queue order (a late tenant's rows go among those shown)."""
        table = self.query_one("#queue-table", DataTable)
        fresh = [item for item in rows if self._key(item) not in self.items]
        if not fresh:
            return
        shown = list(self.items.values())
        in_order = not shown or max(item.order for item in fresh) <= min(i.order for i in shown)
        for item in fresh:
            self.items[self._key(item)] = item
        if in_order:
            for item in fresh:
                table.add_row(*self._cells(item), key=self._key(item))
            return
        # Rebuilt rather than inserted (DataTable appends only); the cursor stays on its row.
        current = self.current_key()
        table.clear()
        for item in sorted(self.items.values(), key=lambda i: i.order, reverse=True):
            table.add_row(*self._cells(item), key=self._key(item))
        if current is not None:
            table.move_cursor(row=table.get_row_index(current))

    @staticmethod
    def _key(item: Any) -> str:
        slug, item_id = item.key
        return f"{slug}\x00{item_id}"

    def _cells(self, item: Any) -> tuple[Text, ...]:
        mark = Text("●", style="bold cyan") if self._key(item) in self.marked else Text(" ")
        tenant = literal(item.tenant.slug, 14)
        if isinstance(item, queue.QueuedPost):
            post = item.post
            return (
                mark,
                tenant,
                status_text(post.status),
                literal(post.title, 200),
                when(post.published_at),
            )
        post_title = (
            literal(item.post_title, 80)
            if item.post_title is not None
            else Text("(post gone)", style="dim")
        )
        return (mark, tenant, literal(item.content, 200), post_title, when(item.created_at))

    def _maybe_more(self) -> None:
        merged = self.merged
        if self.fetching or merged is None or merged.exhausted:
            return
        table = self.query_one("#queue-table", DataTable)
        if table.cursor_row >= table.row_count - PREFETCH_ROWS:
            self.fetching = True
            self.show_status()
            self.load_page(self.token)

    @on(DataTable.RowHighlighted, "#queue-table")
    def _on_highlight(self, _event: DataTable.RowHighlighted) -> None:
        self._maybe_more()

    @on(DataTable.RowSelected, "#queue-table")
    def _on_select(self, event: DataTable.RowSelected) -> None:
        item = self.items.get(str(event.row_key.value))
        if item is None:
            return
        post_id = item.post.id if isinstance(item, queue.QueuedPost) else item.post_id
        navigation.post(self.app, item.tenant, str(post_id))

    # --- keys -----------------------------------------------------------------------

    def action_mode(self, mode: str) -> None:
        """Switch between drafts and comments."""
        if mode != self.mode:
            self.mode = mode
            self.restart()

    def action_reload(self) -> None:
        """Read the queue again from every tenant (the cursor stays on its row); tenants read
        from replicas are synced first."""
        if not self.workspace.reads_replicas():
            self.restart(keep=True)
            return

        async def sync_then_reload() -> None:
            stale = await self.workspace.sync_replicas()
            if stale:
                self.notify(stale[0], title=f"{len(stale)} replica(s) stale", severity="warning")
            self.restart(keep=True)

        self.run_worker(sync_then_reload(), group="replica-sync", exclusive=True)

    def on_screen_resume(self) -> None:
        self.catch_up()

    def catch_up(self) -> None:
        """Read again what a write made stale since it was read (see `ui.stale`)."""
        # Back from a screen that wrote (a post, a tenant's posts, the console): read again.
        if self.seen_writes != -1 and self.workspace.audit.generation() != self.seen_writes:
            self.restart(keep=True)

    def action_cursor(self, step: int) -> None:
        """Move the cursor (j/k)."""
        table = self.query_one("#queue-table", DataTable)
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def current_key(self) -> str | None:
        """Row key under the cursor."""
        table = self.query_one("#queue-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key if key in self.items else None

    def action_mark(self) -> None:
        """Mark or unmark the current row, then move down."""
        key = self.current_key()
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.query_one("#queue-table", DataTable).update_cell(
            key, "mark", self._cells(self.items[key])[0]
        )
        self.query_one("#queue-table", DataTable).action_cursor_down()
        self.show_status()

    def targets(self) -> list[Any]:
        """The marked rows in display order, or the current row."""
        table = self.query_one("#queue-table", DataTable)
        if self.marked:
            return [
                self.items[r.key.value] for r in table.ordered_rows if r.key.value in self.marked
            ]
        key = self.current_key()
        return [self.items[key]] if key else []

    def _writable(self, what: str) -> bool:
        if self.workspace.settings.read_only:
            self.notify(f"read-only session: {what} is disabled", severity="warning")
            return False
        return True

    def action_moderate(self, new_status: str) -> None:
        """Publish / archive / move back to draft the marked drafts or the current one."""
        if self.mode != "drafts":
            self.notify("Switch to drafts (1) to publish or archive.", severity="warning")
            return
        if new_status == "draft":
            # Every row here is a draft: writing draft over draft would only fill the audit log.
            self.say("These posts are drafts already.", style="yellow")
            return
        if not self._writable(VERBS[new_status]):
            return
        targets = self.targets()
        if targets:
            # On the app, not this screen: going back while it runs must not cut it short.
            self.app.run_worker(
                self.moderate(targets, new_status),
                group="moderate",
                exit_on_error=False,
                description="queue moderation write",
            )

    async def moderate(self, targets: list[queue.QueuedPost], new_status: str) -> None:
        """Ask (for more than one), write on each tenant, then show what happened."""
        token = self.token
        if len(targets) > 1:
            tenants = len({t.tenant.slug for t in targets})
            question = Text(
                f"{VERBS[new_status].capitalize()} {plural(len(targets), 'post')} on "
                f"{plural(tenants, 'tenant')}?"
            )
            if not await self.app.push_screen_wait(ConfirmScreen(question, title="Bulk action")):
                return
        outcome = await queue.set_status_across(self.workspace, targets, new_status)
        self._report(outcome, PAST[new_status], "post", already=ALREADY[new_status])
        if outcome.changed:
            self.seen_writes = self.workspace.audit.generation()  # shown below
        if token != self.token or not self.is_attached:
            stale.catch_up(self.app)  # the user went on: the screen shown now catches up
            return
        # Rows that are no drafts any more leave the queue; conflicts show as they are now.
        for slug, post_id in outcome.changed:
            if new_status != "draft":
                self._remove(f"{slug}\x00{post_id}")
        await self._reload_conflicts(outcome.conflicts)
        self.show_status()
        self.call_after_refresh(self._maybe_more)

    async def _reload_conflicts(self, conflicts: list[tuple[str, str]]) -> None:
        by_tenant: dict[str, list[str]] = {}
        for slug, post_id in conflicts:
            by_tenant.setdefault(slug, []).append(post_id)
        for slug, ids in by_tenant.items():
            sample = self.items.get(f"{slug}\x00{ids[0]}")
            if sample is None:
                continue
            try:
                conn = await self.workspace.connection(sample.tenant)
                fresh = await fetch_posts_by_id(conn, ids)
            except (ModerationError, LibsqlError, RegistryError):
                fresh = {}
            for post_id in ids:
                key = f"{slug}\x00{post_id}"
                post = fresh.get(post_id)
                if post is None or post.status != "draft":
                    self._remove(key)
                elif key in self.items:
                    self.items[key] = queue.QueuedPost(sample.tenant, post)
                    self.marked.discard(key)
                    for column, cell in zip(
                        ("mark", "tenant", "status", "title", "when"),
                        self._cells(self.items[key]),
                        strict=True,
                    ):
                        self.query_one("#queue-table", DataTable).update_cell(key, column, cell)

    def _remove(self, key: str) -> None:
        self.marked.discard(key)
        if self.items.pop(key, None) is not None:
            self.query_one("#queue-table", DataTable).remove_row(key)

    def _report(
        self,
        outcome: queue.FleetActionResult,
        past: str,
        noun: str,
        *,
        already: str | None = None,
    ) -> None:
        """Say what an action did in the status line; each tenant's error in a toast."""
        tenants = len({slug for slug, _ in outcome.changed})
        said = outcome_text(
            done=f"{past} {plural(len(outcome.changed), noun)} on {plural(tenants, 'tenant')}."
            if outcome.changed
            else None,
            unchanged=f"{plural(len(outcome.unchanged), noun)} {already}: nothing written."
            if already is not None and outcome.unchanged
            else None,
            conflicts=f"{plural(len(outcome.conflicts), noun)} changed by someone else meanwhile: "
            "left alone."
            if outcome.conflicts
            else None,
        )
        if said:
            self.say(said)
        for slug, error in outcome.errors.items():
            message = error if error.startswith(slug) else f"{slug}: {error}"
            self.notify(message, title="Not written", severity="error", markup=False)

    def action_delete(self) -> None:
        """Delete the marked comments or the current one (asks first)."""
        if self.mode != "comments":
            self.notify("Switch to comments (2) to delete comments.", severity="warning")
            return
        if not self._writable("deleting comments"):
            return
        targets = self.targets()
        if targets:
            self.app.run_worker(
                self.delete(targets),
                group="moderate",
                exit_on_error=False,
                description="deleting comments",
            )

    async def delete(self, targets: list[queue.QueuedComment]) -> None:
        """Confirm, delete on each comment's own tenant, drop the deleted rows."""
        token = self.token
        tenants = len({t.tenant.slug for t in targets})
        question = Text(
            f"Delete {plural(len(targets), 'comment')} on {plural(tenants, 'tenant')}?\n\n"
        )
        for item in targets[:5]:
            question.append_text(literal(item.tenant.slug, 14))
            question.append(": ")
            question.append_text(literal(item.content, 60))
            question.append("\n")
        if len(targets) > 5:
            question.append(f"… and {len(targets) - 5} more\n")
        if not await self.app.push_screen_wait(
            ConfirmScreen(question, yes="Delete", title="Delete")
        ):
            return
        outcome = await queue.delete_comments_across(self.workspace, targets)
        self._report(outcome, "Deleted", "comment")
        if outcome.changed:
            self.seen_writes = self.workspace.audit.generation()  # shown below
        if token != self.token or not self.is_attached:
            stale.catch_up(self.app)  # the user went on: the screen shown now catches up
            return
        for slug, comment_id in outcome.changed + outcome.conflicts:
            self._remove(f"{slug}\x00{comment_id}")
        self.show_status()
        self.call_after_refresh(self._maybe_more)
