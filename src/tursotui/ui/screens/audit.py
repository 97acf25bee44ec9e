"""The audit log: every write tursotui made, newest first, with its outcome.

`enter` shows an entry whole; `/` filters (words anywhere, or `tenant:` / `action:` /
`status:` for one field); `f` shows only the failed writes, which stand out in red.
`z` undoes the entry under the cursor, `Z` its whole action (every tenant of its
group), after a confirmation saying what will be reverted; undone entries read `undone`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from tursotui.display.literal import literal
from tursotui.session.audit import AuditEntry, describe_change
from tursotui.tenant.moderation import ModerationError
from tursotui.tenant.undo import History, describe_plan, undo_entries
from tursotui.ui import stale
from tursotui.ui.focus_paint import FocusWithoutRepaint
from tursotui.ui.screens.audit_entry import FAILED_ROW, OUTCOME_STYLES, AuditEntryScreen
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.filter_box import FilterBox
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.text_line import TextLine
from tursotui.ui.write_keys import WriteKeys

FIELDS = ("tenant", "action", "status", "operator")
"""Fields a filter word can name (`tenant:acme`); other words match anywhere."""


def settled(entries: list[AuditEntry]) -> list[AuditEntry]:
    """One entry per write, its last state, newest first.

    A write is logged `pending` and then `ok`/`failed` under the same id; a write
    still `pending` here never reported back (the process died, or it is running).
    """
    latest: dict[str, AuditEntry] = {}
    for entry in entries:
        latest[entry.id or str(id(entry))] = entry
    first_time: dict[str, float] = {}
    for entry in entries:
        first_time.setdefault(entry.id or str(id(entry)), entry.time)
    ordered = sorted(latest.items(), key=lambda item: first_time[item[0]], reverse=True)
    return [entry for _, entry in ordered]


def change_text(before: Any, after: Any) -> str:
    """`before → after` as one line (a dict of per-row states is summarised)."""
    return describe_change(before, after)


def matches(entry: AuditEntry, query: str, *, failed_only: bool = False) -> bool:
    """Whether an entry passes the filter.

    Each word of `query` must match: `field:value` (a field of FIELDS) the start of that
    field, any other word anywhere in the entry (tenant, action, operator, outcome, row
    ids, before/after, detail). Case-insensitive.
    """
    if failed_only and entry.status != "failed":
        return False
    haystack = None
    for word in query.lower().split():
        field, _, value = word.partition(":")
        if value and field in FIELDS:
            if not str(getattr(entry, field) or "").lower().startswith(value):
                return False
            continue
        if haystack is None:
            haystack = " ".join(
                str(part)
                for part in (
                    entry.tenant,
                    entry.action,
                    entry.operator,
                    entry.status,
                    " ".join(entry.row_ids),
                    entry.before,
                    entry.after,
                    entry.detail,
                    entry.reason,
                )
            ).lower()
        if word not in haystack:
            return False
    return True


class AuditScreen(WriteKeys, FocusWithoutRepaint):
    """The audit log as a table; `enter` shows an entry, `/` and `f` filter, `r` reloads,
    `z` / `Z` undo an entry / its whole action."""

    WRITE_ACTIONS = frozenset({"undo"})

    HELP_TITLE = "audit log"
    AUTO_FOCUS = "#audit-table"

    BINDINGS = [
        Binding("enter", "show", "Show", tooltip="The whole entry: SQL, rows, before → after"),
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Words, or tenant:/action:/status: for one field",
            key_display="/",
            id="audit.filter",
        ),
        Binding("f", "failed", "Failed only", tooltip="Only the writes that failed"),
        Binding("r", "reload", "Reload", tooltip="Read the log again"),
        Binding("z", "undo(False)", "Undo", tooltip="Undo this entry (asks first)"),
        Binding(
            "Z",
            "undo(True)",
            "Undo action",
            tooltip="Undo this entry's whole action, on every tenant of its group (asks first)",
            show=False,
        ),
        Binding("escape", "back", "Back", tooltip="Close the filter, else back"),
    ]

    DEFAULT_CSS = """
    AuditScreen #audit-summary { height: 1; background: $boost; }
    AuditScreen #audit-filter { height: 3; border: tall $accent; }
    AuditScreen #audit-table { height: 1fr; }
    AuditScreen #audit-detail { height: 1; background: $boost; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[AuditEntry] = []
        """Every write in the log, newest first."""
        self.shown: dict[str, AuditEntry] = {}
        """The entries the filter lets through, by row key (the entry's id)."""
        self.asked: dict[str, AuditEntry] = {}
        """Each write's first (`pending`) line, by id: what was asked, before the outcome."""
        self.query_text = ""
        self.failed_only = False
        self.seen_writes = -1
        self.history: History | None = None
        """The log as an undo reads it (which entries are undone)."""

    def compose(self) -> ComposeResult:
        yield TenantHeader("audit log")
        yield Static(id="audit-summary")
        yield FilterBox(
            placeholder="filter: words, tenant:acme, action:publish, status:failed — "
            "enter applies, escape clears",
            id="audit-filter",
        )
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield TextLine(id="audit-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#audit-filter").display = False
        table = self.query_one("#audit-table", DataTable)
        wide = (self.app.size.width or 80) >= 100
        table.add_column("time", key="time", width=19 if wide else 11)
        table.add_column("operator", key="operator", width=10)
        table.add_column("tenant", key="tenant", width=14 if wide else 10)
        table.add_column("action", key="action", width=14)
        table.add_column("rows", key="rows", width=6 if not wide else 40)
        table.add_column("change", key="change", width=24 if wide else 18)
        table.add_column("outcome", key="outcome", width=7)
        if wide:
            table.add_column("detail", key="detail", width=40)
        self.action_reload()

    @on(DataTable.RowHighlighted, "#audit-table")
    def show_detail(self) -> None:
        """Every field of the highlighted entry on one line: narrow tables leave some out."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        entry = self.current_entry()
        if entry is not None:
            stamp = datetime.fromtimestamp(entry.time or 0).strftime("%Y-%m-%d %H:%M:%S")
            fields = [
                Text(f" {stamp}"),
                literal(entry.operator, 40),
                literal(entry.tenant, 63),
                literal(entry.action, 40),
                Text(entry.status, style=OUTCOME_STYLES.get(entry.status, "")),
                literal(change_text(entry.before, entry.after), 80),
            ]
            if self._undone(entry):
                fields.insert(5, Text("undone", style="bold magenta"))
            if entry.reason:  # before the rows, which may be a long list
                fields.append(literal("reason: " + entry.reason, 200))
            fields.append(literal("rows " + ", ".join(entry.row_ids), 200))
            if entry.detail:
                fields.append(literal(entry.detail, 500))
            line = Text(" · ", style="dim", no_wrap=True, overflow="ellipsis", end="").join(fields)
        self.query_one("#audit-detail", TextLine).update(line)

    @property
    def table(self) -> DataTable:
        """The log's table."""
        return self.query_one("#audit-table", DataTable)

    def action_reload(self) -> None:
        """Read the log again (the cursor stays on its entry)."""
        self.load()

    def on_screen_resume(self) -> None:
        self.catch_up()

    def catch_up(self) -> None:
        """Read again what a write made stale since it was read (see `ui.stale`)."""
        # Back from a screen that wrote: its entries show.
        audit = tursotui_app(self).workspace.audit
        if self.seen_writes != -1 and audit.generation() != self.seen_writes:
            self.load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        """Read the log in a thread (it may be long) and show it."""
        audit = tursotui_app(self).workspace.audit
        self.seen_writes = audit.generation()
        lines = await asyncio.to_thread(audit.entries)
        for problem in audit.problems():  # each broken line once per session
            self.notify(problem, title="Audit log", severity="warning", markup=False)
        self.history = History.from_lines(lines)
        self.asked = {}
        for entry in lines:
            self.asked.setdefault(entry.id, entry)
        self.entries = settled(lines)
        self.fill()

    def current_entry(self) -> AuditEntry | None:
        """The entry under the cursor."""
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.shown.get(str(key))

    def fill(self) -> None:
        """Show the entries the filter lets through, the cursor on the entry it was on."""
        table = self.table
        current = self.current_entry()
        row = table.cursor_row
        table.clear()
        wide = len(table.columns) > 7
        self.shown = {}
        for index, entry in enumerate(self.entries):
            if not matches(entry, self.query_text, failed_only=self.failed_only):
                continue
            key = entry.id or f"\x00{index}"
            self.shown[key] = entry
            table.add_row(*self._cells(entry, wide), key=key)
        if current is not None and (current.id or "") in self.shown:
            table.move_cursor(row=table.get_row_index(current.id))
        elif table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self.show_summary()
        self.show_detail()

    def _cells(self, entry: AuditEntry, wide: bool) -> list[Text]:
        stamp = datetime.fromtimestamp(entry.time or 0)
        rows = ", ".join(entry.row_ids) if wide else str(len(entry.row_ids))
        failed = entry.status == "failed"
        style = FAILED_ROW if failed else ""
        cells = [
            Text(stamp.strftime("%Y-%m-%d %H:%M:%S" if wide else "%m-%d %H:%M"), style=style),
            literal(entry.operator, 10, style=style),
            literal(entry.tenant, 14, style=style),
            literal(entry.action, 14, style=style),
            literal(rows, 40, style=style),
            literal(change_text(entry.before, entry.after), 40, style=style),
            Text("undone", style="magenta")
            if self._undone(entry)
            else Text(entry.status, style=OUTCOME_STYLES.get(entry.status, "")),
        ]
        if wide:
            said = f"reason: {entry.reason}" + (f" · {entry.detail}" if entry.detail else "")
            cells.append(literal(said if entry.reason else entry.detail, 200, style=style))
        return cells

    def _undone(self, entry: AuditEntry) -> bool:
        return self.history is not None and entry.id in self.history.undone_by

    def show_summary(self) -> None:
        """The line above the table: how many writes, failed, and the filter."""
        failed = sum(1 for e in self.entries if e.status == "failed")
        summary = Text(no_wrap=True, overflow="ellipsis", end="")
        if len(self.shown) != len(self.entries):
            summary.append(f" {len(self.shown)} of {len(self.entries)} writes")
        else:
            summary.append(f" {len(self.entries)} writes")
        if failed:
            summary.append(f" · {failed} failed", style="bold red")
        if self.failed_only:
            summary.append(" · failed only (f)", style="bold")
        if self.query_text:
            summary.append(" · / ", style="bold")
            summary.append_text(literal(self.query_text, 40))
        summary.append("  newest first · enter shows · r reloads", style="dim")
        self.query_one("#audit-summary", Static).update(summary)

    # --- keys ---------------------------------------------------------------------------

    def action_show(self) -> None:
        """Show the entry under the cursor whole."""
        entry = self.current_entry()
        if entry is not None:
            self.app.push_screen(AuditEntryScreen(entry, self.asked.get(entry.id)))

    @on(DataTable.RowSelected, "#audit-table")
    def _selected(self) -> None:
        self.action_show()

    def action_undo(self, whole_action: bool) -> None:
        """Undo the entry under the cursor (or its whole action), after a confirmation."""
        entry = self.current_entry()
        if entry is None or self.history is None:
            self.notify("No entry here to undo.", severity="warning")
            return
        entries = self.history.group_of(entry) if whole_action else [entry]
        refused = [why for e in entries if (why := self.history.refusal(e)) is not None]
        if len(refused) == len(entries):
            self.notify(
                f"This entry cannot be undone: {refused[0]}", severity="warning", markup=False
            )
            return
        # On the app, not this screen: going back while it runs must not cut the write short.
        self.app.run_worker(
            self._undo([e for e in entries if self.history.refusal(e) is None]),
            group="moderate",
            exit_on_error=False,
            description="undo",
        )

    async def _undo(self, entries: list[AuditEntry]) -> None:
        question = Text(f"Undo {'this action' if len(entries) > 1 else 'this entry'}?\n\n")
        question.append_text(literal(describe_plan(entries), 2000, multiline=True))
        confirm = ConfirmScreen(question, yes="Undo", no="Keep", title="Undo", ask_reason=True)
        if not await self.app.push_screen_wait(confirm):
            return
        try:
            outcomes = await undo_entries(
                tursotui_app(self).workspace, entries, reason=confirm.reason
            )
        except ModerationError as error:
            self.notify(str(error), title="Not undone", severity="error", markup=False)
            return
        failed = any(o.error or o.conflicts for o in outcomes)
        self.notify(
            "\n".join(o.summary for o in outcomes),
            title="Undo: some rows left alone" if failed else "Undone",
            severity="warning" if failed else "information",
            markup=False,
        )
        stale.catch_up(self.app)

    def action_filter(self) -> None:
        """Open the filter box."""
        box = self.query_one("#audit-filter", Input)
        box.display = True
        box.value = self.query_text
        box.focus()

    @on(Input.Submitted, "#audit-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value.strip()
        if not self.query_text:
            event.input.display = False
        self.table.focus()
        self.fill()

    def action_failed(self) -> None:
        """Only the failed writes, or every write again."""
        self.failed_only = not self.failed_only
        self.fill()

    def action_back(self) -> None:
        """Close the filter (clearing it) if open, else go back."""
        box = self.query_one("#audit-filter", Input)
        if box.display:
            box.display = False
            self.table.focus()
            if self.query_text:
                self.query_text = ""
                self.fill()
            return
        tursotui_app(self).action_back()


__all__ = ["AuditScreen", "change_text", "matches", "settled"]
