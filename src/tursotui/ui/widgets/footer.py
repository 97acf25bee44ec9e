"""Textual's Footer, rebuilt only when the keys it shows change.

Textual's `Footer` recomposes (removes and mounts a widget per key, each styled by the
whole stylesheet) on every `bindings_updated` signal, and a screen sends several of those
while it opens (resume, focus, after-refresh callbacks): about five rebuilds of the same
keys per opened screen, the largest single cost of opening the posts screen after its
table (B4.first_page_ms). This footer queues at most one rebuild at a time and skips it
when the keys, their state and tooltips are what it already shows, which is exactly
when a rebuild would compose the same widgets again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen


class KeysFooter(Footer):
    """A `Footer` that rebuilds only when what it would show changes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        """What the keys looked like when last composed."""
        self._queued = False

    def _signature(self) -> tuple:
        bindings = self.screen.active_bindings
        return (
            tuple(
                (binding, enabled, tooltip)
                for (_, binding, enabled, tooltip) in bindings.values()
                if binding.show
            ),
            self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE,
            self.app.COMMAND_PALETTE_BINDING in bindings
            and bindings[self.app.COMMAND_PALETTE_BINDING][1:],
        )

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # A FooterKey starts compact and is then bound to the footer's `compact`:
            # two restylings per key for nothing unless it starts as it will end. (The
            # command palette's key is not bound: it stays compact.)
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._queued:
            self._queued = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._queued = False
        if not self.is_attached or not self.screen.is_current:
            return  # a screen that comes back sends the signal again
        signature = self._signature()
        if signature != self._shown:
            self._shown = signature
            await self.recompose()


__all__ = ["KeysFooter"]
