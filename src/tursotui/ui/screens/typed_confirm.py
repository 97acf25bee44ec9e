"""A confirmation that must be typed: for statements that destroy data."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class TypedConfirmScreen(ModalScreen[bool]):
    """Dismisses True only when the user typed `expected` and pressed enter."""

    DEFAULT_CSS = """
    TypedConfirmScreen { align: center middle; background: $background 60%; }
    TypedConfirmScreen > Vertical {
        width: 80%; max-width: 100; height: auto;
        border: thick $error; background: $surface; padding: 1 2;
    }
    TypedConfirmScreen #typed-hint { margin: 1 0; }
    """

    AUTO_FOCUS = "#typed-input"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, message: str | Text, expected: str, *, title: str = "Destructive") -> None:
        super().__init__()
        self.message = message if isinstance(message, Text) else Text(message)
        self.expected = expected
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(self.message, id="typed-message")
            hint = Text("Type ")
            hint.append(self.expected, style="bold")
            hint.append(" and press enter to run it; escape cancels.")
            yield Static(hint, id="typed-hint")
            yield Input(placeholder=self.expected, id="typed-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() == self.expected:
            self.dismiss(True)
        else:
            self.notify("That is not what was asked for; nothing ran.", severity="warning")
            self.dismiss(False)

    def action_cancel(self) -> None:
        """Do not run it."""
        self.dismiss(False)
