"""The app shell: start-up, global keys, help, command palette, header, failures, the CLI."""

from __future__ import annotations

import argparse

from textual import work
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widgets import Footer, Input

from support.moderation_fixtures import settle
from support.screen import screen_text, until
from support.shell_fixtures import build_fleet, notifications, silent_url_fixture  # noqa: F401
from tursotui.cli.tui import run_tui
from tursotui.session.registry import Tenant
from tursotui.session.settings import load_settings
from tursotui.ui.app import make_app
from tursotui.ui.screens.help import HelpScreen
from tursotui.ui.screens.tenants import TenantsScreen
from tursotui.ui.widgets.header import TenantHeader


class TenantScreen(Screen[None]):
    """A stand-in screen about one tenant, with a worker that can fail or run long."""

    BINDINGS = [("x", "explode", "Explode")]

    def __init__(self, tenant: Tenant) -> None:
        super().__init__()
        self.tenant = tenant

    def compose(self) -> ComposeResult:
        yield TenantHeader("posts")
        yield Footer()

    @work(group="write", exit_on_error=False, description="publishing 3 posts")
    async def explode(self) -> None:
        raise RuntimeError("the tenant refused: [bold]no[/]")

    @work(group="write", exit_on_error=False, description="publishing 3 posts")
    async def long_write(self) -> None:
        import asyncio

        await asyncio.sleep(30)

    def action_explode(self) -> None:
        self.explode()


async def test_start_up_is_interactive_before_any_tenant_answers(silent_url: str) -> None:
    fleet = await build_fleet(timeout=5, extra_urls={"hung": silent_url})
    app = make_app(fleet.settings)  # opens the workspace itself, in a worker
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TenantsScreen)
        assert app.workspace_open
        assert screen.health_of("hung") is None
        await pilot.press("slash", "h", "u")
        assert screen.query_one("#filter", Input).value == "hu"
        assert "hung" in screen_text(app)
        app.exit()


async def test_help_lists_the_current_screens_keys_and_escape_closes_it() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {key: what for key, what, _ in app.screen.keys}
        assert keys["/"] == "Filter"
        assert keys["enter"] == "Open"  # the table handles enter itself, by opening
        assert keys["r"] == "Refresh"
        assert keys["D"] == "Destroy"  # hidden from the footer, listed in help
        assert keys["?"] == "Help" and keys["q"] == "Quit" and keys["t"] == "Tenant"
        order = [what for _, what, _ in app.screen.keys]
        assert order.index("Filter") < order.index("Cursor up") < order.index("Quit")
        assert "Filter" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, TenantsScreen)


async def test_palette_offers_screen_and_global_actions_as_noun_verb() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"refresh")
        await until(pilot, lambda: "tenants: refresh" in screen_text(app))
        await pilot.press("ctrl+a", "ctrl+k", *"show log")  # start of line, delete to its end
        await until(pilot, lambda: "audit: show log" in screen_text(app))


async def test_palette_runs_the_chosen_command() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"tenants: filter")
        await until(
            pilot, lambda: screen_text(app).count("tenants: filter") == 2
        )  # typed, and offered
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TenantsScreen))
        await until(pilot, lambda: app.screen.query_one("#filter", Input).has_focus)


async def test_q_quits_at_once_when_nothing_is_pending() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_q_asks_first_while_a_write_is_running() -> None:
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tenant = await app.workspace.registry.get("acme")
        screen = TenantScreen(tenant)
        app.push_screen(screen)
        await pilot.pause()
        screen.long_write()
        await pilot.press("q")
        await pilot.pause()
        assert "publishing 3 posts" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and app.screen is screen
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not app.is_running


async def test_a_failing_worker_is_reported_literally() -> None:
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(TenantScreen(await app.workspace.registry.get("acme")))
        await pilot.pause()
        await pilot.press("x")
        await settle(app, pilot)
        said = notifications(app)
        assert any("publishing 3 posts failed" in n and "[bold]no[/]" in n for n in said), said
        assert app.is_running


