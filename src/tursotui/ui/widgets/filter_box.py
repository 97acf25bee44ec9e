"""A filter or search box that a key shows (focused) and escape hides again."""

from __future__ import annotations

from textual.widgets import Input


class FilterBox(Input):
    """An `Input` that is not restyled when it loses the focus hidden.

    Escape hides the box and gives the focus back to the list: Textual then restyles the box
    for the focus it lost (2-3 ms of escape's frame), styles nobody sees. A screen shows the
    box again only with the focus (`/`), which restyles it then; a box that loses the focus
    shown (a search submitted, the list focused) is restyled as any `Input`.
    """

    def watch_has_focus(self, has_focus: bool) -> None:
        if has_focus or self.display:
            super().watch_has_focus(has_focus)


__all__ = ["FilterBox"]
