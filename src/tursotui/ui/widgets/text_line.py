"""A one-line text widget for lines that change often (filter bars, status and detail lines)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    """One line of text that changes often: repainted without a new layout (unlike Static)."""

    DEFAULT_CSS = "TextLine { height: 1; }"

    def __init__(self, text: Text | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text or Text()

    def update(self, text: Text) -> None:
        """Show `text` (a `Text`, so nothing in it is parsed as markup)."""
        self.text = text
        self.refresh()

    def render(self) -> Text:
        return self.text


__all__ = ["TextLine"]
