"""One value shown whole and literally (markup, escapes and controls made visible)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tursotui.display.literal import literal

MAX_SHOWN_CHARS = 200_000
"""A 10 MB cell is shown up to here, with a note; the export has it whole."""


def whole_value(value: Any) -> Text:
    """The value for reading: text with newlines kept, blobs as a hex dump."""
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        shown = data[: MAX_SHOWN_CHARS // 4]
        lines = [f"{i:08x}  {shown[i : i + 16].hex(' ')}" for i in range(0, len(shown), 16)]
        text = Text(f"blob, {len(data):,} bytes\n\n" + "\n".join(lines))
        if len(shown) < len(data):
            text.append(f"\n… the first {len(shown):,} bytes of {len(data):,}", style="dim")
        return text
    if isinstance(value, str) and len(value) > MAX_SHOWN_CHARS:
        text = literal(value[:MAX_SHOWN_CHARS], multiline=True)
        text.append(f"\n… the first {MAX_SHOWN_CHARS:,} characters of {len(value):,}", style="dim")
        return text
    return literal(value, multiline=True)


class ValueScreen(ModalScreen[None]):
    """A cell's whole value."""

    DEFAULT_CSS = """
    ValueScreen { align: center middle; background: $background 60%; }
    ValueScreen > VerticalScroll {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    AUTO_FOCUS = "VerticalScroll"
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, column: str, value: Any) -> None:
        super().__init__()
        self.column = column
        self.value = value

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = literal(self.column, 40).plain
            box.can_focus = True
            yield Static(whole_value(self.value), id="value")

    def action_close(self) -> None:
        """Back to the grid."""
        self.dismiss(None)
