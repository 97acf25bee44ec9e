"""The app's side of a painted first frame (see `session.first_frame`): taking the terminal
over without clearing it, and keeping this start's first frame for the next one."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from textual import constants

from tursotui.session.first_frame import ALT_SCREEN, Painted, Stamp, keep

if TYPE_CHECKING:
    from textual.app import App
    from textual.driver import Driver


def driver_over(painted: Painted) -> type[Driver] | None:
    """Textual's terminal driver, except that it does not enter the alternate screen the
    painted frame is already on: entering it again clears it, and the terminal would show
    nothing until the app's first frame. None where Textual would not use its Linux driver."""
    if sys.platform == "win32" or constants.DRIVER is not None:
        return None
    from textual.drivers.linux_driver import LinuxDriver

    class OverPainted(LinuxDriver):
        def start_application_mode(self) -> None:
            super().start_application_mode()
            # What Textual gives back when it stops (quitting, ctrl+z) is what it found:
            # the painted frame's echo-less terminal, not the user's.
            if painted.attributes is not None:
                self.attrs_before = painted.attributes

        def write(self, data: str) -> None:
            if data == ALT_SCREEN and not painted.taken:
                painted.taken = True  # from here on, leaving the alternate screen is the app's
                return
            super().write(data)

    return OverPainted


def screen_text(app: App) -> str:
    """What the terminal shows now, as Textual writes a whole screen: each line after a
    move to its start (Textual has no public call that renders the screen to text, so this
    asks the screen's compositor for its lines; a test compares them with the terminal)."""
    console = app.console
    lines = app.screen._compositor.render_strips()
    return "".join(f"\x1b[{y};1H{line.render(console)}" for y, line in enumerate(lines, 1))


def keep_frame(app: App, made_of: Stamp) -> None:
    """Keep what the terminal shows now as the first frame of the starts with `made_of`."""
    keep(screen_text(app), made_of, (app.size.width, app.size.height))