async def test_t_goes_back_to_the_tenants_screen_with_the_filter_open() -> None:
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(TenantScreen(await app.workspace.registry.get("acme")))
        app.push_screen(TenantScreen(await app.workspace.registry.get("globex")))
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TenantsScreen)
        assert app.screen.query_one("#filter", Input).has_focus
        await pilot.press(*"glo", "enter")
        await settle(app, pilot)
        assert app.screen.tenant.slug == "globex"


async def test_escape_goes_back_one_screen_and_stops_at_the_tenants_screen() -> None:
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(TenantScreen(await app.workspace.registry.get("acme")))
        await pilot.pause()
        await pilot.press("escape")
        assert isinstance(app.screen, TenantsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, TenantsScreen) and app.is_running


async def test_a_screen_that_cannot_load_says_so_instead_of_crashing() -> None:
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.open_screen("no_such_screen", "NoSuchScreen") is None
        await pilot.pause()
        assert any("No module named" in n for n in notifications(app))
        assert app.is_running


class HeaderApp(App[None]):
    def __init__(self, settings, tenant: Tenant | None) -> None:
        super().__init__()
        self.settings = settings
        self.tenant = tenant

    def on_mount(self) -> None:
        self.push_screen(TenantScreen(self.tenant))


def header_line(app) -> str:
    return screen_text(app).splitlines()[0]


async def test_header_names_the_tenant_and_marks_local_tenants() -> None:
    tenant = Tenant("acme", "Acme Corp", "file:/srv/tenants/acme.db")
    app = HeaderApp(load_settings(), tenant)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = header_line(app)
        header = app.screen.query_one(TenantHeader)
        assert "Acme Corp (acme)" in line and "local" in line
        assert "REMOTE" not in line and "READ-ONLY" not in line
        assert not header.has_class("-remote")


async def test_header_makes_remote_production_and_read_only_unmistakable() -> None:
    tenant = Tenant("acme-prod", "[red]Acme[/]", "libsql://acme-prod-org.turso.io")
    app = HeaderApp(load_settings(read_only=True), tenant)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = header_line(app)
        header = app.screen.query_one(TenantHeader)
        assert line.rstrip().endswith("READ-ONLY   PRODUCTION   REMOTE")
        assert "[red]Acme[/]" in line  # literal, and the badges are never pushed out
        assert header.has_class("-remote")


def test_run_tui_reports_a_bad_registry_in_one_line(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", f"file:{tmp_path / 'missing' / 'registry.db'}")
    status = run_tui(argparse.Namespace(read_only=None))
    err = capsys.readouterr().err
    assert status == 1
    assert len(err.strip().splitlines()) == 1 and "registry" in err and "Traceback" not in err


def test_run_tui_reports_a_bad_setting_in_one_line(capsys, monkeypatch) -> None:
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", "ftp://nowhere/registry.db")
    status = run_tui(argparse.Namespace(read_only=None))
    err = capsys.readouterr().err
    assert status == 1
    assert len(err.strip().splitlines()) == 1 and "registry_url" in err


async def test_an_unusable_registry_is_shown_on_the_tenants_screen(tmp_path) -> None:
    settings = load_settings(registry_url=f"file:{tmp_path / 'missing.db'}")
    app = make_app(settings)
    async with app.run_test(size=(220, 24)) as pilot:  # wide enough for the whole tmp path
        await settle(app, pilot)
        await pilot.pause(0.1)
        text = screen_text(app)
        said = notifications(app)
        assert isinstance(app.screen, TenantsScreen) and app.is_running
    assert "registry" in text and "missing.db: no database file" in text
    assert len([n for n in said if "no database file" in n]) == 1


async def test_help_wraps_long_details_at_80_columns() -> None:
    """The details column used to run off the box's right edge at 80x24."""
    from textual.widgets import DataTable

    from tursotui.session.settings import load_settings

    app = make_app(load_settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.size.width  # nothing to scroll sideways to
        text = screen_text(app)
    assert "Reload the registry and ask every" in text and "tenant again" in text
