"""The tenants screen as it starts: a key typed as the list appears is answered before the
health probes start, and the probes still answer every tenant afterwards."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from textual.widgets import Input

from support.keys import burst, typed
from support.screen import until
from support.shell_fixtures import copied_fleet
from tursotui.session.registry import Registry, Tenant
from tursotui.ui.app import make_app
from tursotui.ui.screens.tenants import TenantsScreen

TENANTS = 300


async def test_a_key_typed_as_the_list_appears_is_answered_before_the_probes_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fleet = await copied_fleet(TENANTS)
    # The registry answers once the test is there to type: the moment the rows appear.
    typist_ready = asyncio.Event()
    read = Registry.tenants

    async def tenants(self: Registry) -> list[Tenant]:
        await typist_ready.wait()
        return await read(self)

    focused_when_asked: list[bool] = []
    ask = TenantsScreen.probe

    def probe(self: TenantsScreen, *args: Any) -> Any:
        focused_when_asked.append(self.query_one("#filter", Input).has_focus)
        return ask(self, *args)

    monkeypatch.setattr(Registry, "tenants", tenants)
    monkeypatch.setattr(TenantsScreen, "probe", probe)
    app = make_app(fleet.settings)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, TenantsScreen)
        box = screen.filter_box()  # the box `/` opens (mounted once the first frame is out)
        typist_ready.set()
        # As a fast typist would: `/` the moment the rows are there (no wait for the app
        # to go idle, which it does not while probes stream in).
        deadline = time.monotonic() + 60
        while screen.table.row_count < TENANTS:
            assert time.monotonic() < deadline, "the registry was not listed"
            await asyncio.sleep(0.001)
        burst(app, "slash", *typed("t0299"))
        await until(pilot, lambda: box.value == "t0299")
        await until(pilot, lambda: screen.table.row_count == 1)
        # ... and then every tenant is asked all the same.
        await until(pilot, lambda: screen.answered == TENANTS, timeout=120)
        assert all(row.health is not None and row.health.reachable for row in screen.rows)
    # The key was answered before any tenant was asked: the probes waited for it.
    assert focused_when_asked == [True]
