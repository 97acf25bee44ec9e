"""What the line-based lists (`ResultGrid`, `RowList`) share about scrolling."""

from __future__ import annotations

from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView


def set_virtual_size(view: ScrollView, size: Size) -> bool:
    """Give `view` a new virtual size, without a new layout of the screen when possible.

    Growing past a scrollbar that is already shown changes only that scrollbar's range;
    setting `virtual_size` would lay out the whole screen again, a stall per page of rows.
    Anything else (a first size, a scrollbar appearing or going) takes a layout.

    Returns:
        True when the screen was laid out again (the view repaints whole).
    """
    old = view.virtual_size
    region = view.scrollable_content_region
    wider_ok = size.width == old.width or (size.width > old.width and old.width > region.width)
    taller_ok = size.height == old.height or (
        size.height > old.height and old.height > region.height
    )
    if wider_ok and taller_ok and old.width and old.height:
        view.set_reactive(ScrollView.virtual_size, size)
        if size.height != old.height:
            view.vertical_scrollbar.window_virtual_size = size.height
        if size.width != old.width:
            view.horizontal_scrollbar.window_virtual_size = size.width
        return False
    view.virtual_size = size
    return True


class PagedView(ScrollView):
    """A line-based list of rows loaded a page at a time, with a row cursor and a header line.

    The owner says whether rows past the last one are coming (`more_available`); a key that
    takes the cursor (or the view) past the loaded rows then is not cut short at the last
    row: where it went is kept, and the cursor gets there as the rows arrive
    (`_rows_added`), as if the keys had been pressed one by one, each after its page.

    A subclass says how many rows are loaded (`_loaded_rows`), where its cursor is
    (`_cursor_at`) and how to show a row (`_show_row`), and has an `action_page(direction)`.
    """

    BINDINGS = [
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._more_available = False
        self._ahead: tuple[int, int | None] | None = None
        """Where keys took the cursor (row, and the view's top row for a page) past the
        loaded rows: a burst of `pagedown` outruns the pages being fetched."""

    @property
    def more_available(self) -> bool:
        """Set by the owner: rows past the last one exist and are being (or will be) added."""
        return self._more_available

    @more_available.setter
    def more_available(self, more: bool) -> None:
        self._more_available = more
        if not more:
            self._ahead = None  # the cursor stays on the last row, where the keys took it

    def _loaded_rows(self) -> int:
        """How many rows are loaded."""
        raise NotImplementedError

    def _cursor_at(self) -> int:
        """The row the cursor is on."""
        raise NotImplementedError

    def _show_row(self, row: int, top: int | None) -> None:
        """Put the cursor on `row` (clamped to the loaded rows), the view's top at `top` if
        given, and the cursor in view; without forgetting where keys are ahead."""
        raise NotImplementedError

    def _visible_rows(self) -> int:
        """Rows in view (the header line takes one)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _keep_in_view(self, row: int) -> None:
        """Scroll as little as needed for `row` to be in view."""
        top = self.scroll_offset.y
        visible = self._visible_rows()
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def _intended(self) -> tuple[int, int]:
        """Where the keys so far took the cursor and the view (even past the loaded rows)."""
        if self._ahead is not None:
            row, top = self._ahead
            return row, self.scroll_offset.y if top is None else top
        return self._cursor_at(), self.scroll_offset.y

    def _go(self, row: int, top: int | None = None) -> None:
        """Move where a key asked; past the loaded rows (more coming), as far as they go."""
        rows = self._loaded_rows()
        # The view's top also waits for rows: scrolled to before they are there, it stops
        # at the last loaded row, short of where the keys put it.
        past = row >= rows or (top is not None and top > rows - self._visible_rows())
        self._ahead = (row, top) if past and self._more_available else None
        self._show_row(row, top)

    def _rows_added(self) -> None:
        """Rows arrived: the cursor goes on to where the keys took it, as far as they go."""
        if self._ahead is not None:
            self._go(*self._ahead)
