"""The searchable SQL history of a tenant: pick a statement to put back in the editor."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tursotui.console.history import HistoryEntry
from tursotui.display.literal import literal

SHOWN = 500
"""Entries listed at most (the search looks through all)."""


class HistoryScreen(ModalScreen[str | None]):
    """Type to search; up/down to choose; enter puts the statement in the editor."""

    DEFAULT_CSS = """
    HistoryScreen { align: center middle; background: $background 60%; }
    HistoryScreen > Vertical {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    HistoryScreen OptionList { height: 1fr; }
    """

    AUTO_FOCUS = "Input"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    def __init__(self, entries: list[HistoryEntry], tenant: str) -> None:
        super().__init__()
        self.entries = entries
        self.tenant = tenant
        self._shown: list[HistoryEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"SQL history of {literal(self.tenant, 30).plain}"
            yield Input(placeholder="search (words, any order)", id="history-search")
            yield OptionList(id="history-list")
            yield Static("", id="history-count")

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, query: str) -> None:
        words = query.lower().split()
        matches = [e for e in self.entries if all(w in e.sql.lower() for w in words)]
        self._shown = matches[:SHOWN]
        options = self.query_one(OptionList)
        options.clear_options()
        for entry in self._shown:
            line = Text(datetime.fromtimestamp(entry.time).strftime("%Y-%m-%d %H:%M  "), "dim")
            line.append("✓ " if entry.ok else "✗ ", style="green" if entry.ok else "red")
            line.append_text(literal(" ".join(entry.sql.split()), 200))
            options.add_option(Option(line))
        if self._shown:
            options.highlighted = 0
        count = f"{len(matches)} of {len(self.entries)} statements"
        self.query_one("#history-count", Static).update(Text(count, style="dim"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)

    def _choose(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self._shown):
            self.dismiss(self._shown[index].sql)

    def action_move(self, step: int) -> None:
        """Move the highlight while typing."""
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -step
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_close(self) -> None:
        """Back to the editor unchanged."""
        self.dismiss(None)
