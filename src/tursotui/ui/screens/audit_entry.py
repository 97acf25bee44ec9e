"""One audit entry, whole: every field, the SQL, the rows, before → after, the error."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tursotui.display.literal import literal
from tursotui.session.audit import AuditEntry

OUTCOME_STYLES = {"ok": "green", "failed": "bold white on red", "pending": "yellow"}
FAILED_ROW = "red"
"""The style of a failed write's cells and error, so it stands out in a long log."""


def entry_text(entry: AuditEntry, asked: AuditEntry | None = None) -> Text:
    """Every field of an entry, on lines of their own, literally (the log holds database text).

    Args:
        entry: The write's last state (`ok`, `failed`, or still `pending`).
        asked: Its `pending` line, whose detail (the SQL of a console write) a failure
            replaced with the error; shown too when it differs.
    """
    text = Text(end="")

    def line(label: str, value: Any, style: str = "") -> None:
        text.append(f"{label:<10}", style="bold")
        text.append_text(literal(value, 100_000, multiline=True, style=style))
        text.append("\n")

    def as_json(value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)

    what = "SQL" if entry.action == "sql" else "detail"
    stamp = datetime.fromtimestamp(entry.time or 0).strftime("%Y-%m-%d %H:%M:%S")
    line("time", stamp)
    line("operator", entry.operator)
    line("tenant", entry.tenant)
    line("action", entry.action)
    line("outcome", entry.status, OUTCOME_STYLES.get(entry.status, ""))
    line("rows", ", ".join(entry.row_ids) if entry.row_ids else "—")
    if entry.reason:
        line("reason", entry.reason)
    line("before", as_json(entry.before))
    line("after", as_json(entry.after))
    if entry.rows:
        line("deleted", as_json(entry.rows))
    if entry.undoes:
        line("undoes", entry.undoes)
    if entry.group:
        line("group", entry.group)
    if asked is not None and asked.detail is not None and asked.detail != entry.detail:
        line(what, asked.detail)
    if entry.status == "failed":
        line("error", entry.detail or "—", FAILED_ROW)
    else:
        line(what, entry.detail if entry.detail is not None else "—")
    line("id", entry.id)
    return text


class AuditEntryScreen(ModalScreen[None]):
    """An audit entry in full, scrollable; escape or enter closes it."""

    DEFAULT_CSS = """
    AuditEntryScreen { align: center middle; background: $background 60%; }
    AuditEntryScreen > VerticalScroll {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    AuditEntryScreen > VerticalScroll.failed { border: thick $error; }
    """

    BINDINGS = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, entry: AuditEntry, asked: AuditEntry | None = None) -> None:
        super().__init__()
        self.entry = entry
        self.asked = asked

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="failed" if self.entry.status == "failed" else "") as box:
            box.border_title = f"{self.entry.action} · {self.entry.status}"
            yield Static(entry_text(self.entry, self.asked), id="audit-entry")

    def action_close(self) -> None:
        """Back to the log."""
        self.dismiss(None)

    def action_scroll(self, step: int) -> None:
        """Scroll the entry."""
        self.query_one(VerticalScroll).scroll_relative(y=step, animate=False)


__all__ = ["AuditEntryScreen", "entry_text"]
