"""HTTP 429 with `Retry-After` (Turso's rate limit): waited out, bounded, and shown on the row.

The proxy in front of the real sqld answers 429 itself for the first requests, then
passes them through: the server never sees the refused ones.
"""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest
from textual.widgets import Input

from support.faults import FaultProxy
from support.jwt_kit import JWTKeys
from support.keys import burst, typed
from support.screen import screen_text, until
from support.shell_fixtures import build_fleet
from tursotui.db import LibsqlError, connect
from tursotui.db import http as http_module
from tursotui.ui.app import make_app
from tursotui.ui.screens.tenants import TenantsScreen


async def test_a_429_is_waited_out_for_as_long_as_the_server_asks(
    fault_proxy: FaultProxy, jwt_keys: JWTKeys
) -> None:
    token = jwt_keys.token("rw", expires_in=None)
    fault_proxy.rate_limit(1, times=2)
    connection = await connect(fault_proxy.url, token, name="acme", timeout=10)
    try:
        start = time.monotonic()
        ask = asyncio.create_task(connection.execute("SELECT 41 + 1"))
        # While it waits, the tenant is known to be waiting (the screens show it).
        deadline = time.monotonic() + 5
        while "acme" not in http_module.rate_limited:
            assert time.monotonic() < deadline and not ask.done()
            await asyncio.sleep(0.01)
        result = await ask
        elapsed = time.monotonic() - start
    finally:
        await connection.close()
    assert result.rows[0][0] == 42
    assert elapsed >= 2.0  # two refusals, each waited out for the second it asked
    assert fault_proxy.requests == 3
    assert "acme" not in http_module.rate_limited


async def test_a_rate_limit_beyond_the_timeout_or_the_retries_is_the_answer(
    fault_proxy: FaultProxy, jwt_keys: JWTKeys
) -> None:
    token = jwt_keys.token("rw", expires_in=None)
    fault_proxy.rate_limit(60)  # longer than the call may take: no point in waiting
    connection = await connect(fault_proxy.url, token, name="acme", timeout=5)
    try:
        start = time.monotonic()
        with pytest.raises(LibsqlError) as raised:
            await connection.execute("SELECT 1")
        assert time.monotonic() - start < 2
        assert "429" in str(raised.value) and "acme" in str(raised.value)
        assert fault_proxy.requests == 1

        fault_proxy.reset_count()
        fault_proxy.rate_limit(0)  # always refused, with no wait asked: a bounded number of tries
        with pytest.raises(LibsqlError, match="429"):
            await connection.execute("SELECT 1")
        assert fault_proxy.requests == http_module.RATE_LIMIT_RETRIES + 1
    finally:
        await connection.close()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert http_module.retry_after("3") == 3.0
    assert http_module.retry_after(" 0.5 ") == 0.5
    assert http_module.retry_after(None) is None
    assert http_module.retry_after("soon") is None
    assert http_module.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    soon = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= (http_module.retry_after(soon) or 0) <= 11


async def test_the_tenants_screen_shows_a_rate_limited_tenant_waiting_and_keeps_answering(
    fault_proxy: FaultProxy, jwt_keys: JWTKeys
) -> None:
    from tursotui.session.registry import Registry

    fleet = await build_fleet(slugs=("acme",), broken=False)
    registry = await Registry.open(fleet.settings)
    try:
        await registry.add("remote", fault_proxy.url, jwt_keys.token("rw", expires_in=None), "R")
    finally:
        await registry.close()
    fault_proxy.rate_limit(3, times=1)
    app = make_app(fleet.settings)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, TenantsScreen)
        await until(
            pilot,
            lambda: any(
                "remote" in line and "waiting" in line and "rate limited" in line
                for line in screen_text(app).splitlines()
            ),
            timeout=10,
        )
        # The screen answers keys while the tenant waits: the filter works.
        burst(app, "slash", *typed("acm"))
        # "a" alone already leaves one row: wait for the whole burst in the filter.
        await until(pilot, lambda: screen.query_one("#filter", Input).value == "acm")
        await until(pilot, lambda: screen.table.row_count == 1)
        burst(app, "escape")
        await until(pilot, lambda: screen.table.row_count == 2)
        remote = next(row for row in screen.rows if row.tenant.slug == "remote")
        assert remote.health is None  # still waiting out the 3 s
        await until(pilot, lambda: remote.health is not None, timeout=15)
        assert remote.health.reachable
        await until(
            pilot,
            lambda: (
                not any(
                    "remote" in line and "waiting" in line for line in screen_text(app).splitlines()
                )
            ),
        )
