"""Screens whose keys move the focus (a filter or search box shown, then hidden again).

Textual repaints a whole screen whenever its focus moves: `Screen.focused` is a reactive
that repaints. The screen's own paint is only its background, under its widgets, but a
repaint of it sends every line of the screen again: 2-3 ms of the frame of a key such as
`/`, for nothing, since the widgets whose look the focus changes (the one that lost it,
the one that took it, the footer's keys) are restyled and repainted by Textual anyway.
"""

from __future__ import annotations

from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget


class FocusWithoutRepaint(Screen[None]):
    """A screen that does not repaint itself when its focus moves (see the module)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """The focused widget, as Textual's, without the repaint of the screen."""


__all__ = ["FocusWithoutRepaint"]
