"""Choose the export format; the export itself runs on the console screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ExportFormatScreen(ModalScreen[str | None]):
    """Dismisses with `csv`, `json`, or None."""

    DEFAULT_CSS = """
    ExportFormatScreen { align: center middle; background: $background 60%; }
    ExportFormatScreen > Vertical {
        width: auto; min-width: 50; height: auto;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ExportFormatScreen Horizontal { height: auto; width: auto; margin-top: 1; }
    ExportFormatScreen Button { margin-right: 2; }
    """

    BINDINGS = [
        Binding("c", "pick('csv')", "CSV"),
        Binding("j", "pick('json')", "JSON"),
        Binding("escape", "pick(None)", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export the whole result"
            yield Static("The query runs again and every row goes to the file.")
            with Horizontal():
                yield Button("CSV (c)", id="csv", variant="primary")
                yield Button("JSON (j)", id="json")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_pick(self, fmt: str | None) -> None:
        """Answer."""
        self.dismiss(fmt)
