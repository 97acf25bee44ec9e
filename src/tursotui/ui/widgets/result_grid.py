"""The console's result grid: rows appended chunk by chunk, every value shown literally.

NULL is a dim italic `NULL` (the text 'NULL' is plain); empty text is blank; blobs
show their size and a hex preview; numbers align right; long values are cut, and
`enter` asks for the whole value (the screen shows it in a modal).

Why not `DataTable`: it re-measures every new cell and re-renders every visible cell
through rich's full layout each time rows are added, which held the event loop for
hundreds of milliseconds per page on a wide result (B6.stall_ms). This grid is a
`ScrollView` that renders a line as one `Text` from cells formatted once, caches
rendered lines, and grows column widths cheaply as rows arrive.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.filter import ANSIToTruecolor, DimFilter, Monochrome, NoColor
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from tursotui.display.literal import ELLIPSIS, literal
from tursotui.ui.widgets.scrolling import PagedView, inner_style, set_virtual_size

CELL_CHARS = 40
"""Characters of a value shown in a cell before it is cut."""

MAX_COLUMNS = 200
"""Columns shown at most; a wider result says how many were left out."""

NEAR_END_ROWS = 50
"""Ask for more rows when the cursor or the view comes this close to the last loaded row."""

LINE_CACHE_ROWS = 256
"""Rendered rows kept (a few screens), as segments: a Strip is a dozen objects (its caches)
for the garbage collector to walk, so strips are made per paint and not kept."""

CONTENT_KEPT = 256
"""Finished lines kept by what they show (see `ResultGrid._content_key`), across results."""

KEYED_CHARS = 2 * CELL_CHARS
"""Text up to this long keys a line by its value (a cell shows less of it than this)."""

_KEYED_TYPES = frozenset({str, int, float, type(None)})
"""Values a line is kept by (others, blobs say, are painted each time)."""

_STYLE_FILTERS = (ANSIToTruecolor, DimFilter, Monochrome, NoColor)
"""Textual's line filters that map each segment's style alone (as `RowList` has them)."""

GAP = 2
"""Spaces between columns."""
GAP_TEXT = " " * GAP


def cell(value: Any) -> Text:
    """How one database value looks in the grid."""
    kind = type(value)
    if kind is int:
        return Text(str(value), justify="right", no_wrap=True, end="")
    if kind is float:
        return Text(repr(value), justify="right", no_wrap=True, end="")
    if kind is str:
        # Fast path for the common case, plain printable ASCII (C-speed checks); anything
        # else goes through literal(), which makes every unsafe character visible.
        head = value[:CELL_CHARS]
        if head.isascii() and head.isprintable():
            if len(value) <= CELL_CHARS:
                return Text(head, no_wrap=True, end="")
            text = Text(head[: CELL_CHARS - 1], no_wrap=True, end="")
            text.append(ELLIPSIS, style="dim")
            return text
    return literal(value, CELL_CHARS)


NULL_CELL = cell(None)
NULL_WIDTH = NULL_CELL.cell_len
DIM = Style(dim=True)


def cell_width(value: Any) -> int:
    """Cells `cell(value)` takes, computed without building it for the common values."""
    kind = type(value)
    if kind is str:
        head = value[:CELL_CHARS]
        if head.isascii() and head.isprintable():
            return len(head)  # a cut value is CELL_CHARS - 1 characters and the ellipsis
    elif kind is int:
        return len(str(value))
    elif value is None:
        return 4
    return cell(value).cell_len


class ResultGrid(PagedView, can_focus=True):
    """A virtual grid of query results with a cell cursor; the header row stays on top."""

    DEFAULT_CSS = """
    ResultGrid { background: $surface; }
    ResultGrid > .result-grid--header { text-style: bold; background: $panel; }
    ResultGrid > .result-grid--cursor { background: $accent 60%; }
    ResultGrid > .result-grid--odd { background: $boost; }
    """
    COMPONENT_CLASSES = {"result-grid--header", "result-grid--cursor", "result-grid--odd"}

    BINDINGS = [
        Binding("enter", "show_value", "Whole value", tooltip="Show the whole value of this cell"),
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("home", "edge_column(False)", "First column", show=False),
        Binding("end", "edge_column(True)", "Last column", show=False),
        Binding("ctrl+home", "edge_row(False)", "First row", show=False),
        Binding("ctrl+end", "edge_row(True)", "Last row", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True)
    """Row of the cursor (index into `values`)."""
    cursor_column: reactive[int] = reactive(0, always_update=True)
    """Column of the cursor."""

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
        super().__init__(id=id)
        self.values: list[tuple] = []
        """The raw values of the loaded rows, as the database sent them."""
        self.result_columns: tuple[str, ...] = ()
        """All of the result's column names (also those not shown)."""
        self._headers: list[Text] = []
        self._widths: list[int] = []
        self._line_cache: LRUCache[int, list[Segment]] = LRUCache(LINE_CACHE_ROWS)
        self._styles: tuple[Style, Style, Style, Style] | None = None
        self._styles_stale = False
        self._null_cache: dict[Style, list[Segment]] = {}
        self._strips: dict[int, Strip] = {}
        """Finished lines by row (not the cursor's), for `_strips_for` (scroll x, width)."""
        self._strips_for: tuple[int, int] = (-1, -1)
        self._widths_key: tuple[int, ...] = ()
        self._painted: dict[int, Strip] = {}
        """Lines finished for `render_lines` by row (see `_painted_line`), for `_painted_for`."""
        self._painted_by_content: LRUCache[tuple[object, ...], Strip] = LRUCache(CONTENT_KEPT)
        """The same by what they show (see `_content_key`), kept across results: a query
        run again, or another that shares rows with it, finds its lines made."""
        self._painted_for: tuple[Any, ...] = ()
        """What finished lines depend on besides their rows: scroll x, widths, padding
        style, background, line filters."""
        self._fused = False
        """Every line filter maps each segment's style alone (see `_painted_line`)."""
        self._style_map: dict[Style | None, Style | None] = {}

    # -- data -----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows loaded."""
        return len(self.values)

    @property
    def hidden_columns(self) -> int:
        """Columns of the result not shown (beyond MAX_COLUMNS)."""
        return max(0, len(self.result_columns) - MAX_COLUMNS)

    def show_result(self, columns: tuple[str, ...]) -> None:
        """Start showing a new result with these columns (no rows yet)."""
        self.values = []
        self.result_columns = tuple(columns)
        self.more_available = False
        self._headers = [literal(name, CELL_CHARS) for name in columns[:MAX_COLUMNS]]
        self._widths = [h.cell_len for h in self._headers]
        self._forget_lines()
        # Set without their watchers (each a refresh, a scroll, a check for more rows): the
        # view goes to the top-left corner and the grid repaints whole just below.
        self.set_reactive(ResultGrid.cursor_row, 0)
        self.set_reactive(ResultGrid.cursor_column, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._resize()

    def append_rows(self, rows: list[tuple]) -> None:
        """Add loaded rows at the end (cells are formatted when first shown)."""
        shown = len(self._headers)
        widths = self._widths
        grew = False
        for row in rows:
            for i, value in enumerate(row[:shown]):
                length = cell_width(value)
                if length > widths[i]:
                    widths[i] = length
                    grew = True
        # Rows added below the view change nothing on screen but the scrollbar: the grid
        # is repainted only when the widths grew or the new rows land in view.
        visible = len(self.values) < self.scroll_offset.y + self._visible_rows()
        self.values.extend(rows)
        if grew:
            self._forget_lines()
        self._resize(repaint=grew or visible)
        self._rows_added()

    def cell_text(self, row: int, column: int) -> Text:
        """The text a cell shows."""
        return cell(self.values[row][column])

    def _resize(self, *, repaint: bool = True) -> None:
        width = sum(self._widths) + GAP * max(0, len(self._widths) - 1) + 1
        size = Size(width, len(self.values) + 1)
        if set_virtual_size(self, size) or repaint:
            self.refresh()

    # -- rendering ------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_stale = True
        self.refresh()

    def _row_styles(self) -> tuple[Style, Style, Style, Style]:
        """Base, header, even-row and odd-row styles, kept until the CSS changes.

        `rich_style` walks every ancestor's background: asking it per line cost more than
        drawing the line. Rendered lines are dropped only when the styles really changed
        (focus, for one, restyles the grid without changing them).
        """
        if self._styles is None or self._styles_stale:
            self._styles_stale = False
            base = self.rich_style
            styles = (
                base,
                base + self.get_component_rich_style("result-grid--header"),
                base,
                base + self.get_component_rich_style("result-grid--odd", partial=True),
            )
            if styles != self._styles:
                self._styles = styles
                self._null_cache.clear()
                self._painted_by_content.clear()
                self._forget_lines()
        return self._styles

    def _forget_lines(self) -> None:
        self._line_cache.clear()
        self._strips.clear()
        self._painted.clear()
        self._widths_key = tuple(self._widths)

    def _content_key(self, row: int, scroll_x: int, width: int) -> tuple[object, ...] | None:
        """What a row's finished line is made of, or None for a row not kept by it.

        Its shown values (by type and value: 1, 1.0 and True differ; a float by its repr,
        as -0.0 equals 0.0), its stripe, the column widths, the scroll and the width.
        Long text and blobs are not keyed: hashing them would cost what painting does.
        """
        if row < 0:
            return ("header", self.result_columns[:MAX_COLUMNS], self._widths_key, scroll_x, width)
        values = self.values[row][: len(self._widths_key)]
        key: list[object] = [row % 2, self._widths_key, scroll_x, width]
        for value in values:
            kind = type(value)
            if kind not in _KEYED_TYPES or (kind is str and len(value) > KEYED_CHARS):
                return None
            key.append(repr(value) if kind is float else (kind, value))
        return tuple(key)

    def _line_segments(self, row: int) -> list[Segment]:
        """A row (or the header, row -1) as segments, uncropped, columns padded to their widths.

        Plain values (printable ASCII, numbers) become text directly; only the others go
        through `cell()` and rich's rendering.
        """
        cached = self._line_cache.get(row)
        if cached is not None:
            return cached
        _, header, even, odd = self._row_styles()
        style = header if row < 0 else odd if row % 2 else even
        widths = self._widths
        segments: list[Segment] = []
        plain: list[str] = []
        values = self._headers if row < 0 else self.values[row][: len(widths)]
        for i, value in enumerate(values):
            if i:
                plain.append(GAP_TEXT)
            kind = type(value)
            if kind is str:
                head = value[:CELL_CHARS]
                if head.isascii() and head.isprintable():
                    if len(value) <= CELL_CHARS:
                        plain.append(head.ljust(widths[i]))
                        continue
                    # Cut: as cell() does, the first characters and a dim ellipsis.
                    plain.append(head[: CELL_CHARS - 1])
                    segments.append(Segment("".join(plain), style))
                    segments.append(Segment(ELLIPSIS, style + DIM))
                    plain = [" " * (widths[i] - CELL_CHARS)]
                    continue
            elif kind is int:
                plain.append(str(value).rjust(widths[i]))
                continue
            elif value is None:
                if plain:
                    segments.append(Segment("".join(plain), style))
                    plain = []
                segments.extend(self._null_segments(style))
                plain.append(" " * (widths[i] - NULL_WIDTH))
                continue
            text = value if kind is Text else cell(value)
            pad = " " * (widths[i] - text.cell_len)
            right = text.justify == "right"
            if right:
                plain.append(pad)
            if text.spans or text.style:
                if plain:
                    segments.append(Segment("".join(plain), style))
                    plain = []
                segments.extend(self._render_cell(text, style))
            else:
                plain.append(text.plain)
            if not right:
                plain.append(pad)
        if plain:
            segments.append(Segment("".join(plain), style))
        self._line_cache.set(row, segments)
        return segments

    def _render_cell(self, text: Text, style: Style) -> list[Segment]:
        """A styled cell's segments on a line of this style."""
        if text.style:
            # Text.render() ignores the text's own style; as a span it is kept.
            text, styled = Text(end=""), text
            text.append_text(styled)
        return list(Segment.apply_style(text.render(self.app.console), style))

    def _null_segments(self, style: Style) -> list[Segment]:
        """How NULL looks on a line of this style (the same on every row of that style)."""
        segments = self._null_cache.get(style)
        if segments is None:
            segments = self._render_cell(NULL_CELL, style)
            self._null_cache[style] = segments
        return segments

    def _column_span(self, column: int) -> tuple[int, int]:
        start = sum(self._widths[:column]) + GAP * column
        return start, start + self._widths[column]

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in `crop`, as Textual would paint them, from the kept lines.

        Textual's own path runs every line through its styles cache and makes a new
        `Strip` of each line whenever the grid scrolls or shows a new result. The grid has
        no border or padding: a line is padded to the widget's width (under the scrollbar)
        and passed through the app's line filters, both kept on the line `render_line`
        keeps, so a line already painted is a lookup.
        """
        if not self._plain_box():
            return super().render_lines(crop)
        width = self.size.width
        base, background = self.background_colors
        inner = inner_style(base, background)
        filters = tuple(self.get_line_filters())
        scroll_x, scroll_y = self.scroll_offset
        view_width = self.scrollable_content_region.width
        cursor_row = self.cursor_row
        self._row_styles()  # (drops the kept lines first if the styles changed)
        look = (scroll_x, width, view_width, inner, background, filters)
        if look != self._painted_for:
            self._painted.clear()
            self._painted_by_content.clear()
            self._style_map.clear()
            self._painted_for = look
            self._fused = all(type(line_filter) in _STYLE_FILTERS for line_filter in filters)
        lines = []
        for y in crop.line_range:
            line = self._painted_line(y, scroll_y, cursor_row) if self._fused else None
            if line is None:
                line = self._line(y, scroll_x, scroll_y, view_width, cursor_row)
                line = line.adjust_cell_length(width, inner)
                for line_filter in filters:
                    line = line.apply_filter(line_filter, background)
            lines.append(line)
        x1, x2 = crop.column_span
        if x1 or x2 != width:
            lines = [line.crop(x1, x2) for line in lines]
        return lines

    def _painted_line(self, y: int, scroll_y: int, cursor_row: int) -> Strip | None:
        """Line `y` finished as `render_lines` returns it, made in one go and kept (by row,
        and by what it shows); None for a line made the general way (the cursor's, a blank).

        Textual would make it in four strips (the row, cut or padded to the view, padded
        under the scrollbar, filtered), each with its caches: most of the cost of a new
        result's lines. Here the row's segments get both paddings and then the styles the
        app's line filters map them to (filters that map each style alone, `_fused`): the
        same segments, in one strip.
        """
        if not self._headers:
            return None
        row = scroll_y + y - 1 if y else -1
        if row >= len(self.values) or (row >= 0 and row == cursor_row):
            return None
        line = self._painted.get(row)
        if line is not None:
            return line
        scroll_x, width, view_width, inner, _, _ = self._painted_for
        if width < view_width:
            return None
        content = self._content_key(row, scroll_x, view_width)
        if content is not None:
            line = self._painted_by_content.get(content)
        if line is None:
            _, header, even, odd = self._row_styles()
            style = header if row < 0 else odd if row % 2 else even
            segments = self._line_segments(row)
            length = sum(cell_len(text) for text, _, _ in segments)
            if scroll_x or length > view_width:
                cut = Strip(segments, length).crop_extend(scroll_x, scroll_x + view_width, style)
                segments = list(cut)
            elif length < view_width:
                segments = [*segments, Segment(" " * (view_width - length), style)]
            if width > view_width:
                segments = [*segments, Segment(" " * (width - view_width), inner)]
            mapped = self._mapped
            line = Strip([Segment(text, mapped(style)) for text, style, _ in segments], width)
            if content is not None:
                self._painted_by_content.set(content, line)
        if len(self._painted) >= LINE_CACHE_ROWS:
            self._painted.clear()
        self._painted[row] = line
        return line

    def _mapped(self, style: Style | None) -> Style | None:
        """A segment's style as the app's (style-mapping) line filters leave it."""
        try:
            return self._style_map[style]
        except KeyError:
            mapped = style
            _, _, _, _, background, filters = self._painted_for
            for line_filter in filters:
                mapped = line_filter.apply([Segment(" ", mapped)], background)[0].style
            self._style_map[style] = mapped
            return mapped

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        return self._line(y, scroll_x, scroll_y, width, self.cursor_row)

    def _line(self, y: int, scroll_x: int, scroll_y: int, width: int, cursor_row: int) -> Strip:
        """Line `y` of the grid scrolled to (`scroll_x`, `scroll_y`), `width` cells wide."""
        base, header, even, odd = self._row_styles()
        if not self._headers:
            return Strip.blank(width, base)
        row = scroll_y + y - 1 if y else -1
        if row >= len(self.values):
            return Strip.blank(width, base)
        # A repaint of the whole grid (focus, a scrollbar, another widget's layout) redraws
        # only the cursor's line; the others are kept as finished for this scroll and width.
        if (scroll_x, width) != self._strips_for:
            self._strips.clear()
            self._strips_for = (scroll_x, width)
        is_cursor = row >= 0 and row == cursor_row
        if not is_cursor and (kept := self._strips.get(row)) is not None:
            return kept
        style = header if row < 0 else odd if row % 2 else even
        strip = Strip(self._line_segments(row))
        if is_cursor:
            start, end = self._column_span(self.cursor_column)
            if self.has_focus:
                cursor = self.get_component_rich_style("result-grid--cursor", partial=True)
            else:
                cursor = Style(underline=True)
            before, under, after = strip.divide([start, end, strip.cell_length])
            under = Strip(Segment.apply_style(under, post_style=cursor), under.cell_length)
            strip = Strip.join([before, under, after])
        strip = strip.crop_extend(scroll_x, scroll_x + width, style)
        if not is_cursor:
            if len(self._strips) >= LINE_CACHE_ROWS:
                self._strips.clear()
            self._strips[row] = strip
        return strip

    # -- cursor ---------------------------------------------------------------------

    def move_cursor(self, *, row: int | None = None, column: int | None = None) -> None:
        """Put the cursor on a cell (clamped to the loaded rows) and keep it in view."""
        if row is not None:
            self._ahead = None
            self.cursor_row = max(0, min(row, len(self.values) - 1))
        if column is not None:
            self.cursor_column = max(0, min(column, len(self._headers) - 1))

    @property
    def cursor_coordinate(self) -> tuple[int, int]:
        """(row, column) of the cursor."""
        return self.cursor_row, self.cursor_column

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._keep_in_view(new)
        self.refresh()
        self._check_near_end()

    def watch_cursor_column(self, old: int, new: int) -> None:
        if not self._widths:
            return
        start, end = self._column_span(new)
        left = self.scroll_offset.x
        width = self.scrollable_content_region.width
        if start < left:
            self.scroll_to(x=start, animate=False, immediate=True)
        elif end > left + width:
            self.scroll_to(x=end - width, animate=False, immediate=True)
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_near_end()

    def _check_near_end(self) -> None:
        if not self.more_available:
            return
        bottom = self.scroll_offset.y + self._visible_rows()
        if max(self.cursor_row, bottom) >= len(self.values) - NEAR_END_ROWS:
            self.post_message(self.RowsWanted())

    def _loaded_rows(self) -> int:
        return len(self.values)

    def _cursor_at(self) -> int:
        return self.cursor_row

    def _show_row(self, row: int, top: int | None) -> None:
        # The grid's pages move the cursor; the view follows it (`watch_cursor_row`).
        self.cursor_row = max(0, min(row, len(self.values) - 1))

    def action_move(self, rows: int, columns: int) -> None:
        """Move the cursor."""
        if rows:
            self._go(self._intended()[0] + rows)
        if columns:
            self.move_cursor(column=self.cursor_column + columns)

    def action_page(self, direction: int) -> None:
        """Move the cursor a page."""
        self._go(self._intended()[0] + direction * self._visible_rows())

    def action_edge_row(self, last: bool) -> None:
        """To the first or last loaded row."""
        self.move_cursor(row=len(self.values) - 1 if last else 0)

    def action_edge_column(self, last: bool) -> None:
        """To the first or last column."""
        self.move_cursor(column=len(self._headers) - 1 if last else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y < 1 or not self._widths:
            return
        row = self.scroll_offset.y + event.y - 1
        x = self.scroll_offset.x + event.x
        column = 0
        for i in range(len(self._widths)):
            if x < self._column_span(i)[1] + GAP:
                column = i
                break
        self.move_cursor(row=row, column=column)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_show_value(self) -> None:
        """Ask for the whole value under the cursor."""
        row, column = self.cursor_coordinate
        if 0 <= row < len(self.values) and 0 <= column < len(self.result_columns):
            name = self.result_columns[column]
            self.post_message(self.ValueWanted(name, self.values[row][column]))


__all__ = ["CELL_CHARS", "MAX_COLUMNS", "ResultGrid", "cell"]
