"""What the line-based lists (`ResultGrid`, `RowList`) share about scrolling."""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.color import Color
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.style import Style as VisualStyle

LINES_KEPT = 64
"""Painted scrollbar lines remembered (a bar has a handful of distinct ones)."""
SIZES_KEPT = 4
"""Sizes (and styles) of a bar whose painted lines are remembered: a list that a filter box
shortens and gives back finds its bar's lines painted at both heights."""


@lru_cache(maxsize=64)
def inner_style(base: Color, background: Color) -> Style:
    """What Textual pads a widget's short lines with (its background over its parent's)."""
    return VisualStyle(background=base + background).rich_style


class LineScrollBar(ScrollBar):
    """Textual's scrollbar, its lines painted directly and (vertical) looked up after.

    Textual paints a scrollbar through rich's whole render pipeline, every line of it, each
    time its thumb moves or its range changes: a third of the frame of a `pagedown` on a
    50-line list. The bar's segments are worked out as Textual does
    (`ScrollBarRender.render_bar`) and painted directly: a line is its segments' styles
    over the bar's, padded and filtered as Textual does. Every line of a vertical bar is
    one of a few segments (the track above, the thumb, its two ends, the track below), so
    each is painted once per style; a horizontal bar is one line repeated, kept as well (a
    grid showing results of the same width again, or scrolled back, finds it painted).

    The first paint in a style is also made by Textual itself and compared line by line;
    if they differ at all (a Textual that paints bars otherwise), the bar's lines come
    from Textual's own render from then on.
    """

    _painted: dict[tuple[Segment, ...], Strip]
    _painted_for: object
    _direct: bool | None
    _kept: dict[object, tuple[dict[tuple[Segment, ...], Strip], bool | None]]

    @classmethod
    def adopt(cls, bar: ScrollBar) -> ScrollBar:
        """Make Textual's `bar` paint this way (the same widget, the same state)."""
        if type(bar) is ScrollBar:
            bar.__class__ = cls
            assert isinstance(bar, LineScrollBar)
            bar._forget()
        return bar

    def _forget(self, context: object = None) -> None:
        """Paint for `context` (size, style, background, line filters) from now on, with the
        lines lately painted for it if any (and none for the same context again: too many)."""
        kept = getattr(self, "_kept", None)
        if kept is None or context is None:
            kept = self._kept = {}
        elif self._painted_for is not None and self._painted_for != context:
            kept[self._painted_for] = (self._painted, self._direct)
            while len(kept) > SIZES_KEPT:
                del kept[next(iter(kept))]  # the least lately painted for
        self._painted, self._direct = kept.pop(context, ({}, None))
        self._painted_for = context
        self._last: list[Strip] = []
        self._last_for: object = None

    def _bar_lines(self, renderer: ScrollBarRender) -> list[tuple[Segment, ...]] | None:
        """The bar's segments on each line, as `renderer` makes them (None: in a way not
        known here)."""
        width, height = self.size
        style = self.app.console.get_style(renderer.style)
        if style.bgcolor is None or style.color is None:
            return None
        length, thickness = (height, width) if self.vertical else (width, height)
        bar = renderer.render_bar(
            size=length,
            window_size=renderer.window_size,
            virtual_size=renderer.virtual_size,
            position=renderer.position,
            thickness=thickness,
            vertical=self.vertical,
            back_color=style.bgcolor,
            bar_color=style.color,
        )
        segments = list(bar.segments)
        if self.vertical:
            return [(segment,) for segment in segments] if len(segments) == height else None
        if len(segments) != (width + 1) * height:  # each line ends in a newline
            return None
        return [tuple(segments[:width])] * height

    def _paint(self, segments: tuple[Segment, ...]) -> Strip:
        """One line of the bar, as Textual's render of it would be."""
        base = self.visual_style.rich_style
        line = Strip(
            [Segment(text, base + style if style else base) for text, style, _ in segments],
            sum(len(text) for text, _, _ in segments),
        )
        width = self.size.width
        line = line.adjust_cell_length(width, None) if line.cell_length != width else line
        _, background = self.background_colors
        for line_filter in self.get_line_filters():
            line = line.apply_filter(line_filter, background)
        return line

    def render_lines(self, crop: Region) -> list[Strip]:
        renderer = self.render()
        if type(renderer) is not ScrollBarRender:
            return super().render_lines(crop)
        context = (
            self.size,
            self.visual_style,
            self.background_colors,
            tuple(self.get_line_filters()),
            renderer.virtual_size,
            renderer.window_size,
            renderer.position,
            renderer.thickness,
            renderer.style,
        )
        if context == self._last_for:
            # The same bar as the last frame (a frame of another widget that covers it).
            whole = self._last
        else:
            bar = self._bar_lines(renderer)
            if bar is None:
                return super().render_lines(crop)
            if context[:4] != self._painted_for or len(self._painted) > LINES_KEPT:
                self._forget(context[:4])
            painted = self._painted
            missing = [line for line in dict.fromkeys(bar) if line not in painted]
            if missing:
                if self._direct is None:
                    textual = super().render_lines(self.size.region)
                    self._direct = textual == [self._paint(line) for line in bar]
                    painted.update(zip(bar, textual, strict=True))
                elif self._direct:
                    painted.update((line, self._paint(line)) for line in missing)
                else:
                    painted.update(zip(bar, super().render_lines(self.size.region), strict=True))
            whole = [painted[line] for line in bar]
            self._last, self._last_for = whole, context
        lines = whole[crop.y : crop.bottom]
        x1, x2 = crop.column_span
        if x1 or x2 != self.size.width:
            lines = [line.crop(x1, x2) for line in lines]
        return lines


