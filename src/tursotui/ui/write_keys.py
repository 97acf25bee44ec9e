"""Keys that write, for screens that have them: a read-only session neither shows nor runs them.

Textual hides a binding whose `check_action` answers False, from the footer and from
`?`; the key itself then says in one line why it does nothing, instead of nothing.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.actions import parse
from textual.binding import Binding
from textual.screen import Screen

READ_ONLY_HINT = "{what} is not available in a read-only session"


class WriteKeys(Screen[None]):
    """A screen some of whose actions write.

    Attributes:
        WRITE_ACTIONS: Names of the actions (without arguments) that write or only serve
            a write (marking rows for a bulk action).
    """

    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    @property
    def read_only_session(self) -> bool:
        """True when the session refuses every write."""
        settings = getattr(self.app, "settings", None)
        return bool(settings and settings.read_only)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.WRITE_ACTIONS and self.read_only_session)

    def on_key(self, event: events.Key) -> None:
        if not self.WRITE_ACTIONS or not self.read_only_session:
            return
        for binding in Binding.make_bindings(type(self).BINDINGS):
            keys = {key.strip() for key in binding.key.split(",")}
            if event.key in keys and parse(binding.action)[1] in self.WRITE_ACTIONS:
                event.stop()
                event.prevent_default()
                what = binding.description or parse(binding.action)[1]
                self.notify(READ_ONLY_HINT.format(what=what), severity="warning", markup=False)
                return


__all__ = ["READ_ONLY_HINT", "WriteKeys"]
