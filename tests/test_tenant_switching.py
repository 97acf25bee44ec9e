"""Switching tenants and filters fast while one tenant answers slowly never mixes tenants' rows.

Each tenant's titles start with its slug; the test checks, at every row the table
receives and after every step, that the row belongs to the tenant the screen names
and to the filter it shows.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from support.moderation_fixtures import fill_remote, make_test_app, settle, workspace_with
from support.screen import screen_text
from tursotui.ui.screens.posts import PostsScreen
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.row_list import RowList

"""The sqld fixtures (`own_sqld`, `slow_proxy`) live in moderation_fixtures."""

STEPS = 220
"""Switches of tenant or filter in the local test: hundreds, each checked."""

SPECS = {
    "alpha": dict(drafts=60, published=3, archived=1, prefix="alpha "),
    "beta": dict(drafts=2, published=70, archived=5, prefix="beta "),
    "gamma": dict(drafts=4, published=1, archived=55, prefix="gamma "),
}


class SlowConnection:
    """A tenant connection whose every answer takes a random 0-60 ms (an injected delay)."""

    def __init__(self, inner, rng: random.Random) -> None:
        self._inner = inner
        self._rng = rng
        self.name = inner.name

    async def execute(self, *args, **kwargs):
        await asyncio.sleep(self._rng.random() * 0.06)
        return await self._inner.execute(*args, **kwargs)

    async def batch(self, *args, **kwargs):
        await asyncio.sleep(self._rng.random() * 0.06)
        return await self._inner.batch(*args, **kwargs)


def _guard_rows(screen: PostsScreen, violations: list[str]) -> None:
    """Check every row as the table receives it."""
    table = screen.query_one("#posts-table", RowList)
    add_rows = table.add_rows

    def checked_add_rows(rows):
        rows = list(rows)
        for _key, cells in rows:
            title = cells[2].plain
            if not title.startswith(screen.tenant.slug + " "):
                violations.append(f"{title!r} shown under {screen.tenant.slug}")
            status = screen.post_filter.status
            if status is not None and cells[1].plain != status:
                violations.append(f"{cells[1].plain} row shown under the {status} filter")
        return add_rows(rows)

    table.add_rows = checked_add_rows


def _check_shown(app, screen: PostsScreen, violations: list[str]) -> None:
    slug = screen.tenant.slug
    header = screen.query_one(TenantHeader)
    if header.tenant is not screen.tenant:
        violations.append("the header names another tenant than the rows")
    for key in screen.query_one("#posts-table", RowList).ordered_keys:
        title = screen.rows[key].title
        if not str(title).startswith(slug + " "):
            violations.append(f"{title!r} listed under {slug}")


async def _run_switching(app, workspace, pilot, steps: int, seed: int) -> None:
    rng = random.Random(seed)
    tenants = {slug: await workspace.registry.get(slug) for slug in SPECS}
    screen = PostsScreen(tenants["alpha"])
    app.push_screen(screen)
    await pilot.pause()
    violations: list[str] = []
    _guard_rows(screen, violations)
    for _ in range(steps):
        move = rng.random()
        if move < 0.4:
            screen.show_tenant(tenants[rng.choice(list(SPECS))])
        elif move < 0.9:
            # The action behind the keys 1/2/3/0 (the keys themselves are tested elsewhere;
            # a key press waits for the app to be idle, which would hide the races).
            screen.action_filter(rng.choice(["draft", "published", "archived", ""]))
        else:
            await pilot.press("ctrl+end")  # ask for the next page too
        await pilot.pause(rng.choice([0, 0, 0.001, 0.01, 0.03]))
        _check_shown(app, screen, violations)
        assert not violations, violations[:3]
    await settle(app, pilot)
    await settle(app, pilot)
    _check_shown(app, screen, violations)
    assert not violations, violations[:3]
    # Once quiet, the screen shows exactly the current tenant's list and counts.
    spec = SPECS[screen.tenant.slug]
    total = spec["drafts"] + spec["published"] + spec["archived"]
    assert f"all {total}" in screen_text(app)
    assert len(screen.rows) > 0 or screen.post_filter.status is not None


async def test_switching_with_a_slow_tenant_never_mixes_rows(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, SPECS)
    rng = random.Random(7)
    connection = workspace.connection

    async def slow_beta(tenant):
        conn = await connection(tenant)
        return SlowConnection(conn, rng) if tenant.slug == "beta" else conn

    workspace.connection = slow_beta
    app = make_test_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await _run_switching(app, workspace, pilot, steps=STEPS, seed=11)
    await workspace.close()


@pytest.mark.servers
async def test_switching_with_a_slow_sqld_tenant_never_mixes_rows(tmp_path: Path, slow_proxy):
    """beta is served by a real sqld behind a proxy delaying each request by 40 ms."""
    workspace, _ = await workspace_with(tmp_path, {k: v for k, v in SPECS.items() if k != "beta"})
    await fill_remote(slow_proxy.url, **SPECS["beta"])
    await workspace.registry.add("beta", slow_proxy.url, None, name="Beta")
    fault_proxy = slow_proxy
    fault_proxy.delay(40)
    app = make_test_app(workspace)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _run_switching(app, workspace, pilot, steps=60, seed=5)
    finally:
        fault_proxy.pass_through()
        await workspace.close()


async def _waits_for(_screen: PostsScreen, first: asyncio.Task[None]) -> None:
    await asyncio.shield(first)  # not cancelled with the worker


async def test_the_check_catches_a_screen_that_keeps_late_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Guards the test above: without the request token, exclusive workers and the first
    page's cancellation it must fail."""
    from textual import work

    monkeypatch.setattr(PostsScreen, "_current", lambda self, token, tenant: self.is_attached)
    monkeypatch.setattr(PostsScreen, "_drop_first", lambda self: None)
    monkeypatch.setattr(
        PostsScreen, "_await_first", work(group="page", exit_on_error=False)(_waits_for)
    )
    for name, group in (("load_page", "page"), ("load_counts", "counts")):
        unguarded = work(group=group, exit_on_error=False)(getattr(PostsScreen, name).__wrapped__)
        monkeypatch.setattr(PostsScreen, name, unguarded)
    with pytest.raises(AssertionError, match=r"shown under|listed under"):
        await test_switching_with_a_slow_tenant_never_mixes_rows(tmp_path)
