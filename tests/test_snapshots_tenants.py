"""Snapshots of the app shell and the tenants screen at 80x24 and 160x50.

Latencies are pinned (they differ from run to run) and the cursor does not blink;
everything else is the real app on a real local fleet.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

import tursotui.ui.screens.tenants as tenants_module
from support.shell_fixtures import build_fleet
from tursotui.ui.app import make_app

NARROW = (80, 24)
WIDE = (160, 50)


@pytest.fixture
def fleet_settings(monkeypatch: pytest.MonkeyPatch):
    """A fleet of three seeded tenants, one hostile one, a broken row, with pinned latencies."""
    real_probe_all = tenants_module.probe_all

    async def pinned_probe_all(*args, **kwargs):
        async for health in real_probe_all(*args, **kwargs):
            latency = None if health.latency_ms is None else 3.0
            yield dataclasses.replace(health, latency_ms=latency)

    monkeypatch.setattr(tenants_module, "probe_all", pinned_probe_all)
    fleet = asyncio.run(
        build_fleet(slugs=("acme", "globex", "initech"), hostile=True, unmigrated=True)
    )
    return fleet.settings


async def loaded(pilot: Pilot) -> None:
    """Wait until every tenant answered, and stop the cursors blinking."""
    app = pilot.app
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    for box in app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


class TestTenantsScreen:
    def test_fleet_narrow(self, snap_compare, fleet_settings) -> None:
        """80x24: slug, location marker, health, counts per status and schema of every tenant."""
        assert snap_compare(make_app(fleet_settings), terminal_size=NARROW, run_before=loaded)

    def test_fleet_wide(self, snap_compare, fleet_settings) -> None:
        """160x50: the names column appears; the hostile name is shown literally."""
        assert snap_compare(make_app(fleet_settings), terminal_size=WIDE, run_before=loaded)

    def test_filter_narrow(self, snap_compare, fleet_settings) -> None:
        """`/` then typing: only matching tenants remain, the filter box shows what was typed."""

        async def run_before(pilot: Pilot) -> None:
            await loaded(pilot)
            await pilot.press("slash", *"glo")
            pilot.app.screen.query_one(Input).cursor_blink = False
            await pilot.pause()

        assert snap_compare(make_app(fleet_settings), terminal_size=NARROW, run_before=run_before)

    def test_broken_row_wide(self, snap_compare, fleet_settings) -> None:
        """A broken registry row, highlighted: its reason in the table and in the detail line."""
        assert snap_compare(
            make_app(fleet_settings),
            terminal_size=WIDE,
            run_before=loaded,
            press=["down", "down"],
        )

    def test_read_only_narrow(self, snap_compare, fleet_settings) -> None:
        """Read-only mode: the header says READ-ONLY on the tenants screen too."""
        settings = dataclasses.replace(fleet_settings, read_only=True)
        assert snap_compare(make_app(settings), terminal_size=NARROW, run_before=loaded)


class TestHelpScreen:
    def test_tenants_help_narrow(self, snap_compare, fleet_settings) -> None:
        """`?` on the tenants screen lists its keys, then the table's, then the global ones."""
        assert snap_compare(
            make_app(fleet_settings), terminal_size=NARROW, run_before=loaded, press=["?"]
        )

    def test_tenants_help_wide(self, snap_compare, fleet_settings) -> None:
        """The same help at 160x50, with every key's details."""
        assert snap_compare(
            make_app(fleet_settings), terminal_size=WIDE, run_before=loaded, press=["?"]
        )