def _scrollbars(view: ScrollView, size: Size) -> tuple[bool, bool]:
    """Which scrollbars (horizontal, vertical) Textual shows for this virtual size."""
    styles = view.styles
    width, height = view.container_size
    overflow_x, overflow_y = styles.overflow_x, styles.overflow_y
    horizontal = overflow_x == "scroll" or (overflow_x == "auto" and size.width > width)
    vertical = overflow_y == "scroll" or (overflow_y == "auto" and size.height > height)
    # One scrollbar takes room from the other direction (as `Widget._refresh_scrollbars`).
    if overflow_x == "auto" and vertical and not horizontal:
        horizontal = size.width > width - styles.scrollbar_size_vertical
    if overflow_y == "auto" and horizontal and not vertical:
        vertical = size.height > height - styles.scrollbar_size_horizontal
    return horizontal, vertical


def set_virtual_size(view: ScrollView, size: Size) -> bool:
    """Give `view` a new virtual size, without a new layout of the screen when possible.

    When the same scrollbars show before and after (a list growing past a screenful that
    already has its scrollbar, a result grid whose scrollbars always show, a list read
    again and as long), only the scrollbars' ranges change; setting `virtual_size` would
    lay out the whole screen again, a stall per page of rows and 5-10 ms of each key that
    shows a new list. Anything else (a first size, a scrollbar appearing or going, a view
    whose own size follows its content) takes a layout.

    Returns:
        True when the screen was laid out again (the view repaints whole).
    """
    old = view.virtual_size
    shown = (view.show_horizontal_scrollbar, view.show_vertical_scrollbar)
    styles = view.styles
    if (
        old.width
        and old.height
        and view.container_size
        and not (styles.width is not None and styles.width.is_auto)
        and not (styles.height is not None and styles.height.is_auto)
        and _scrollbars(view, old) == shown == _scrollbars(view, size)
    ):
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
        """Textual's vertical scrollbar, painting its lines itself (`LineScrollBar`)."""
        return LineScrollBar.adopt(super().vertical_scrollbar)

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        """Textual's horizontal scrollbar, painting its line itself (`LineScrollBar`)."""
        return LineScrollBar.adopt(super().horizontal_scrollbar)

    def _plain_box(self) -> bool:
        """No border, padding, outline, hatch, tint or opacity: nothing but the lines.

        Such a view can paint its lines itself (`render_lines`) as Textual would, without
        Textual's styles cache, which makes a new `Strip` of every line on every scroll.
        """
        styles = self.styles
        return (
            not any(styles.gutter)
            and not any(edge for edge, _ in styles.outline)
            and not styles.tint.a
            and styles.text_opacity == 1
            and not (styles.has_rule("hatch") and styles.hatch != "none")
            and self.opacity == 1
        )

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
