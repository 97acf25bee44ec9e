"""Snapshots of the fleet and queue screens at 80x24 and 160x50.

The data is fixed (timestamps shown in UTC, tenant files at relative paths, a broken
registry row instead of a dead host whose port would change); the latency column,
the one value that moves by itself, is pinned before the shot.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from support.fleet_fixtures import BASE_TIME, fill, make_tenant_file
from tursotui.session.settings import load_settings
from tursotui.ui.app import make_app

SIZES = [(80, 24), (160, 50)]


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four tenants (one hostile slug, one without indexes, one not migrated) and a broken row."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    settings = load_settings()

    async def build() -> None:
        from tursotui.session.workspace import Workspace

        workspace = await Workspace.open(settings)
        try:
            folder = Path("tenants")
            folder.mkdir()
            specs = [
                ("acme", True, True, "[bold red]Launch[/] \x1b[31mday\x1b[0m "),
                ("globex", True, False, "Globex "),
                ("[b]hostile[/b]", True, True, "rtl\u202eevil "),
                ("initech", False, False, ""),
            ]
            for i, (slug, migrated, indexes, prefix) in enumerate(specs):
                path = folder / f"t{i}.db"
                await make_tenant_file(path, migrated=migrated, indexes=indexes)
                if migrated:
                    fill(
                        path,
                        drafts=3 + i,
                        published=2,
                        comments=4 + i,
                        start=BASE_TIME + i * 60,
                        step=240,
                        prefix=prefix,
                    )
                await workspace.registry.add(slug, f"file:{path}")
        finally:
            await workspace.close()
        db = sqlite3.connect(settings.data_dir / "registry.db")
        db.execute("INSERT INTO organizations VALUES ('x', 'Broken', 'broken', '', '', 0)")
        db.commit()
        db.close()

    asyncio.run(build())
    time.tzset()


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _open_fleet(pilot) -> None:
    from tursotui.ui.screens.fleet import FleetScreen

    await pilot.app.wait_workspace()
    await _settle(pilot)
    pilot.app.push_screen(FleetScreen())
    await _settle(pilot)
    await _pin_latency(pilot)


async def _pin_latency(pilot) -> None:
    import dataclasses

    screen = pilot.app.screen
    # The latency (its column, or the detail line when narrow) is made from the row's health.
    for key, row in list(screen.rows.items()):
        if row.health.latency_ms is not None:
            health = dataclasses.replace(row.health, latency_ms=1.0)
            screen.rows[key] = dataclasses.replace(row, health=health)
            screen.changed(key)
    screen.paint()
    screen.show_detail()
    await pilot.pause()


class TestFleetScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_overview(self, fleet, snap_compare, size) -> None:
        """Every tenant a row: counts, schema, indexes, errors; the hostile slug shown literally."""
        assert snap_compare(make_app(load_settings()), terminal_size=size, run_before=_open_fleet)

    def test_sorted_by_drafts(self, fleet, snap_compare) -> None:
        """`o` four times sorts by drafts, most first; unanswered rows would stay last."""

        async def run_before(pilot) -> None:
            await _open_fleet(pilot)
            await pilot.press("o", "o", "o", "o", "o")
            await _pin_latency(pilot)

        assert snap_compare(
            make_app(load_settings()), terminal_size=(160, 50), run_before=run_before
        )

    def test_search_across_tenants(self, fleet, snap_compare) -> None:
        """`/` then a title: matches from every tenant, listed above the fleet."""

        async def run_before(pilot) -> None:
            await _open_fleet(pilot)
            await pilot.press("slash", *"draft 1", "enter")
            await _settle(pilot)

        assert snap_compare(
            make_app(load_settings()), terminal_size=(160, 50), run_before=run_before
        )


async def _open_queue(pilot, *keys: str) -> None:
    from tursotui.ui.screens.queue import QueueScreen

    await pilot.app.wait_workspace()
    await _settle(pilot)
    pilot.app.push_screen(QueueScreen())
    await _settle(pilot)
    if keys:
        await pilot.press(*keys)
        await _settle(pilot)


class TestQueueScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_drafts(self, fleet, snap_compare, size) -> None:
        """Drafts of every tenant merged newest first, the tenant on every row, two marked."""

        async def run_before(pilot) -> None:
            await _open_queue(pilot, "space", "space")

        assert snap_compare(make_app(load_settings()), terminal_size=size, run_before=run_before)

    def test_comments(self, fleet, snap_compare) -> None:
        """`2`: the newest comments across tenants with the post they are on."""

        async def run_before(pilot) -> None:
            await _open_queue(pilot, "2")

        assert snap_compare(
            make_app(load_settings()), terminal_size=(80, 24), run_before=run_before
        )
