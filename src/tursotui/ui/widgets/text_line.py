"""A one-line text widget for lines that change often (filter bars, status and detail lines)."""

from __future__ import annotations

from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

LINES_KEPT = 32
"""Painted lines remembered per widget (a status line says one of a handful of things)."""


def _fingerprint(text: Text) -> tuple[object, ...]:
    """What of a `Text` its painted line is made from (two texts alike paint alike)."""
    return (
        text.plain,
        text.style,
        text.justify,
        text.overflow,
        text.no_wrap,
        text.end,
        tuple(text.spans),
    )


class TextLine(Widget):
    """One line of text that changes often: repainted without a new layout (unlike Static).

    Textual paints a widget's text through its whole render pipeline (the text made into
    content, cut to the width, padded and styled through the styles cache) each time it
    changes: a millisecond or more of the frame of a key that redraws a filter bar and a
    status line. The lines Textual paints are kept by what they show and what they are
    painted in (size, colours, line filters, a selection; dropped when the styles change), so a
    line that says again what it said before (a filter key and back, "50 posts shown") is
    a lookup. What is painted is always Textual's own render: a line never seen is
    painted by Textual, and kept.
    """

    DEFAULT_CSS = "TextLine { height: 1; }"

    def __init__(self, text: Text | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text or Text()
        self._painted: LRUCache[tuple[object, ...], list[Strip]] = LRUCache(LINES_KEPT)

    def update(self, text: Text) -> None:
        """Show `text` (a `Text`, so nothing in it is parsed as markup)."""
        self.text = text
        self.refresh()

    def render(self) -> Text:
        return self.text

    def render_lines(self, crop: Region) -> list[Strip]:
        key = (
            _fingerprint(self.text),
            crop,
            self.size,
            self.visual_style,
            self.background_colors,
            tuple(self.get_line_filters()),
            self.text_selection,  # text selected with the mouse shows as such
        )
        lines = self._painted.get(key)
        if lines is None:
            lines = super().render_lines(crop)
            self._painted.set(key, lines)
        return list(lines)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painted.clear()  # a new theme, a pseudo-class: painted otherwise from now on


__all__ = ["TextLine"]
