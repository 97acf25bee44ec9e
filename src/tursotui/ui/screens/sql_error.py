"""A SQL error the user must read and may copy: the server's message and code, selectable."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


class SqlErrorScreen(ModalScreen[None]):
    """The error in a read-only text area (select with the mouse or f7, copy with ctrl+c)."""

    DEFAULT_CSS = """
    SqlErrorScreen { align: center middle; background: $background 60%; }
    SqlErrorScreen > Vertical {
        width: 80%; height: auto; max-height: 80%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    SqlErrorScreen TextArea { height: auto; max-height: 20; }
    SqlErrorScreen Button { margin-top: 1; }
    """

    AUTO_FOCUS = "#error-text"
    BINDINGS = [Binding("escape", "dismiss_error", "Close")]

    def __init__(self, message: str, *, code: str | None, sql: str) -> None:
        super().__init__()
        self.message = message
        self.code = code
        self.sql = sql

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "SQL error"
            if self.code:
                yield Static(Text.assemble(("code: ", "bold"), self.code), id="error-code")
            body = f"{self.message}\n\n-- statement:\n{self.sql}"
            yield TextArea(body, read_only=True, soft_wrap=True, id="error-text")
            yield Button("Close (escape)", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_dismiss_error(self) -> None:
        """Close; the editor keeps its text."""
        self.dismiss(None)
