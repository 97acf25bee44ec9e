"""The moderation queue across tenants: drafts (or the newest comments) of every tenant, merged.

Rows come newest first from a k-way merge of per-tenant pages (`tursotui.fleet.queue`),
the tenant on every row, in a `RowList` that fetches the next merged page as the cursor
nears the end, so a burst of keys acts as the same keys pressed one by one. The keys
are the posts screen's, and every action goes to each row's own tenant with the same
guards and audit log, one batch per tenant.

Rows of a tenant that answers late never move what the user is looking at: those that
belong below the cursor join the list in their place; those that belong above it are
held and counted in the status line, and `l` puts them in (the cursor on the newest).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.display.literal import literal
from tursotui.display.posts import ALREADY, PAST, VERBS, status_text, when
from tursotui.fleet import actions, queue
from tursotui.session.registry import RegistryError
from tursotui.tenant.moderation import ModerationError, ModerationResult, fetch_posts_by_id
from tursotui.ui import navigation, stale
from tursotui.ui.feedback import StatusFeedback
from tursotui.ui.focus_paint import FocusWithoutRepaint
from tursotui.ui.moderating import outcome_text, status_bindings
from tursotui.ui.screens.action_summary import ActionSummaryScreen
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.typeahead import hold_keys_for
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.filter_box import FilterBox
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.write_keys import WriteKeys
from tursotui.words import plural

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace

ANSWER_PATIENCE = 0.3
"""Seconds a page waits for slow tenants before showing the others' rows (the slow ones
fill in as they answer): a hung tenant must not hold the queue for the whole timeout."""
MODES = {"drafts": "drafts awaiting review", "comments": "newest comments"}
COLUMNS = {
    "drafts": ("mark", "tenant", "status", "title", "when"),
    "comments": ("mark", "tenant", "text", "post", "when"),
}
"""What each column of a mode holds (the list's columns in order)."""


class QueueScreen(StatusFeedback, WriteKeys, FocusWithoutRepaint):
    """Drafts and newest comments across every tenant, moderated from one list."""

    CSS_PATH = "queue.tcss"
    AUTO_FOCUS = ""
    """The list takes focus with its first page (`_rows_in`): keys typed as the queue opens
    (`m` `space` `p` on the fleet) wait for the rows they are meant for."""
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
        Binding(
            "slash",
            "search",
            "Search",
            tooltip="Only rows containing a text: drafts' title or content, comments' content",
            id="queue.search",
        ),
        Binding("space", "mark", "Mark", tooltip="Mark the row for a bulk action (any tenant)"),
        *status_bindings(
            "Publish current/marked drafts (one batch per tenant)",
            "Archive current/marked drafts (one batch per tenant)",
            "As on the posts screen; queue rows are drafts already, so it only says so",
            show_draft=False,
        ),
        Binding("x", "delete", "Delete", tooltip="Delete current/marked comments (asks first)"),
        Binding(
            "l",
            "show_late",
            "Late rows",
            tooltip="Put in the rows of late tenants held above the cursor",
            show=False,
        ),
        Binding("r", "reload", "Reload", tooltip="Read the queue again"),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, mode: str = "drafts") -> None:
        super().__init__()
        self.mode = mode
        self.search: str | None = None
        """Only rows containing this text (None: every row)."""
        self.items: dict[str, Any] = {}
        """Rows shown, by row key `slug\x00id`."""
        self.marked: set[str] = set()
        self.late: dict[str, Any] = {}
        """Rows of late tenants that belong above the cursor: held, counted, put in by `l`."""
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

    @property
    def table(self) -> RowList:
        """The list of rows."""
        return self.query_one("#queue-table", RowList)

    def compose(self) -> ComposeResult:
        yield TenantHeader("moderation queue", id="queue-header")
        yield Static(id="queue-modes")
        yield FilterBox(
            placeholder="search drafts' titles and content, comments' content; "
            "enter applies, escape clears",
            id="queue-search",
        )
        yield RowList(id="queue-table")
        yield Static(id="queue-status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#queue-search").display = False
        # Scrolling with the mouse moves no cursor: watch the scroll position too.
        self.watch(self.table, "scroll_y", lambda _y: self._maybe_more(), init=False)
        self.restart()

    def on_unmount(self) -> None:
        if self.merged is not None:
            self.merged.close()

    # --- loading --------------------------------------------------------------------

    def _setup_columns(self) -> None:
        width = self.app.size.width or 80
        if self.mode == "drafts":
            columns = [
                (" ", 1),
                ("tenant", 14),
                ("status", 9),
                ("title", max(16, width - 14 - 9 - 16 - 12)),
                ("published", 16),
            ]
        else:
            rest = max(24, width - 14 - 16 - 14)
            columns = [
                (" ", 1),
                ("tenant", 14),
                ("comment", rest * 3 // 5),
                ("on post", rest * 2 // 5),
                ("created", 16),
            ]
        self.table.set_columns(columns)

    def restart(self, *, keep: bool = False) -> None:
        """Forget the rows and read the first page of the current mode.

        Args:
            keep: A reload: put the cursor back on the same row (or where it was).
        """
        table = self.table
        self._keep = (table.cursor_key, table.cursor_row) if keep and self.items else None
        self.seen_writes = self.workspace.audit.generation()
        self.token += 1
        self.items.clear()
        self.marked.clear()
        self.late.clear()
        if self.merged is not None:
            self.merged.close()
        self.merged = None
        self.fetching = True
        self._setup_columns()
        # Keys pressed before the first page wait for it, as they would for any page.
        table.more_available = True
        self._hold_keys_for_rows()
        self.show_modes()
        self.show_status()
        self.load_page(self.token, first=True)

    def _hold_keys_for_rows(self) -> None:
        """Keys typed while the first page loads wait for its rows (up to a moment).

        `1` `space` `space` `a` in one burst marks the first two drafts, as typed slowly:
        the list has no focus until its first page is in, and the key gate holds the keys
        until it has (see `ui.typeahead`). Text typed in the search box is not held.
        """
        if isinstance(self.focused, Input) or self.app.screen is not self:
            return  # typing a search, or read again behind another screen: nothing to hold
        self.set_focus(None)
        hold_keys_for(self.app, self.table)

    def _rows_in(self) -> None:
        """The first page is in (or failed): the list takes the held keys."""
        if self.focused is None:
            self.table.focus()

    def show_modes(self) -> None:
        """The mode bar, and the search if there is one."""
        bar = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, mode in (("1", "drafts"), ("2", "comments")):
            current = mode == self.mode
            bar.append(f" {key} ", style="reverse" if current else "bold")
            bar.append(f" {MODES[mode]} ", style="bold" if current else "")
        if self.search:
            bar.append(" containing ", style="bold")
            bar.append_text(literal(self.search, 40, style="bold yellow"))
        bar.append(" across every tenant", style="dim")
        self.query_one("#queue-modes", Static).update(bar)

    def show_status(self) -> None:
        """Rows shown, marked, held, loading, tenants that failed."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(f" {len(self.items)} shown")
        if self.merged is not None and self.merged.exhausted:
            line.append(" (all)")
        if self.marked:
            line.append(f" · {len(self.marked)} marked", style="bold")
        if self.late:
            line.append(
                f" · {plural(len(self.late), 'late row')} above the cursor: l shows them",
                style="bold yellow",
            )
        waiting = self.merged.waiting if self.merged is not None else []
        if waiting:
            names = ", ".join(waiting[:3]) + ("…" if len(waiting) > 3 else "")
            line.append(" · waiting for ", style="yellow")
            line.append_text(literal(names, 60, style="yellow"))
            if len(waiting) > 3:
                line.append(f" ({len(waiting)})", style="yellow")
        if self.fetching:
            line.append(" · loading…", style="dim")
        elif not self.items and not waiting and not self.late:
            line.append(
                " · nothing matches" if self.search else " · nothing to review", style="dim"
            )
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
        """Read the next merged page and add it at the end of the list."""
        if first:
            try:
                workspace = await tursotui_app(self).wait_workspace()
                tenants = await workspace.registry.tenants()
            except (RegistryError, LibsqlError) as error:
                self.fetching = False
                self.table.more_available = False
                self._rows_in()
                self.notify(describe(error), title="Registry", severity="error", markup=False)
                self.show_status()
                return
            if token != self.token:
                return
            make = queue.drafts_queue if self.mode == "drafts" else queue.comments_queue
            self.merged = make(workspace, tenants, search=self.search)
        merged = self.merged
        if merged is None:
            return
        page = await merged.next_page(patience=ANSWER_PATIENCE)
        if token != self.token:
            return
        table = self.table
        fresh = [item for item in page if self._key(item) not in self.items]
        for item in fresh:
            self.items[self._key(item)] = item
        # Every merged page is older than every row before it: it goes at the end.
        table.add_rows((self._key(item), self._cells(item)) for item in fresh)
        if first and self._keep is not None:
            key, row = self._keep
            self._keep = None
            table.move_cursor(row=table.get_row_index(key) if key in self.items else row)
        if first:
            self._rows_in()
        table.more_available = not merged.exhausted
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
        """Place the rows of tenants that answer after their page was shown, as they answer."""
        while merged.waiting or merged.has_arrivals:
            rows = await merged.arrivals()
            if token != self.token:
                return
            self._place(rows)
            self.show_status()
        if token != self.token:
            return
        self.table.more_available = not merged.exhausted
        self.show_status()
        self.call_after_refresh(self._maybe_more)

    def _place(self, rows: list[Any], *, anywhere: bool = False) -> list[str]:
        """Put late rows in queue order where that moves nothing the user looks at.

        A row that belongs below the cursor is inserted there (the cursor's row and those
        above it stay where they are); one that belongs at or above it is held in `late`
        unless `anywhere`. Returns the keys inserted.
        """
        table = self.table
        keys = table.ordered_keys
        # The list is newest first; ascending orders let bisect find each row's place.
        ascending = [self.items[key].order for key in reversed(keys)]
        places: dict[int, list[Any]] = {}
        for item in sorted(rows, key=lambda i: i.order, reverse=True):
            key = self._key(item)
            if key in self.items:
                continue
            index = len(ascending) - bisect_right(ascending, item.order)
            if not anywhere and keys and index <= table.cursor_row:
                self.late[key] = item
                continue
            self.late.pop(key, None)
            places.setdefault(index, []).append(item)
        inserted: list[str] = []
        # From the bottom up, so the indexes found above stay right.
        for index in sorted(places, reverse=True):
            group = places[index]
            for item in group:
                self.items[self._key(item)] = item
                inserted.append(self._key(item))
            table.insert_rows(index, [(self._key(item), self._cells(item)) for item in group])
        return inserted

    def action_show_late(self) -> None:
        """Put in the late rows held above the cursor, the cursor on the newest of them."""
        if not self.late:
            self.say("No late rows held.", style="yellow")
            return
        held = list(self.late.values())
        self.late.clear()
        inserted = self._place(held, anywhere=True)
        if inserted:
            newest = min(inserted, key=self.table.get_row_index)
            self.table.move_cursor(row=self.table.get_row_index(newest))
        self.show_status()

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
        """Read the next merged page when the cursor or the view nears the last rows."""
        merged = self.merged
        if self.fetching or merged is None or merged.exhausted:
            return
        if self.table.wants_rows():
            self.fetching = True
            self.show_status()
            self.load_page(self.token)

    @on(RowList.RowHighlighted, "#queue-table")
    def _on_highlight(self, _event: RowList.RowHighlighted) -> None:
        self._maybe_more()

    @on(RowList.RowSelected, "#queue-table")
    def _on_select(self, event: RowList.RowSelected) -> None:
        item = self.items.get(event.key)
        if item is None:
            return
        post_id = item.post.id if isinstance(item, queue.QueuedPost) else item.post_id
        navigation.post(self.app, item.tenant, str(post_id))

    # --- keys -----------------------------------------------------------------------

    def action_search(self) -> None:
        """Open the search box (what is typed next goes into it)."""
        box = self.query_one("#queue-search", Input)
        box.display = True
        box.value = self.search or ""
        box.focus()
        hold_keys_for(self.app, box)

    @on(Input.Submitted, "#queue-search")
    def _on_search(self, event: Input.Submitted) -> None:
        self.search = event.value or None  # literal: spaces are part of what is searched
        if not self.search:
            event.input.display = False
        self.set_focus(None)  # the list takes focus (and the keys typed on) with its rows
        self.show_modes()
        self.restart()

    def action_back(self) -> None:
        """Close the search (clearing it) if open, else go back."""
        box = self.query_one("#queue-search", Input)
        if box.display or self.search:
            box.display = False
            if self.search:
                self.search = None
                self.set_focus(None)  # as after a search: the list takes focus with its rows
                self.show_modes()
                self.restart()
            else:
                self.table.focus()
            return
        tursotui_app(self).action_back()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only the keys that act on this mode's rows are offered (and shown in the footer).
        if action == "moderate" and self.mode != "drafts":
            return False
        if action == "delete" and self.mode != "comments":
            return False
        return super().check_action(action, parameters)

    def action_mode(self, mode: str) -> None:
        """Switch between drafts and comments."""
        if mode != self.mode:
            self.mode = mode
            self.refresh_bindings()
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

    def current_key(self) -> str | None:
        """Row key under the cursor."""
        key = self.table.cursor_key
        return key if key in self.items else None

    def action_mark(self) -> None:
        """Mark or unmark the current row, then move down."""
        key = self.current_key()
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.table.update_row(key, self._cells(self.items[key]))
        self.table.action_cursor_down()
        self.show_status()

    def targets(self) -> list[Any]:
        """The marked rows in display order (of any tenant), or the current row."""
        if self.marked:
            return [self.items[key] for key in self.table.ordered_keys if key in self.marked]
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
            if len(targets) > 1:
                self._hold_keys_for_confirm()
            # On the app, not this screen: going back while it runs must not cut it short.
            self.app.run_worker(
                self.moderate(targets, new_status),
                group="moderate",
                exit_on_error=False,
                description="queue moderation write",
            )

    def _hold_keys_for_confirm(self) -> None:
        """The keys typed after this one answer the confirmation a worker is about to open
        (`space` `space` `p` `y` in one burst), instead of reaching this screen first."""
        app = self.app
        hold_keys_for(app, lambda: app.focused if isinstance(app.screen, ConfirmScreen) else None)

    async def moderate(self, targets: list[queue.QueuedPost], new_status: str) -> None:
        """Ask (for more than one), write on each tenant, then show what happened."""
        token = self.token
        reason = None
        if len(targets) > 1:
            tenants = len({t.tenant.slug for t in targets})
            question = Text(
                f"{VERBS[new_status].capitalize()} {plural(len(targets), 'post')} on "
                f"{plural(tenants, 'tenant')}?\n\n"
            )
            question.append_text(per_tenant_counts(targets))
            confirm = ConfirmScreen(question, title="Bulk action", ask_reason=True)
            if not await self.app.push_screen_wait(confirm):
                return
            reason = confirm.reason
        outcome = await actions.set_status_across(
            self.workspace,
            [(t.tenant, str(t.post.id), t.post.status) for t in targets],
            new_status,
            reason=reason,
        )
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
                    self.table.update_row(key, self._cells(self.items[key]))

    def _remove(self, key: str) -> None:
        self.marked.discard(key)
        self.late.pop(key, None)
        if self.items.pop(key, None) is not None:
            self.table.remove_row(key)

    def _report(
        self,
        outcome: actions.FleetAction,
        past: str,
        noun: str,
        *,
        already: str | None = None,
    ) -> None:
        """Say what an action did in the status line; per tenant in a summary when it failed
        somewhere, or was not done everywhere on several tenants."""
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
        if outcome.errors:
            said.append(" " if said else "")
            said.append(f"{plural(len(outcome.errors), 'tenant')} failed.", style="bold red")
        if said:
            self.say(said)
        tenants_asked = [(o.tenant.slug, o.result, o.error) for o in outcome.outcomes]
        if outcome.errors or (outcome.conflicts and len(tenants_asked) > 1):
            self.app.push_screen(
                ActionSummaryScreen(
                    summary_text(tenants_asked, noun, already), title=f"{past} — per tenant"
                )
            )

    def action_delete(self) -> None:
        """Delete the marked comments or the current one (asks first)."""
        if self.mode != "comments":
            self.notify("Switch to comments (2) to delete comments.", severity="warning")
            return
        if not self._writable("deleting comments"):
            return
        targets = self.targets()
        if targets:
            self._hold_keys_for_confirm()
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
        if tenants > 1:
            question.append_text(per_tenant_counts(targets))
            question.append("\n\n")
        for item in targets[:5]:
            question.append_text(literal(item.tenant.slug, 14))
            question.append(": ")
            question.append_text(literal(item.content, 60))
            question.append("\n")
        if len(targets) > 5:
            question.append(f"… and {len(targets) - 5} more\n")
        confirm = ConfirmScreen(question, yes="Delete", title="Delete", ask_reason=True)
        if not await self.app.push_screen_wait(confirm):
            return
        outcome = await actions.delete_comments_across(
            self.workspace, [(t.tenant, t.id) for t in targets], reason=confirm.reason
        )
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


def per_tenant_counts(targets: list[Any]) -> Text:
    """`acme 3 · folk 2`: how many of the rows acted on are on each tenant."""
    counts: dict[str, int] = {}
    for item in targets:
        counts[item.tenant.slug] = counts.get(item.tenant.slug, 0) + 1
    text = Text()
    for n, (slug, count) in enumerate(counts.items()):
        text.append(" · " if n else "")
        text.append_text(literal(slug, 30))
        text.append(f" {count}", style="bold")
    return text


def summary_text(
    tenants: list[tuple[str, ModerationResult | None, str | None]],
    noun: str,
    already: str | None,
) -> Text:
    """One line per tenant: what was done there, what was left alone, or why it failed."""
    text = Text()
    for n, (slug, result, error) in enumerate(tenants):
        text.append("\n" if n else "")
        text.append_text(literal(slug, 30, style="bold"))
        text.append(": ")
        if error is not None:
            text.append("failed, nothing written there (not retried): ", style="bold red")
            text.append_text(literal(error.removeprefix(f"{slug}: "), 200))
            continue
        assert result is not None
        parts = [(f"done {plural(len(result.changed), noun)}", "green")]
        if result.conflicts:
            parts.append(
                (
                    f"{plural(len(result.conflicts), 'conflict')} (changed meanwhile, left alone)",
                    "yellow",
                )
            )
        if result.unchanged and already:
            parts.append((f"{len(result.unchanged)} {already}", "yellow"))
        for i, (part, style) in enumerate(parts):
            text.append(" · " if i else "")
            text.append(part, style=style)
    return text
