"""What the line-based lists (`ResultGrid`, `RowList`) share about scrolling."""

from __future__ import annotations

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
