"""The audit log: every write tursotui made, newest first, with its outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tursotui.audit import AuditEntry
from tursotui.ui.literal import literal
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.text_line import TextLine

OUTCOME_STYLES = {"ok": "green", "failed": "bold red", "pending": "yellow"}


def settled(entries: list[AuditEntry]) -> list[AuditEntry]:
    """One entry per write, its last state, newest first.

    A write is logged `pending` and then `ok`/`failed` under the same id; a write
    still `pending` here never reported back (the process died, or it is running).
    """
    latest: dict[str, AuditEntry] = {}
    for entry in entries:
        latest[entry.id or str(id(entry))] = entry
    first_time = {}
    for entry in entries:
        first_time.setdefault(entry.id or str(id(entry)), entry.time)
    ordered = sorted(latest.items(), key=lambda item: first_time[item[0]], reverse=True)
    return [entry for _, entry in ordered]


def change_text(before: Any, after: Any) -> str:
    """`before → after` as one line (a dict of per-row states is summarised)."""
    if isinstance(before, dict):
        before = "/".join(sorted({str(v) for v in before.values()}))
    parts = [str(p) for p in (before, after) if p is not None]
    return " → ".join(parts)


class AuditScreen(Screen[None]):
    """The audit log as a table; `r` reloads."""

    BINDINGS = [Binding("r", "reload", "Reload", tooltip="Read the log again")]

    DEFAULT_CSS = """
    AuditScreen #audit-summary { height: 1; background: $boost; }
    AuditScreen #audit-table { height: 1fr; }
    AuditScreen #audit-detail { height: 1; background: $boost; }
    """

    entries: list[AuditEntry] = []
    """The entries shown, in table order (row key = index)."""

    def compose(self) -> ComposeResult:
        yield TenantHeader("audit log")
        yield Static(id="audit-summary")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield TextLine(id="audit-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
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
        table = self.query_one("#audit-table", DataTable)
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        if table.row_count and 0 <= table.cursor_row < len(self.entries):
            entry = self.entries[table.cursor_row]
            stamp = datetime.fromtimestamp(entry.time or 0).strftime("%Y-%m-%d %H:%M:%S")
            fields = [
                Text(f" {stamp}"),
                literal(entry.operator, 40),
                literal(entry.tenant, 63),
                literal(entry.action, 40),
                Text(entry.status, style=OUTCOME_STYLES.get(entry.status, "")),
                literal(change_text(entry.before, entry.after), 80),
                literal("rows " + ", ".join(entry.row_ids), 200),
            ]
            if entry.detail:
                fields.append(literal(entry.detail, 500))
            line = Text(" · ", style="dim", no_wrap=True, overflow="ellipsis", end="").join(fields)
        self.query_one("#audit-detail", TextLine).update(line)

    def action_reload(self) -> None:
        """Read the log again."""
        self.load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        """Read the log in a thread (it may be long) and show it."""
        import asyncio

        audit = self.app.workspace.audit  # type: ignore[attr-defined]
        entries = settled(await asyncio.to_thread(audit.entries))
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        wide = len(table.columns) > 7
        self.entries = entries
        for index, entry in enumerate(entries):
            stamp = datetime.fromtimestamp(entry.time or 0)
            rows = ", ".join(entry.row_ids) if wide else str(len(entry.row_ids))
            cells = [
                Text(stamp.strftime("%Y-%m-%d %H:%M:%S" if wide else "%m-%d %H:%M")),
                literal(entry.operator, 10),
                literal(entry.tenant, 14),
                literal(entry.action, 14),
                literal(rows, 40),
                literal(change_text(entry.before, entry.after), 40),
                Text(entry.status, style=OUTCOME_STYLES.get(entry.status, "")),
            ]
            if wide:
                cells.append(literal(entry.detail, 200))
            table.add_row(*cells, key=str(index))
        self.show_detail()
        failed = sum(1 for e in entries if e.status == "failed")
        summary = Text(f" {len(entries)} writes", end="")
        if failed:
            summary.append(f" · {failed} failed", style="bold red")
        summary.append("  newest first · r reloads", style="dim")
        self.query_one("#audit-summary", Static).update(summary)
