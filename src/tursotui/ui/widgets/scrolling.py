"""What the line-based lists (`ResultGrid`, `RowList`) share about scrolling."""

from __future__ import annotations

from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

LINES_KEPT = 64
"""Painted scrollbar lines remembered (a bar has a handful of distinct ones)."""


class LineScrollBar(ScrollBar):
    """Textual's vertical scrollbar, its lines painted once and looked up after.

    Textual paints a scrollbar through rich's whole render pipeline, every line of it, each
    time its thumb moves: a third of the frame of a `pagedown` on a 50-line list. Every
    line of a vertical bar is one of a few segments (the track above, the thumb, its two
    ends, the track below), painted the same wherever it is. So the segments are worked
    out as Textual does (`ScrollBarRender.render_bar`) and each is painted once per style.

    A segment is painted directly (its style over the bar's, padded and filtered as
    Textual does); the first paint in a style is also made by Textual itself and compared
    line by line, and if they differ at all (a Textual that paints bars otherwise), the
    bar's lines come from Textual's own render from then on.
    """

    _painted: dict[Segment, Strip]
    _painted_for: object
    _direct: bool | None

    @classmethod
    def adopt(cls, bar: ScrollBar) -> ScrollBar:
        """Make Textual's vertical `bar` paint this way (the same widget, the same state)."""
        if type(bar) is ScrollBar and bar.vertical:
            bar.__class__ = cls
            assert isinstance(bar, LineScrollBar)
            bar._forget()
        return bar

    def _forget(self, context: object = None) -> None:
        self._painted, self._painted_for, self._direct = {}, context, None

    def _bar_segments(self) -> list[Segment] | None:
        """The bar's segment per line, as Textual's renderer makes them (None: not a bar)."""
        renderer = self.render()
        if type(renderer) is not ScrollBarRender:
            return None
        width, height = self.size
        style = self.app.console.get_style(renderer.style)
        if style.bgcolor is None or style.color is None:
            return None
        bar = renderer.render_bar(
            size=height,
            window_size=renderer.window_size,
            virtual_size=renderer.virtual_size,
            position=renderer.position,
            thickness=width,
            vertical=True,
            back_color=style.bgcolor,
            bar_color=style.color,
        )
        segments = list(bar.segments)
        return segments if len(segments) == height else None

    def _paint(self, segment: Segment) -> Strip:
        """One line of the bar, as Textual's render of it would be."""
        text, style, _ = segment
        base = self.visual_style.rich_style
        line = Strip([Segment(text, base + style if style else base)], len(text))
        width = self.size.width
        line = line.adjust_cell_length(width, None) if line.cell_length != width else line
        _, background = self.background_colors
        for line_filter in self.get_line_filters():
            line = line.apply_filter(line_filter, background)
        return line

    def render_lines(self, crop: Region) -> list[Strip]:
        segments = self._bar_segments()
        if segments is None:
            return super().render_lines(crop)
        context = (
            self.size,
            self.visual_style,
            self.background_colors,
            tuple(self.get_line_filters()),
        )
        if context != self._painted_for or len(self._painted) > LINES_KEPT:
            self._forget(context)
        painted = self._painted
        missing = [segment for segment in dict.fromkeys(segments) if segment not in painted]
        if missing:
            if self._direct is None:
                textual = super().render_lines(self.size.region)
                self._direct = textual == [self._paint(segment) for segment in segments]
                painted.update(zip(segments, textual, strict=True))
            elif self._direct:
                painted.update((segment, self._paint(segment)) for segment in missing)
            else:
                painted.update(zip(segments, super().render_lines(self.size.region), strict=True))
        lines = [painted[segments[y]] for y in crop.line_range]
        x1, x2 = crop.column_span
        if x1 or x2 != self.size.width:
            lines = [line.crop(x1, x2) for line in lines]
        return lines


def set_virtual_size(view: ScrollView, size: Size) -> bool:
    """Give `view` a new virtual size, without a new layout of the screen when possible.

    Growing or shrinking while a scrollbar is shown before and after changes only that
    scrollbar's range; setting `virtual_size` would lay out the whole screen again, a stall
    per page of rows (or per list read again). Anything else (a first size, a scrollbar
    appearing or going) takes a layout.

    Returns:
        True when the screen was laid out again (the view repaints whole).
    """
    old = view.virtual_size
    region = view.scrollable_content_region
    wider_ok = size.width == old.width or (old.width > region.width and size.width > region.width)
    taller_ok = size.height == old.height or (
        old.height > region.height and size.height > region.height
    )
    if wider_ok and taller_ok and old.width and old.height:
        view.set_reactive(ScrollView.virtual_size, size)
        if size.height != old.height:
            view.vertical_scrollbar.window_virtual_size = size.height
        if size.width != old.width:
            view.horizontal_scrollbar.window_virtual_size = size.width
        if size.height < old.height or size.width < old.width:
            # Shorter: the view may now start past the end (a layout would clamp it).
            x, y = view.scroll_offset
            view.scroll_to(
                min(x, view.max_scroll_x), min(y, view.max_scroll_y), animate=False, immediate=True
            )
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

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's vertical scrollbar, painting its lines from a cache (`LineScrollBar`)."""
        return LineScrollBar.adopt(super().vertical_scrollbar)

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
