"""What a cross-tenant action did on each tenant: done, conflicts, failed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ActionSummaryScreen(ModalScreen[None]):
    """Shows a summary (a `Text`, shown literally) until enter, escape or `y`.

    Asked for when an action was not done everywhere: the operator must see which
    tenants failed or had conflicts before going on, not a toast that fades.
    """

    DEFAULT_CSS = """
    ActionSummaryScreen {
        align: center middle;
        background: $background 60%;
    }
    ActionSummaryScreen > Vertical {
        width: auto;
        min-width: 40;
        max-width: 90%;
        height: auto;
        max-height: 90%;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ActionSummaryScreen #summary-message {
        width: auto;
        max-width: 100%;
        margin-bottom: 1;
    }
    """

    AUTO_FOCUS = "#ok"
    BINDINGS = [
        Binding("escape,y,enter", "close", "Close"),
    ]

    def __init__(self, summary: Text, *, title: str = "Summary") -> None:
        super().__init__()
        self.summary = summary
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(self.summary, id="summary-message")
            yield Button("OK (enter)", id="ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the summary."""
        self.dismiss(None)


__all__ = ["ActionSummaryScreen"]
