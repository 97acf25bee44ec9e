"""Action feedback in a screen's status line instead of a toast over the rows.

A toast sits on top of the list for seconds after every action, over the very rows
being worked on. What an action did ("Published 2 posts on acme.") goes to the
screen's own status line instead, where it stays until the next action or for
`FEEDBACK_SECONDS`; toasts are kept for errors.
"""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual.css.query import NoMatches

FEEDBACK_SECONDS = 12.0
"""How long an action's outcome stays in the status line (unless another replaces it)."""


class StatusFeedback:
    """Mixed into a screen: `say()` shows a message in its status line for a while.

    The screen calls `append_feedback(line)` where it builds its status line and names
    the method that rebuilds that line in `FEEDBACK_REPAINT`.
    """

    FEEDBACK_REPAINT = "show_status"
    _feedback: Text | None = None

    def say(self, message: str | Text, style: str = "bold green") -> None:
        """Show `message` (what an action did) in the status line."""
        text = message if isinstance(message, Text) else Text(message, style=style)
        if not getattr(self, "is_attached", True):
            # The user went back before the action finished: no status line of this
            # screen is on view, so a toast is the only way they learn what it did.
            self.app.notify(text.plain)  # type: ignore[attr-defined]
            return
        self._feedback = text
        self._repaint_feedback()
        self.set_timer(FEEDBACK_SECONDS, lambda: self._expire(text))  # type: ignore[attr-defined]

    def _expire(self, text: Text) -> None:
        if self._feedback is text:
            self._feedback = None
            self._repaint_feedback()

    def _repaint_feedback(self) -> None:
        if not getattr(self, "is_mounted", False):
            return
        # A screen being taken down (keys typed in a burst end with `escape`) has lost its
        # lines already: nothing to repaint, and the write that said it must go on.
        with contextlib.suppress(NoMatches):
            getattr(self, self.FEEDBACK_REPAINT)()

    @property
    def feedback(self) -> Text | None:
        """The message shown, or None."""
        return self._feedback

    def append_feedback(self, line: Text) -> None:
        """Add the current message, if any, to a status line being built."""
        if self._feedback is not None:
            line.append(" · ")
            line.append_text(self._feedback)


__all__ = ["FEEDBACK_SECONDS", "StatusFeedback"]
