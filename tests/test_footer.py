"""The footer: the screen's main keys on one line, clickable, cut whole when narrow."""

from __future__ import annotations

from shell_fixtures import build_fleet, screen_text
from tursotui.ui.app import make_app
from tursotui.ui.screens.help import HelpScreen
from tursotui.ui.screens.tenants import TenantsScreen
from tursotui.ui.widgets.footer import KeysFooter


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def footer_line(app) -> str:
    return screen_text(app).splitlines()[app.size.height - 1]


async def test_footer_shows_the_screens_keys_and_the_palette_key() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        line = footer_line(app)
        for shown in ("/ Filter", "r Refresh", "? Help", "q Quit"):
            assert shown in line
        assert line.rstrip().endswith("^p palette")
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Filter" not in footer_line(app)  # the help screen's own keys now
        app.exit()


async def test_a_click_on_a_footer_key_runs_it() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TenantsScreen)
        x = footer_line(app).index("? Help")
        await pilot.click(KeysFooter, offset=(x + 2, 0))
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        app.exit()


async def test_keys_that_do_not_fit_are_left_out_whole_and_the_palette_key_stays() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(44, 20)) as pilot:
        await settle(app, pilot)
        line = footer_line(app)
        assert line.rstrip().endswith("^p palette")
        assert "/ Filter" in line and "q Quit" not in line
        keys = line[: line.index("▏")].rstrip()
        assert keys.endswith(("Filter", "Refresh", "New", "Fleet", "Help"))
        app.exit()
