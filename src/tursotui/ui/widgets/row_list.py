"""A fast list of keyed rows with fixed-width columns and a row cursor (tenants, posts, comments).

Why not `DataTable`: it renders every visible cell through rich's full render pipeline
(about half a millisecond a cell) each time the screen is shown, a page arrives or a cell
changes, which made opening the posts screen cost hundreds of milliseconds
(B4.first_page_ms) and 500 tenants' health answers over a second of repaints
(B5.health_all_ms). This list is a `ScrollView` on the Line API, the same idea as the
console's `ResultGrid`: a row is one `Text` built once from its cells, rendered lines are
cached per row index and width, and a change throws away only what it touches. The
header line stays on top.

The screen owns the data; the list holds cells (`Text`, shown as they are: the screen
makes them with `literal`) under a key per row, in display order. A row's cells may be
given as a function that makes them, called only when the row is first shown or read:
a list of 10,000 tenants then costs what its screenful costs, not 10,000 rows of cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, cast

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.color import Color
from textual.filter import ANSIToTruecolor, DimFilter, LineFilter, Monochrome, NoColor
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from tursotui.ui.widgets.scrolling import PagedView, inner_style, set_virtual_size

PADDING = 1
"""Spaces on each side of a cell (as DataTable's default cell padding)."""
PREFETCH_ROWS = 10
"""Rows beyond a screenful that should be loaded past the view and the cursor (`wants_rows`)."""
PREPARE_ROWS = 200
"""Rows added below the view whose lines are made ahead of the key that shows them."""


STRIPS_KEPT = 1000
"""Rendered rows kept; past this, those far from the view are dropped."""
CONTENT_KEPT = 1000
"""Painted lines kept by what they show (see `_fingerprint`), across lists read again."""
LOOKS_KEPT = 4
"""Looks whose painted lines are kept (focused and not: the list of a screen with a filter
box loses the focus to the box and takes it back at every `/` and `escape`)."""


Cells = tuple[Text, ...] | Callable[[], Sequence[Text]]
"""A row's cells, or a function making them when the row is first shown or read."""


_STYLE_FILTERS = (ANSIToTruecolor, DimFilter, Monochrome, NoColor)
"""Textual's line filters that map each segment's style alone: applied to a row's styles
once, not to every line."""


class _Look(NamedTuple):
    """What the painted lines depend on besides their rows."""

    view_width: int
    """The room for the rows (the widget less its scrollbars)."""
    width: int
    """The widget's width: lines are padded under the scrollbar, as Textual does."""
    inner: Style
    """The style of that padding."""
    background: Color
    filters: tuple[LineFilter, ...]
    fused: bool
    """Every filter maps styles alone (`_STYLE_FILTERS`)."""


def _fingerprint(cells: Sequence[Text]) -> tuple[object, ...]:
    """What of its cells a row's line is made from (two rows alike paint alike)."""
    return tuple(
        (text.plain, text.style, text.justify, text.overflow, tuple(text.spans)) for text in cells
    )


class RowList(PagedView, can_focus=True):
    """Rows of cells under a key, one line each, with a row cursor and zebra stripes."""

    DEFAULT_CSS = """
    RowList {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-list--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-list--header { background-tint: $foreground 5%; }
        }
        &:dark > .row-list--even { background: $surface-darken-1 40%; }
        & > .row-list--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .row-list--header { background: ansi_bright_blue; color: ansi_default; }
        & > .row-list--even { background: $surface-lighten-1 50%; }
        & > .row-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES = {"row-list--header", "row-list--even", "row-list--cursor"}

    BINDINGS = [
        Binding("enter", "select", "Select", show=False),
        Binding("up,k", "cursor_up", "Cursor up", show=False),
        Binding("down,j", "cursor_down", "Cursor down", show=False),
        Binding("home,ctrl+home", "edge(False)", "First row", show=False),
        Binding("end,ctrl+end", "edge(True)", "Last row", show=False),
    ]

    class _RowMessage(Message):
        """About one row of the list.

        Attributes:
            row_list: The list.
            cursor_row: The row index of the cursor.
            key: The key of that row.
        """

        def __init__(self, row_list: RowList, cursor_row: int, key: str) -> None:
            super().__init__()
            self.row_list = row_list
            self.cursor_row = cursor_row
            self.key = key

        @property
        def control(self) -> RowList:
            return self.row_list

    class RowHighlighted(_RowMessage):
        """The cursor moved to another row."""

    class RowSelected(_RowMessage):
        """The row under the cursor was chosen (enter or a click)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._columns: list[tuple[Text, int]] = []
        self._pad_styles: list[Style] = []
        self._keys: list[str] = []
        self._cells: dict[str, Cells] = {}
        self._index: dict[str, int] | None = {}
        """Row index of each key; None when it must be rebuilt (after a removal)."""
        self._every: tuple[list[str], dict[str, int] | None] | None = None
        """Every row's key and index while `show_only` shows some of them (see `show_all`)."""
        self._segments: dict[str, list[Segment]] = {}
        """Each row as segments (unstyled by the list), built when first shown."""
        self._styles: dict[str, Style] = {}
        self._strips: dict[int, Strip] = {}
        """Painted lines by row index (-1: the header), for `_strips_look`."""
        self._strips_for: _Look | None = None
        self._strips_look: _Look | None = None
        """`_strips_for` with its padding style filtered."""
        self._blank = Strip([])
        """A line past the last row, painted."""
        self._by_content: LRUCache[tuple[str, tuple[object, ...]], Strip] = LRUCache(CONTENT_KEPT)
        """Painted lines by row style and cells (see `_fingerprint`), kept across `clear`."""
        self._discarded: list[object] = []
        """Rows cleared, freed after the next frame (see `clear`)."""
        self._style_map: dict[tuple[Style, Style | None], Style] = {}
        """Row style + segment style → the style painted (see `_map_style`)."""
        self._looks: dict[tuple[object, ...], tuple[LRUCache[Any, Strip], dict[Any, Style]]] = {}
        """`_by_content` and `_style_map` of each look (`_look` and the rows' styles) lately
        painted in: a list painted again in a look it had (focused again) finds its lines."""
        self._cursor_row = 0

    # -- data -----------------------------------------------------------------------

    def set_columns(self, columns: Sequence[tuple[str | Text, int]]) -> None:
        """Show these columns (label, width in cells) and no rows; a `Text` label keeps its
        justification (a column of figures is labelled at its right edge)."""
        self._columns = [
            (
                label if isinstance(label, Text) else Text(label, no_wrap=True, end=""),
                width,
            )
            for label, width in columns
        ]
        # Padding of its own style per column: an SVG export (screenshots, snapshots) then
        # starts every cell's text in an element of its own, at its column.
        self._pad_styles = [Style(meta={"column": i}) for i in range(len(columns))]
        self._by_content.clear()
        self._looks.clear()
        self.clear()

    @property
    def row_count(self) -> int:
        """Rows in the list."""
        return len(self._keys)

    @property
    def column_widths(self) -> list[int]:
        """The width of each column, in cells (without padding)."""
        return [width for _, width in self._columns]

    @property
    def ordered_keys(self) -> list[str]:
        """The keys of the rows, in display order."""
        return list(self._keys)

    def has_row(self, key: str) -> bool:
        """Whether a row shown has this key."""
        if self._every is None:
            return key in self._cells
        return key in self._index_map()

    def holds_row(self, key: str) -> bool:
        """Whether a row has this key, shown or kept out of view by `show_only`."""
        return key in self._cells

    def get_row(self, key: str) -> tuple[Text, ...]:
        """The cells of the row with this key."""
        cells = self._cells[key]
        if callable(cells):
            cells = self._cells[key] = tuple(cells())
        return cells

    def get_row_at(self, row: int) -> tuple[Text, ...]:
        """The cells of the row at this index."""
        return self.get_row(self._keys[row])

    def get_row_index(self, key: str) -> int:
        """The index of the row with this key (KeyError if none is shown)."""
        return self._index_map()[key]

    def _index_map(self) -> dict[str, int]:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self._keys)}
        return self._index

    def show_only(self, keys: Iterable[str]) -> None:
        """Show only the rows with these keys (rows of the list), in this order: a filter.

        The cursor and the view go back to the top, as after `clear`. The rows left out keep
        their cells and painted lines, and take updates meanwhile (`holds_row`,
        `update_rows`), for `show_all`: a filter and back makes no row again, and costs the
        same for 10,000 rows as for ten. Adding, inserting or removing rows while some are
        left out forgets those left out.
        """
        shown = list(keys)
        wanted = set(shown)
        if len(wanted) != len(shown) or not wanted <= self._cells.keys():
            raise KeyError("show_only: a key twice, or not a row of the list")
        if self._every is None:
            self._every = (self._keys, self._index)
        self._show(shown, None)

    def show_all(self) -> None:
        """Show every row again, in their order, after `show_only` (at once: nothing is
        made again); the cursor and the view go back to the top. Nothing when all show."""
        if self._every is not None:
            keys, index = self._every
            self._every = None
            self._show(keys, index)

    @property
    def shows_all(self) -> bool:
        """No row is left out by `show_only`."""
        return self._every is None

    def _show(self, keys: list[str], index: dict[str, int] | None) -> None:
        header = self._strips.get(-1)
        self._keys, self._index = keys, index
        # Painted lines are kept by row index: none is the same row now but the header.
        self._strips = {} if header is None else {-1: header}
        self._cursor_row = 0
        self._ahead = None
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._resize()

    def _forget_left_out(self) -> None:
        """The rows `show_only` left out are dropped: the rows shown are the list."""
        if self._every is None:
            return
        shown = set(self._keys)
        for key in self._every[0]:
            if key not in shown:
                del self._cells[key]
                self._segments.pop(key, None)
        self._every = None

    def add_row(self, *cells: Text, key: str) -> None:
        """Add one row at the end."""
        self.add_rows([(key, cells)])

    def add_rows(
        self, rows: Iterable[tuple[str, Sequence[Text] | Callable[[], Sequence[Text]]]]
    ) -> None:
        """Add rows at the end; each is (key, cells or a function making them).

        A key already present is an error.
        """
        self._forget_left_out()
        keys, cells, index = self._keys, self._cells, self._index
        first = len(keys)
        added = list(rows)
        given = dict(added)
        if len(given) == len(added) and given.keys().isdisjoint(cells):
            # Thousands of rows at once (a fleet's tenants): added without a Python step
            # per row. Cells given as they are become tuples, as below.
            made: dict[str, Cells] = (
                cast("dict[str, Cells]", given)
                if all(map(callable, given.values()))
                else {k: row if callable(row) else tuple(row) for k, row in given.items()}
            )
            keys.extend(made)
            cells.update(made)
            if index is not None:
                index.update(zip(made, range(first, len(keys)), strict=True))
            added = []
        for key, row in added:  # a key twice: the rows before it are added, then the error
            if key in cells:
                raise KeyError(f"duplicate row key {key!r}")
            if index is not None:
                index[key] = len(keys)
            keys.append(key)
            cells[key] = row if callable(row) else tuple(row)
        # Rows added below the view only change the scrollbar: no repaint of the lines.
        below = first >= self.scroll_offset.y + self._visible_rows()
        self._resize(repaint=not below)
        ahead = self._ahead is not None
        self._rows_added()
        if below and not ahead and self.is_mounted:
            # Rows fetched ahead of the user: their lines are made now, after this frame,
            # so the key that scrolls to them paints them instead of making them first.
            self.call_after_refresh(self._prepare_rows, first, first + PREPARE_ROWS)

    def _prepare_rows(self, start: int, end: int) -> None:
        """Make the painted lines of rows `start` to `end` (those not made yet).

        Everything a paint of them would make (the row's segments, its painted line, that
        line padded to the widget) is kept, so the key that scrolls to them looks it up.
        """
        if not self.is_mounted or not self.size.width or not self._plain_box():
            return
        look = self._look()
        cursor = self._cursor_row
        for row in range(max(0, start), min(end, len(self._keys))):
            if row != cursor:
                line = self._painted(row, look)
                if line is not None and line.cell_length == look.view_width:
                    line.adjust_cell_length(look.width, look.inner)  # kept on the line

    def insert_rows_at_top(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Add rows above the first one, in the order given; the view and cursor stay put.

        For a list read from its far end (the oldest posts first shown, newer ones coming
        in above): what is on screen does not move when rows arrive.
        """
        self.insert_rows(0, rows)

    def insert_rows(self, index: int, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Add rows before the row at `index`, in the order given; the cursor stays on its row.

        Rows inserted above the view move the view down with them, so what is on screen
        does not move; rows inserted below the cursor leave the cursor and the view alone.
        """
        self._forget_left_out()
        new = [(key, tuple(row)) for key, row in rows]
        for key, _ in new:
            if key in self._cells:
                raise KeyError(f"duplicate row key {key!r}")
        if not new:
            return
        index = max(0, min(index, len(self._keys)))
        was_empty = not self._keys
        self._keys[index:index] = [key for key, _ in new]
        self._cells.update(new)
        self._index = None
        self._strips.clear()
        self._resize()
        if not was_empty:
            if index <= self._cursor_row:
                self._cursor_row += len(new)
            if index <= self.scroll_offset.y:
                self.scroll_to(y=self.scroll_offset.y + len(new), animate=False, immediate=True)
        self._rows_added()

    def update_row(self, key: str, cells: Sequence[Text] | Callable[[], Sequence[Text]]) -> None:
        """Show new cells (or a function making them when shown) in the row with this key."""
        self.update_rows([(key, cells)])

    def update_rows(
        self, rows: Iterable[tuple[str, Sequence[Text] | Callable[[], Sequence[Text]]]]
    ) -> None:
        """`update_row` for many rows, with one repaint (thousands of answers at once); rows
        left out by `show_only` take theirs too, shown when they are.

        Only the lines of changed rows in view are repainted: answers for rows far from
        the view (most of a 10,000-tenant fleet's) cost no frame at all, and a frame of a
        few rows is a fraction of one of the whole list.
        """
        top, shown = self.scroll_offset.y, self.scrollable_content_region.height - 1
        first, last = len(self._keys), -1
        index_of = self._index_map().get
        for key, cells in rows:
            if key not in self._cells:
                raise KeyError(key)
            self._cells[key] = cells if callable(cells) else tuple(cells)
            self._segments.pop(key, None)
            index = index_of(key)
            if index is None:
                continue  # left out by `show_only`: painted when shown
            self._strips.pop(index, None)
            if top <= index < top + shown:
                first, last = min(first, index), max(last, index)
        if shown <= 0:
            self.refresh()  # not laid out yet: the first frame paints every line anyway
        elif last >= 0:
            self.refresh_lines(first + 1, last - first + 1)  # line 0 is the header

    def remove_row(self, key: str) -> None:
        """Remove the row with this key; the cursor stays at its index (within the rows)."""
        self._forget_left_out()
        index = self.get_row_index(key)
        del self._keys[index]
        del self._cells[key]
        self._segments.pop(key, None)
        self._index = None
        self._strips.clear()
        if self._cursor_row >= len(self._keys):
            self._cursor_row = max(0, len(self._keys) - 1)
        self._resize()

    def clear(self, *, refill: bool = False) -> None:
        """Remove every row (the columns stay); the cursor and scroll go back to the top.

        Args:
            refill: Rows are about to be added (the list is read again): the scroll range
                stays as it is until they are (`add_rows`, even of none, or `refit`), so
                the scrollbar does not go and come back, each time a new layout of the
                whole screen.
        """
        if self._cells and self.is_mounted:
            # Freeing a thousand rows' cells and lines is a few ms: after the next frame,
            # not before it.
            self._discarded.append((self._keys, self._cells, self._segments, self._strips))
            # A method of this class, not the list's builtin `clear`: Textual reads a
            # callback's signature first, and a builtin's costs it milliseconds each time.
            self.call_after_refresh(self._free_discarded)
            self._segments, self._strips = {}, {}
        else:
            self._segments.clear()
            self._strips.clear()
        self._keys = []
        self._cells = {}
        self._index = {}
        self._every = None
        self._cursor_row = 0
        self._ahead = None
        self.scroll_to(0, 0, animate=False, immediate=True)
        if refill:
            self.refresh()
        else:
            self._resize()

    def _free_discarded(self) -> None:
        """Let go of the rows of the lists cleared before the last frame."""
        self._discarded.clear()

    def refit(self) -> None:
        """Make the scroll range fit the rows (after `clear(refill=True)` when none came)."""
        self._resize()

    def _line_width(self) -> int:
        return sum(width + 2 * PADDING for _, width in self._columns)

    def _resize(self, *, repaint: bool = True) -> None:
        set_virtual_size(self, Size(self._line_width(), len(self._keys) + 1))
        if repaint:
            self.refresh()

    # -- rendering ------------------------------------------------------------------

    def _row_segments(self, cells: Sequence[Text]) -> list[Segment]:
        """A row as segments: each cell cut or padded to its column, PADDING around it."""
        console = self.app.console
        get_style = console.get_style
        segments: list[Segment] = []
        pad = " " * PADDING
        for column, ((_, width), text) in enumerate(zip(self._columns, cells, strict=False)):
            pad_style = self._pad_styles[column]
            length = text.cell_len
            if length > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
                length = text.cell_len
            segments.append(Segment(pad, pad_style))
            if text.justify == "right" and length < width:  # numbers, say
                segments.append(Segment(" " * (width - length), pad_style))
                length = width
            if text.spans:
                segments.extend(text.render(console))
            else:  # the common case: one style for the whole cell
                style: Style | None = None
                if isinstance(text.style, str):
                    style = get_style(text.style, default="") if text.style else None
                else:
                    style = text.style
                segments.append(Segment(text.plain, style or None))
            segments.append(Segment(" " * (width - length) + pad, pad_style))
        return segments

    def render_line(self, y: int) -> Strip:
        # Textual's own path (see `render_lines`): unfiltered, not cached.
        row = -1 if y == 0 else self.scroll_offset.y + y - 1
        width = self.scrollable_content_region.width
        line = self._render_row(row, width, self._add_style)
        if line is None:
            return Strip.blank(width, self.rich_style)
        scroll_x = self.scroll_offset.x
        if scroll_x or line.cell_length != width:
            line = line.crop(scroll_x, scroll_x + width)  # lines are at least `width` long
        return line

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in `crop`, looked up rather than made.

        Textual's own path runs every line through its styles cache (borders, padding,
        tint, opacity) and makes a new `Strip` of each line whenever the view scrolls:
        half of the frame of a `pagedown`. This list has none of those, so its lines are
        made here as Textual would paint them (the app's line filters applied, padded to
        the widget's width under the scrollbar) and kept per row: a screenful of rows
        already made is a lookup per line. Anything that needs the styles cache (a border,
        say) takes Textual's path.
        """
        if not self._plain_box():
            return super().render_lines(crop)
        look = self._look()
        top = self.scroll_offset.y
        scroll_x = self.scroll_offset.x
        view_width, width, inner = look.view_width, look.width, look.inner
        painted = self._painted
        lines = []
        for y in crop.line_range:
            line = painted(-1 if y == 0 else top + y - 1, look) or self._blank
            if scroll_x or line.cell_length != view_width:
                line = line.crop(scroll_x, scroll_x + view_width)
            lines.append(line.adjust_cell_length(width, inner))  # kept on the line
        x1, x2 = crop.column_span
        if x1 or x2 != width:
            lines = [line.crop(x1, x2) for line in lines]
        return lines

    def _look(self) -> _Look:
        """What painted lines depend on besides their rows; the kept ones are dropped when
        it changes (a resize, a new theme)."""
        base, background = self.background_colors
        filters = tuple(self.get_line_filters())
        look = _Look(
            self.scrollable_content_region.width,
            self.size.width,
            inner_style(base, background),
            background,
            filters,
            all(type(line_filter) in _STYLE_FILTERS for line_filter in filters),
        )
        if look != self._strips_for:
            self._strips.clear()
            self._by_content, self._style_map = self._kept_for(look)
            self._strips_for = self._strips_look = look
            # The padding under the scrollbar and the lines past the last row, filtered as
            # the rows are.
            look = self._strips_look = look._replace(inner=self._map_style(look.inner, None))
            blank = self._map_style(self.rich_style, None)
            self._blank = Strip([Segment(" " * look.view_width, blank)], look.view_width)
        assert self._strips_look is not None
        return self._strips_look

    def _kept_for(self, look: _Look) -> tuple[LRUCache[Any, Strip], dict[Any, Style]]:
        """The lines and mapped styles kept for this look and the rows' present styles."""
        names = ("", "row-list--even", "row-list--cursor", "row-list--header")
        key = (look, *(self._style(name) for name in names))
        kept = self._looks.pop(key, None)
        if kept is None:
            kept = (LRUCache(CONTENT_KEPT), {})
            if len(self._looks) >= LOOKS_KEPT:
                del self._looks[next(iter(self._looks))]  # the least lately painted in
        self._looks[key] = kept
        return kept

    def _map_style(self, style: Style, over: Style | None) -> Style:
        """`over` on `style`, through the app's line filters when they only map styles."""
        key = (style, over)
        mapped = self._style_map.get(key)
        if mapped is None:
            mapped = style + over if over else style
            look = self._strips_look
            if look is not None and look.fused:
                for line_filter in look.filters:
                    filtered = line_filter.apply([Segment(" ", mapped)], look.background)
                    mapped = filtered[0].style or mapped
            self._style_map[key] = mapped
        return mapped

    @staticmethod
    def _add_style(style: Style, over: Style | None) -> Style:
        return style + over if over else style

    def _painted(self, row: int, look: _Look) -> Strip | None:
        """The line of a row (-1: the header) as painted, whole (not scrolled); kept."""
        line = self._strips.get(row)
        if line is None:
            content = None
            if 0 <= row < len(self._keys):
                # The same cells on a row of the same style paint the same line: a list read
                # again (a filter key and back, a reload, back from a post) finds it made.
                cells = self.get_row(self._keys[row])
                content = (self._row_style_name(row), _fingerprint(cells))
                line = self._by_content.get(content)
            if line is None:
                line = self._render_row(row, look.view_width, self._map_style)
                if line is None:
                    return None
                if not look.fused:
                    for line_filter in look.filters:
                        line = line.apply_filter(line_filter, look.background)
                if content is not None:
                    self._by_content.set(content, line)
            if len(self._strips) >= STRIPS_KEPT:
                self._forget_far_rows()
            self._strips[row] = line
        return line

    def _forget_far_rows(self) -> None:
        """Drop the painted rows far from the view (those just above and ahead stay)."""
        top = self.scroll_offset.y
        low, high = top - PREPARE_ROWS, top + self._visible_rows() + PREPARE_ROWS
        self._strips = {row: s for row, s in self._strips.items() if row == -1 or low <= row < high}

    def _row_style_name(self, row: int) -> str:
        """The component style of a row: the cursor's, an even row's or none."""
        if row == self._cursor_row:
            return "row-list--cursor"
        return "row-list--even" if row % 2 == 0 else ""

    def _style(self, name: str) -> Style:
        """The widget's style with a component's on top (computed once per restyle/focus)."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style
            if name:
                style = style + self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def _render_row(
        self, row: int, view_width: int, styled: Callable[[Style, Style | None], Style]
    ) -> Strip | None:
        """The whole line of a row (-1: the header), at least `view_width` long and not
        cropped, each segment's style `styled(row style, segment style)`; None past the end."""
        if row < 0:
            if not self._columns:
                return None
            segments = self._row_segments([label for label, _ in self._columns])
            style = self._style("row-list--header")
        else:
            if row >= len(self._keys):
                return None
            key = self._keys[row]
            cached = self._segments.get(key)
            if cached is None:
                cached = self._segments[key] = self._row_segments(self.get_row(key))
            segments = cached
            style = self._style(self._row_style_name(row))
        length = self._line_width()
        width = max(length, view_width)
        line = [Segment(text, styled(style, seg_style)) for text, seg_style, _ in segments]
        if width > length:
            line.append(Segment(" " * (width - length), styled(style, None)))
        return Strip(line, width)

    def _restyled(self) -> None:
        # The lines kept by content stay with the look they were painted in (`_kept_for`).
        self._styles.clear()
        self._strips.clear()
        self._strips_for = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyled()

    def on_focus(self) -> None:
        self._restyled()
        self.refresh()

    def on_blur(self) -> None:
        self._restyled()
        self.refresh()

    # -- cursor ---------------------------------------------------------------------

    @property
    def cursor_row(self) -> int:
        """The row index of the cursor."""
        return self._cursor_row

    @cursor_row.setter
    def cursor_row(self, row: int) -> None:
        self.move_cursor(row=row)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None when the list is empty)."""
        if not self._keys:
            return None
        return self._keys[self._cursor_row]

    def wants_rows(self) -> bool:
        """Fewer than a screenful (and PREFETCH_ROWS) are loaded past the view or the cursor.

        The owner fetches its next page then, so paging down shows rows that are already
        there instead of waiting for the database.
        """
        rows = len(self._keys)
        below_view = rows - (self.scroll_offset.y + self._visible_rows())
        below_cursor = rows - 1 - self._cursor_row
        return min(below_view, below_cursor) < self._visible_rows() + PREFETCH_ROWS

    def wants_rows_above(self) -> bool:
        """`wants_rows` for a list that grows upwards (see `insert_rows_at_top`)."""
        return min(self.scroll_offset.y, self._cursor_row) < self._visible_rows() + PREFETCH_ROWS

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on a row (clamped to the rows) and keep it in view."""
        self._ahead = None
        self._move(row, scroll)

    def _loaded_rows(self) -> int:
        return len(self._keys)

    def _cursor_at(self) -> int:
        return self._cursor_row

    def _show_row(self, row: int, top: int | None) -> None:
        if top is not None:
            self.scroll_to(y=top, animate=False, immediate=True)
        self._move(row, True)

    def _move(self, row: int, scroll: bool) -> None:
        new = max(0, min(row, len(self._keys) - 1))
        old, self._cursor_row = self._cursor_row, new
        top = self.scroll_offset.y
        if scroll:
            self._keep_in_view(new)
        if old != new:
            self._strips.pop(old, None)
            self._strips.pop(new, None)
            if self.scroll_offset.y == top:
                # The view stayed: only the two rows' lines change (line 0 is the header),
                # so the frame renders two lines, not the whole list.
                self.refresh_lines(old + 1)
                self.refresh_lines(new + 1)
            else:
                self.refresh()
            if self._keys:
                self.post_message(self.RowHighlighted(self, new, self._keys[new]))

    def action_cursor_up(self) -> None:
        """Cursor one row up."""
        self._go(self._intended()[0] - 1, None)

    def action_cursor_down(self) -> None:
        """Cursor one row down."""
        self._go(self._intended()[0] + 1, None)

    def action_page(self, direction: int) -> None:
        """The view and the cursor a page up or down (the cursor keeps its place on screen)."""
        visible = self._visible_rows()
        row, top = self._intended()
        self._go(row + direction * visible, top + direction * visible)

    def action_edge(self, last: bool) -> None:
        """Cursor to the first or last row."""
        self.move_cursor(row=len(self._keys) - 1 if last else 0)

    def action_select(self) -> None:
        """Choose the row under the cursor."""
        if self._keys:
            self.post_message(
                self.RowSelected(self, self._cursor_row, self._keys[self._cursor_row])
            )

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to the row; a click on the cursor's row chooses it."""
        if event.y < 1:
            return
        row = self.scroll_offset.y + event.y - 1
        if row < len(self._keys):
            event.stop()
            if row == self._cursor_row:
                self.action_select()
            else:
                self.move_cursor(row=row)


__all__ = ["RowList"]
