"""A `RowList` whose columns have keys and whose header can be clicked (to sort by a column).

The fleet shows 10,000 tenants in it: a row's cells are made only when the row is first
shown (see `RowList`), and a cell is read back by row key and column key, as the screen
and its tests name them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.message import Message

from tursotui.ui.widgets.row_list import PADDING, RowList


class SortableList(RowList):
    """Rows of cells under a key, in columns with keys; a header click says which column."""

    class HeaderSelected(Message):
        """A column's header was clicked.

        Attributes:
            row_list: The list.
            column_index: The column's position among those shown.
            column_key: The column's key.
        """

        def __init__(self, row_list: SortableList, column_index: int, column_key: str) -> None:
            super().__init__()
            self.row_list = row_list
            self.column_index = column_index
            self.column_key = column_key

        @property
        def control(self) -> SortableList:
            return self.row_list

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._column_keys: tuple[str, ...] = ()

    def set_keyed_columns(self, columns: Sequence[tuple[str, str | Text, int]]) -> None:
        """Show these columns (key, header, width in cells) and no rows."""
        self._column_keys = tuple(key for key, _header, _width in columns)
        self.set_columns([(header, width) for _key, header, width in columns])

    @property
    def column_keys(self) -> tuple[str, ...]:
        """The keys of the columns shown, in order."""
        return self._column_keys

    def get_cell(self, key: str, column: str) -> Text:
        """The cell of the row with key `key` in the column with key `column`."""
        return self.get_row(key)[self._column_keys.index(column)]

    def column_at(self, x: int) -> int | None:
        """The index of the column at `x` cells from the lines' left edge, or None."""
        left = 0
        for index, width in enumerate(self.column_widths):
            left += width + 2 * PADDING
            if x < left:
                return index
        return None

    def on_click(self, event: events.Click) -> None:
        # Rows are `RowList`'s (it ignores the header line); the header is this list's.
        if event.y != 0:
            return
        index = self.column_at(self.scroll_offset.x + event.x)
        if index is not None:
            event.stop()
            self.post_message(self.HeaderSelected(self, index, self._column_keys[index]))


__all__ = ["SortableList"]
