"""The console's result grid: rows appended chunk by chunk, every value shown literally.

NULL is a dim italic `NULL` (the text 'NULL' is plain); empty text is blank; blobs
show their size and a hex preview; numbers align right; long values are cut, and
`enter` asks for the whole value (the screen shows it in a modal).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from tursotui.ui.literal import literal

CELL_CHARS = 40
"""Characters of a value shown in a cell before it is cut."""

MAX_COLUMNS = 200
"""Columns shown at most; a wider result says how many were left out."""

NEAR_END_ROWS = 50
"""Ask for more rows when the cursor or the view comes this close to the last loaded row."""


def cell(value: Any) -> Text:
    """How one database value looks in the grid."""
    if isinstance(value, bool | int | float) and not isinstance(value, bool):
        return Text(repr(value) if isinstance(value, float) else str(value), justify="right")
    return literal(value, CELL_CHARS)


class ResultGrid(DataTable[Text]):
    """A DataTable that keeps the raw values it shows and asks for more near its end."""

    BINDINGS = [
        Binding("enter", "show_value", "Whole value", tooltip="Show the whole value of this cell"),
    ]

    class RowsWanted(Message):
        """The user is near the last loaded row: the screen may fetch more."""

    class ValueWanted(Message):
        """The user asked for a cell's whole value.

        Attributes:
            column: The column's name.
            value: The raw value.
        """

        def __init__(self, column: str, value: Any) -> None:
            super().__init__()
            self.column = column
            self.value = value

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="cell", zebra_stripes=True)
        self.values: list[tuple] = []
        """The raw values of the loaded rows, as the database sent them."""
        self.result_columns: tuple[str, ...] = ()
        """All of the result's column names (also those not shown)."""
        self.more_available = False
        """Set by the screen: whether the result has rows not loaded yet."""

    def show_result(self, columns: tuple[str, ...]) -> None:
        """Start showing a new result with these columns (no rows yet)."""
        self.clear(columns=True)
        self.values = []
        self.result_columns = columns
        self.more_available = False
        for index, name in enumerate(columns[:MAX_COLUMNS]):
            self.add_column(literal(name, CELL_CHARS, style="bold"), key=str(index))

    @property
    def hidden_columns(self) -> int:
        """Columns of the result not shown (beyond MAX_COLUMNS)."""
        return max(0, len(self.result_columns) - MAX_COLUMNS)

    def append_rows(self, rows: list[tuple]) -> None:
        """Add loaded rows at the end."""
        width = min(len(self.result_columns), MAX_COLUMNS)
        self.values.extend(rows)
        self.add_rows([cell(v) for v in row[:width]] for row in rows)

    def _near_end(self) -> bool:
        if not self.more_available:
            return False
        bottom = self.scroll_y + self.scrollable_content_region.height
        return (
            self.cursor_row >= self.row_count - NEAR_END_ROWS
            or bottom >= self.row_count - NEAR_END_ROWS
        )

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._near_end():
            self.post_message(self.RowsWanted())

    def watch_cursor_coordinate(self, old: Any, new: Any) -> None:
        super().watch_cursor_coordinate(old, new)
        if self._near_end():
            self.post_message(self.RowsWanted())

    def action_show_value(self) -> None:
        """Ask for the whole value under the cursor."""
        row, column = self.cursor_coordinate
        if 0 <= row < len(self.values) and 0 <= column < len(self.result_columns):
            self.post_message(
                self.ValueWanted(self.result_columns[column], self.values[row][column])
            )


__all__ = ["CELL_CHARS", "MAX_COLUMNS", "ResultGrid", "cell"]
