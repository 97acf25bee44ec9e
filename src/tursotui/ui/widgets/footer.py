"""The footer: the current screen's main keys on one line, each clickable.

Why not Textual's `Footer`: it is a container that removes and mounts one widget per
key whenever the screen's bindings change (when a screen opens, when focus moves), and
each mounted key is styled by the whole stylesheet: 40-50 ms per rebuild here, and a
screen sends several while it opens (B4.first_page_ms), or when focus moves from the
SQL editor to its results (B6.stall_ms). This footer is one widget that renders one
line of text: a change of keys is a repaint.

It looks and behaves like `Footer`: keys in the footer-key colours, descriptions after
them, disabled keys dim, the command palette key on the right; a click runs the key
(a disabled key rings the bell); the key under the mouse is highlighted and its tooltip
is the footer's.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

_Key = tuple[str, str, str, bool, str]
"""A key to show: (key, its display, description, enabled, tooltip)."""

LINES_KEPT = 4
"""Lines kept by what they show: the keys of a screen with a filter box and of the box
itself, shown in turn at every `/` and `escape`, are each rendered once."""


class _Shown(NamedTuple):
    """One key as shown: its cells on the line and what a click does."""

    start: int
    end: int
    key: str
    enabled: bool
    tooltip: str


class KeysFooter(Widget, can_focus=False):
    """The keys of the current screen that have `show=True`, and the palette key."""

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .keys-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keys-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keys-footer--hover { background: $block-hover-background; }
        & > .keys-footer--separator { color: $foreground 20%; }
    }
    """
    COMPONENT_CLASSES = {
        "keys-footer--key",
        "keys-footer--description",
        "keys-footer--hover",
        "keys-footer--separator",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: list[_Shown] = []
        self._hover: int | None = None
        """Index in `_shown` of the key under the mouse."""
        self._lines: dict[tuple[object, ...], tuple[Strip, list[_Shown]]] = {}
        """Rendered lines (and where each key is on them) by what they were rendered from."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen) -> None:
        self.refresh()

    def _keys(self) -> tuple[list[_Key], _Key | None]:
        """The shown keys, one per action as `Footer` (`up,k` shows once); the palette's apart."""
        app = self.app
        bindings = self.screen.active_bindings

        def key(binding: Binding, enabled: bool, tooltip: str) -> _Key:
            return (
                binding.key,
                app.get_key_display(binding),
                binding.description,
                enabled,
                tooltip,
            )

        keys = []
        actions = set()
        for _, binding, enabled, tooltip in bindings.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(key(binding, enabled, tooltip or binding.tooltip))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in bindings:
            _, binding, enabled, _ = bindings[app.COMMAND_PALETTE_BINDING]
            palette = key(binding, enabled, binding.tooltip or binding.description)
        return keys, palette

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines = {}

    def render_line(self, y: int) -> Strip:
        # A Strip straight from the line's segments, kept by what it shows (the last few):
        # a Text returned from `render` would go through Textual's content pipeline on
        # every repaint of the screen (a few ms).
        width = self.size.width
        keys, palette = self._keys()
        made_from = (width, self._hover, tuple(keys), palette)
        kept = self._lines.pop(made_from, None)
        if kept is None:
            segments = self._text(width, keys, palette).render(self.app.console)
            strip = Strip(segments).extend_cell_length(width).crop(0, width)
            kept = (strip.apply_style(self.rich_style), self._shown)
            if len(self._lines) >= LINES_KEPT:
                del self._lines[next(iter(self._lines))]  # the least lately shown
        self._lines[made_from] = kept
        line, self._shown = kept
        return line

    def _text(self, width: int, keys: list[_Key], palette: _Key | None) -> Text:
        """The line: the keys, and the palette key on the right."""
        key_style = self.get_component_rich_style("keys-footer--key", partial=True)
        description_style = self.get_component_rich_style("keys-footer--description", partial=True)
        hover_style = self.get_component_rich_style("keys-footer--hover", partial=True)
        line = Text(no_wrap=True, overflow="crop", end="")
        shown: list[_Shown] = []

        def add(entry: _Key) -> None:
            key, display, description, enabled, tooltip = entry
            start = line.cell_len
            line.append(f" {display} ", style=key_style)
            if description:
                line.append(f"{description} ", style=description_style)
            if not enabled:
                line.stylize("dim", start)
            if self._hover == len(shown):
                line.stylize(hover_style, start)
            shown.append(_Shown(start, line.cell_len, key, enabled, tooltip))

        for entry in keys:
            add(entry)
        if palette is not None:
            _, display, description, _, _ = palette
            room = max(0, width - (1 + cell_len(display) + cell_len(description) + 3))
            if line.cell_len > room:  # the palette key stays; keys that do not fit go
                shown = [s for s in shown if s.end <= room]
                line.truncate(shown[-1].end if shown else 0)
            line.pad_right(room - line.cell_len)
            line.append("▏", style=self.get_component_rich_style("keys-footer--separator"))
            add(palette)
        self._shown = shown
        return line

    def _at(self, x: int) -> int | None:
        for index, shown in enumerate(self._shown):
            if shown.start <= x < shown.end:
                return index
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._at(event.x)
        if index != self._hover:
            self._hover = index
            self.tooltip = self._shown[index].tooltip if index is not None else None
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._at(event.x)
        if index is None:
            return
        shown = self._shown[index]
        if shown.enabled:
            self.app.simulate_key(shown.key)
        else:
            self.app.bell()


__all__ = ["KeysFooter"]
