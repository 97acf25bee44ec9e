"""The fault matrix through the screens: posts, console, fleet (issue 7).

The same proxied sqld tenant as `test_fault_matrix.py`. The real app (`make_app`) runs
headless; while the proxy fails, the operator presses the documented keys:

- posts screen, `p` (publish): a notification names the tenant and the cause, a key
  still works (the cursor moves), and after recovery `p` publishes; the database shows
  exactly one publish of exactly that post;
- console: the error modal names the tenant and the cause; after recovery the same
  statement runs on the same screen;
- fleet: the tenant's row says what is wrong; `r` after recovery shows its counts.
"""

from __future__ import annotations

import pytest
from adversarial_stats import count
from fault_fixtures import SLUG, ProxiedTenant
from textual.widgets import TextArea

from support.moderation_fixtures import settle
from support.screen import until
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.ui.app import make_app
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.sortable_list import SortableList

pytestmark = pytest.mark.servers

SIZE = (110, 32)

FAULTS = {
    "reset": (lambda t: t.proxy.drop(), ("connection",)),
    "stalled": (lambda t: t.proxy.stall(), ("answer within",)),
    "http503": (lambda t: t.proxy.answer(503), ("HTTP 503",)),
    "killed": (lambda t: t.kill(), ("connection",)),
}


def heal(t: ProxiedTenant) -> None:
    t.proxy.pass_through()
    if t.server.process.poll() is not None:
        t.restart()


def notifications(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_posts_screen_publish_under_fault(tenant: ProxiedTenant, fault: str) -> None:
    from tursotui.ui.screens.posts import PostsScreen

    workspace = await Workspace.open(load_settings())
    app = make_app(workspace.settings, workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            row = await workspace.registry.get(SLUG)
            app.push_screen(PostsScreen(row, status="draft"))
            await settle(app, pilot)
            table = app.screen.query_one("#posts-table", RowList)
            target = table.ordered_keys[0]
            inject, causes = FAULTS[fault]
            inject(tenant)
            count("faults_injected")
            await pilot.press("p")
            await until(pilot, lambda: any(SLUG in n for n in notifications(app)))
            (message,) = [n for n in notifications(app) if SLUG in n]
            assert any(c in message for c in causes), message
            assert "\n" not in message.strip()
            # Still responsive: the cursor moves.
            before = table.cursor_row
            await pilot.press("j")
            await pilot.pause()
            assert table.cursor_row == before + 1
            await pilot.press("k")
            heal(tenant)
            app.clear_notifications()
            await pilot.press("p")
            await until(
                pilot,
                lambda: (
                    getattr(app.screen, "feedback", None) is not None
                    or any("Not written" in n for n in notifications(app))
                ),
            )
            await settle(app, pilot)
        assert tenant.rows("SELECT status FROM posts WHERE id = ?", (target,)) == [("published",)]
        counts = dict(tenant.rows("SELECT status, count(*) FROM posts GROUP BY status"))
        assert counts == {"draft": 4, "published": 4}  # exactly one publish, that one
        count("write_checks")
    finally:
        await workspace.close()


@pytest.mark.parametrize("fault", ["reset", "http503"])
async def test_console_under_fault(tenant: ProxiedTenant, fault: str) -> None:
    from tursotui.ui.screens.console import ConsoleScreen
    from tursotui.ui.screens.sql_error import SqlErrorScreen
    from tursotui.ui.widgets.sql_editor import SqlEditor

    workspace = await Workspace.open(load_settings())
    app = make_app(workspace.settings, workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            row = await workspace.registry.get(SLUG)
            app.push_screen(ConsoleScreen(row))
            await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
            console = app.screen
            await until(pilot, lambda: console.connection is not None)
            inject, causes = FAULTS[fault]
            inject(tenant)
            count("faults_injected")
            editor = console.query_one(SqlEditor)
            editor.load_text("SELECT count(*) FROM posts")
            editor.focus()
            await pilot.press("ctrl+r")
            await until(pilot, lambda: isinstance(app.screen, SqlErrorScreen))
            text = app.screen.query_one(TextArea).text
            assert SLUG in text and any(c in text for c in causes), text
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is console and not console.busy)
            heal(tenant)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: app.screen is console and not console.busy)
            from tursotui.ui.widgets.result_grid import ResultGrid

            await until(pilot, lambda: console.query_one(ResultGrid).values == [(8,)])
    finally:
        await workspace.close()


async def test_fleet_under_fault(tenant: ProxiedTenant) -> None:
    workspace = await Workspace.open(load_settings())
    app = make_app(workspace.settings, workspace)
    try:
        async with app.run_test(size=(140, 30)) as pilot:
            tenant.proxy.stall()
            count("faults_injected")
            await pilot.press("f")
            await settle(app, pilot)
            table = app.screen.query_one("#fleet-table", SortableList)
            state = [str(table.get_cell(r, "state")) for r in table.ordered_keys]
            error = [str(table.get_cell(r, "error")) for r in table.ordered_keys]
            assert state == ["down"] or state == ["slow"], state
            assert "answer within" in error[0], error
            heal(tenant)
            await pilot.press("r")
            await settle(app, pilot)
            table = app.screen.query_one("#fleet-table", SortableList)
            assert [str(table.get_cell(r, "state")) for r in table.ordered_keys] == ["ok"]
            assert [str(table.get_cell(r, "draft")) for r in table.ordered_keys] == ["5"]
    finally:
        await workspace.close()
