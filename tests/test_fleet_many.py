"""The fleet screen on thousands of local tenants: the rows shown as they arrive, and the
keys typed meanwhile answered at once."""

from __future__ import annotations

import re

from support.keys import burst
from support.moderation_fixtures import settle
from support.screen import screen_text, until
from support.shell_fixtures import copied_fleet
from test_tenants_many import LoopWatch
from tursotui.ui.app import make_app
from tursotui.ui.screens.fleet import FleetScreen

TENANTS = 1500
SIZE = re.compile(r" \d+\.\dK\b")
"""A storage cell: the file's size (each tenant is a copy of a 56 KiB file)."""


ROW = re.compile(r" t\d{4} +(ok|…) ")
"""A line of the table: a tenant's slug, then its state (answered, or still asked)."""


def _row_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if ROW.match(line)]


async def test_keys_typed_while_the_fleet_loads_land_and_the_rows_show_as_they_come() -> None:
    fleet = await copied_fleet(TENANTS)
    app = make_app(fleet.settings)
    async with app.run_test(size=(160, 40)) as pilot:
        tenants = app.screen
        await until(pilot, lambda: tenants.table.row_count == TENANTS, timeout=60)
        burst(app, "f")
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), timeout=30)
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        table = screen.table
        await until(pilot, lambda: table.row_count == TENANTS and len(screen.rows) > 0, timeout=60)
        # While the tenants answer, the list is on screen (never a spinner in its place)
        # with the progress line.
        seen: list[tuple[bool, str]] = []

        def rows_shown() -> bool:
            """Whether the rows are on screen, noting if the tenants were still asked; or
            whether they no longer are (nothing more to wait for)."""
            asking = screen.asking
            text = screen_text(app)
            if len(_row_lines(text)) > 30:
                seen.append((asking, text))
                return True
            return not asking

        await until(pilot, rows_shown)
        assert seen, f"no rows shown:\n{screen_text(app)}"
        asking, text = seen[0]
        assert asking, "the rows showed only once every tenant had answered"
        assert "answered" in text and "asking" in text, text
        watch = LoopWatch()  # (after the screenshots: each holds the loop for a while)
        try:
            # Keys typed meanwhile move the cursor at once.
            burst(app, "down", "down", "down")
            await until(pilot, lambda: table.cursor_row == 3)
            assert screen.asking or len(screen.usage) < TENANTS, "the fleet loaded first"
            burst(app, "j", "k", "down")
            await until(pilot, lambda: table.cursor_row == 4)
            await until(
                pilot,
                lambda: not screen.asking and len(screen.usage) == TENANTS,
                timeout=120,
            )
            longest = watch.stop()
        finally:
            watch.stop()
        await settle(app, pilot)
        text = screen_text(app)
        assert f"{TENANTS}/{TENANTS:,} tenants answered" in text, text
        # Every row in view shows its answer and its file's size (the storage column).
        shown = _row_lines(text)
        assert shown and all(" ok " in line and SIZE.search(line) for line in shown), shown
        assert table.cursor_row == 4
        # Generous for a loaded CI machine: a paint or a bookkeeping step of 1,500 rows held
        # in one callback would be far longer on one.
        assert longest < 0.25, f"the loop stalled {longest * 1000:.0f} ms"
