"""What the terminal shows, for assertions: the screen as plain text, and as terminal bytes.

`screen_text` reads Textual's public screenshot (`App.export_screenshot`, an SVG written by
rich) back into lines of text, so what a test asserts is exactly what a screenshot shows, every
layer included (a modal over its screen). rich writes one `<text>` element per run of styled
text, clipped to its line (`line-N`) and placed at `x = column * char_width`.
"""

from __future__ import annotations

import html
import io
import re
import time

from rich.cells import cell_len
from rich.console import Console
from textual.app import ScreenStackError

_TEXT = re.compile(
    r'<text [^>]*x="([0-9.e+-]+)" [^>]*clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>'
)
_CHAR_WIDTH = 0.61 * 20
"""rich's `export_svg` cell width: 0.61 of its default font size (20)."""


def screen_text(app) -> str:
    """What the terminal shows now, as plain text: one line per row, trailing spaces removed."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, row, content in _TEXT.findall(app.export_screenshot()):
        column = round(float(x) / _CHAR_WIDTH)
        line = rows[int(row)]
        for char in html.unescape(content).replace("\xa0", " "):
            if column >= width:
                break
            line[column] = char
            # A wide character fills two cells; the second stays empty in the text.
            cells = cell_len(char)
            for extra in range(1, cells):
                if column + extra < width:
                    line[column + extra] = ""
            column += max(cells, 1)
    return "\n".join("".join(line).rstrip() for line in rows)


def terminal_bytes(app) -> str:
    """The current screen as a terminal would receive it (colours as SGR, lines placed by CSI H).

    Textual has no public way to get these bytes; this renders the screen as
    `App.export_screenshot` does (same private compositor call) into a terminal console,
    so tests can check no escape sequence from untrusted content reaches the terminal.
    """
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True,
        color_system="truecolor", legacy_windows=False, safe_box=False,
    )  # fmt: skip
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.file.getvalue()  # type: ignore[attr-defined]


async def until(pilot, predicate, timeout: float = 20.0) -> None:
    """Pause until `predicate()` holds and the screen on top has its widgets; past `timeout`
    seconds, fail showing the screen.

    The timeout is a ceiling for a loaded machine, not a wait: polling returns as soon as
    the condition holds.
    """
    deadline = time.monotonic() + timeout
    while not (predicate() and _composed(pilot.app)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the screen shows:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)


def _composed(app) -> bool:
    """Whether the screen on top has composed and mounted its widgets. A pushed screen is
    on the stack before its own task has composed it: a test that saw it there and looked
    for a widget at once found none (seen once, on CI's loaded machine)."""
    try:
        return app.screen.is_mounted
    except ScreenStackError:  # no screen: the app has closed, which some tests wait for
        return True
