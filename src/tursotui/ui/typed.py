"""A typed way for screens and widgets to reach the tursotui app.

Textual types `self.app` as a plain `App`, which knows nothing of the workspace or
the settings. `tursotui_app(self)` gives the same object as `TursotuiApp`. The app
module is imported only for type checking: it opens screens, so a run-time import
from a screen would close a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.message_pump import MessagePump

if TYPE_CHECKING:
    from tursotui.ui.app import TursotuiApp


def tursotui_app(node: MessagePump) -> TursotuiApp:
    """The running app as `TursotuiApp` (every screen runs inside one)."""
    return cast("TursotuiApp", node.app)


__all__ = ["tursotui_app"]
