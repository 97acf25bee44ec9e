"""A yes/no question before a write, with an optional reason for the audit log.

With `ask_reason`, a line under the question takes a reason: `r` (or `tab`) moves into
it, and what is typed right after `r` lands there however fast it comes; `enter` in it
only leaves it (it never answers the question), so `y` / `n` answer as before.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tursotui.ui.typeahead import hold_keys_for


class ConfirmScreen(ModalScreen[bool]):
    """Ask a question; dismisses with True for yes, False for no or escape.

    The message is shown as given: pass a `rich.text.Text` (e.g. built with
    `tursotui.display.literal.literal`) when it holds anything read from a database;
    a plain `str` is also shown literally, never parsed as markup.
    """

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        background: $background 60%;
    }
    ConfirmScreen > Vertical {
        width: auto;
        min-width: 40;
        max-width: 90%;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen #confirm-message {
        width: auto;
        max-width: 100%;
        margin-bottom: 1;
    }
    ConfirmScreen Horizontal {
        width: auto;
        height: auto;
    }
    ConfirmScreen Button {
        margin-right: 2;
    }
    ConfirmScreen #confirm-reason {
        width: 60;
        max-width: 100%;
        margin-bottom: 1;
    }
    """

    # "no" has the focus: an absent-minded enter must not destroy anything.
    AUTO_FOCUS = "#no"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("r", "reason", "Reason", tooltip="Type why (kept in the audit log)"),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    def __init__(
        self,
        message: str | Text,
        *,
        yes: str = "Yes",
        no: str = "No",
        title: str | None = None,
        ask_reason: bool = False,
    ) -> None:
        super().__init__()
        self.message = message if isinstance(message, Text) else Text(message)
        self.yes_label = yes
        self.no_label = no
        self.title_text = title
        self.ask_reason = ask_reason
        self.reason: str | None = None
        """The reason typed (stripped; None when empty), once answered yes."""

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            if self.title_text:
                box.border_title = self.title_text
            yield Static(self.message, id="confirm-message")
            if self.ask_reason:
                yield Input(
                    placeholder="reason (optional, r): why, for the audit log",
                    id="confirm-reason",
                    max_length=500,
                )
            with Horizontal():
                yield Button(f"{self.yes_label} (y)", id="yes", variant="warning")
                yield Button(f"{self.no_label} (n)", id="no", variant="primary")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "reason" or self.ask_reason

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(event.button.id == "yes")

    def action_reason(self) -> None:
        """Move into the reason line (what is typed next goes there)."""
        if not self.ask_reason:
            return
        reason = self.query_one("#confirm-reason", Input)
        hold_keys_for(self.app, reason)
        reason.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter in the reason only leaves it: answering stays with y / n (or the buttons).
        event.stop()
        self.query_one("#no", Button).focus()

    def on_key(self, event: events.Key) -> None:
        # Escape in the reason line leaves the line, not the question (a second one cancels).
        if event.key == "escape" and isinstance(self.focused, Input):
            event.stop()
            event.prevent_default()
            self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        """Answer the question (keeping the reason typed, if any)."""
        if answer and self.ask_reason:
            self.reason = self.query_one("#confirm-reason", Input).value.strip() or None
        self.dismiss(answer)
