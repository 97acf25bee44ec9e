"""The footer: the screen's main keys on one line, clickable, cut whole when narrow."""

from __future__ import annotations

from contextlib import asynccontextmanager

from support.moderation_fixtures import settle
from support.screen import screen_text
from support.shell_fixtures import build_fleet
from tursotui.ui.app import make_app
from tursotui.ui.screens.help import HelpScreen
from tursotui.ui.screens.tenants import TenantsScreen
from tursotui.ui.widgets.footer import KeysFooter


@asynccontextmanager
async def tenants_app(size: tuple[int, int]):
    """The app on a small fleet, its tenants screen settled."""
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        yield app, pilot
        app.exit()


def footer_line(app) -> str:
    return screen_text(app).splitlines()[app.size.height - 1]


async def test_footer_shows_the_screens_keys_and_the_palette_key() -> None:
    async with tenants_app((100, 24)) as (app, pilot):
        line = footer_line(app)
        for shown in ("/ Filter", "r Refresh", "? Help", "q Quit"):
            assert shown in line
        assert line.rstrip().endswith("^p palette")
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Filter" not in footer_line(app)  # the help screen's own keys now


async def test_a_click_on_a_footer_key_runs_it() -> None:
    async with tenants_app((100, 24)) as (app, pilot):
        assert isinstance(app.screen, TenantsScreen)
        x = footer_line(app).index("? Help")
        await pilot.click(KeysFooter, offset=(x + 2, 0))
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_keys_that_do_not_fit_are_left_out_whole_and_the_palette_key_stays() -> None:
    async with tenants_app((44, 20)) as (app, _pilot):
        line = footer_line(app)
        assert line.rstrip().endswith("^p palette")
        assert "/ Filter" in line and "q Quit" not in line
        keys = line[: line.index("▏")].rstrip()
        assert keys.endswith(("Filter", "Refresh", "New", "Fleet", "Help"))


async def test_the_footer_follows_the_focus_into_the_filter_box_and_back() -> None:
    """The box's keys while it has the focus, the list's again after escape, each time (the
    lines are kept by what they show), and a click still runs the key under it."""
    async with tenants_app((100, 24)) as (app, pilot):
        listing = footer_line(app)
        await pilot.press("slash")
        await settle(app, pilot)
        typing = footer_line(app)
        assert typing != listing
        for _ in range(2):
            await pilot.press("escape")
            await settle(app, pilot)
            assert footer_line(app) == listing
            await pilot.press("slash")
            await settle(app, pilot)
            assert footer_line(app) == typing
        await pilot.press("escape")
        await settle(app, pilot)
        x = footer_line(app).index("? Help")
        await pilot.click(KeysFooter, offset=(x + 2, 0))
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
