"""The palette's lifecycle entries on the tenants screen: deleted tenants (list, undelete) and
group tokens (mint, rotate), typed as bursts; real local files, and the Platform API test
server (validating every call against the spec) for groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.keys import burst, quiet, typed
from support.moderation_fixtures import settle
from support.platform_server import FileBackend, PlatformServer
from support.screen import screen_text, until
from tursotui.platform import PlatformClient
from tursotui.provision import create_tenant, destroy_tenant
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.ui.app import make_app
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.tenants import TenantsScreen

SIZE = (110, 30)


def _messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_palette_undeletes_a_local_tenant_from_the_trash() -> None:
    """`ctrl+p`, `undelete acme`, enter and `y` in one burst: the `y` answers the confirmation,
    the file comes back from the trash, and the tenants screen lists acme again."""
    workspace = await Workspace.open(load_settings())
    await create_tenant(workspace, "acme")
    await create_tenant(workspace, "beta")
    await destroy_tenant(workspace, "acme")
    data = workspace.settings.data_dir
    assert not (data / "tenants" / "acme.db").exists()
    assert [p.name.split(".")[0] for p in (data / "trash").iterdir()] == ["acme"]
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TenantsScreen)
        assert [row.tenant.slug for row in app.screen.rows] == ["beta"]
        burst(app, "ctrl+p", *typed("undelete acme"))
        await until(pilot, lambda: "tenant: undelete acme" in screen_text(app))
        burst(app, "enter", "y")
        await quiet(app, pilot)
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, TenantsScreen)
                and [row.tenant.slug for row in app.screen.rows] == ["acme", "beta"]
            ),
        )
        assert "Tenant acme is back." in _messages(app)
        assert "acme" in screen_text(app)
    assert [t.slug for t in await workspace.registry.tenants()] == ["acme", "beta"]
    assert (data / "tenants" / "acme.db").is_file()
    assert not any((data / "trash").iterdir())
    actions = [(e.action, e.tenant, e.status) for e in workspace.audit.entries()]
    assert ("undelete-tenant", "acme", "ok") in actions
    await workspace.close()


async def test_palette_undelete_answered_no_changes_nothing() -> None:
    """`n` in the confirmation: the tenant stays in the trash, the registry unchanged."""
    workspace = await Workspace.open(load_settings())
    await create_tenant(workspace, "acme")
    await destroy_tenant(workspace, "acme")
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        commands = {title: run for title, run, _help in app.screen.palette_commands()}
        commands["tenant: undelete acme"]()
        burst(app, "n")
        await quiet(app, pilot)
        assert isinstance(app.screen, TenantsScreen)
    assert await workspace.registry.tenants() == []
    assert len(list((workspace.settings.data_dir / "trash").iterdir())) == 1
    await workspace.close()


async def test_read_only_session_refuses_undelete_with_the_reason() -> None:
    """Read-only: the entry says why and opens no confirmation; the trash keeps the tenant."""
    opened = await Workspace.open(load_settings())
    await create_tenant(opened, "acme")
    await destroy_tenant(opened, "acme")
    await opened.close()
    workspace = await Workspace.open(load_settings(read_only=True))
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        commands = {title: run for title, run, _help in app.screen.palette_commands()}
        commands["tenant: undelete acme"]()
        await quiet(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert "cannot undelete tenant acme: tursotui is in read-only mode" in _messages(app)
    assert len(list((workspace.settings.data_dir / "trash").iterdir())) == 1
    await workspace.close()


async def test_group_rotate_confirmation_names_the_rows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`group: rotate token of default` says how many tenants are in the group and which
    registry rows will need a new token before asking; `n` rotates nothing, `y` rotates."""
    async with PlatformServer(FileBackend(tmp_path / "p"), domain="turso.invalid") as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", server.token)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        monkeypatch.setenv("TURSOTUI_TIMEOUT", "0.3")
        workspace = await Workspace.open(load_settings())
        async with PlatformClient(server.org, server.token, base_url=server.url) as api:
            for slug in ("acme", "beta"):
                created = await api.create_database(slug, "default")
                await workspace.registry.add(slug, f"libsql://{created.hostname}", "stored")
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            burst(app, "ctrl+p", *typed("rotate token of default"))
            await until(pilot, lambda: "group: rotate token of default" in screen_text(app))
            burst(app, "enter")
            await until(pilot, lambda: "need a new token" in screen_text(app))
            assert isinstance(app.screen, ConfirmScreen)
            # The box wraps the long first line: compare the words, not the line breaks.
            text = " ".join(
                word for word in screen_text(app).split() if word not in {"█", "▌", "▐"}
            )
            assert "2 registered tenants are in it" in text, screen_text(app)
            assert "Registry rows that will need a new token (2): acme, beta" in text
            burst(app, "n")
            await quiet(app, pilot)
            assert server.calls("invalidateGroupTokens") == 0
            # Again, `y` typed with the rest: it answers the confirmation once it opens.
            burst(app, "ctrl+p", *typed("rotate token of default"))
            await until(pilot, lambda: "group: rotate token of default" in screen_text(app))
            burst(app, "enter", "y")
            await quiet(app, pilot)
            await until(pilot, lambda: server.calls("invalidateGroupTokens") == 1)
            assert any("2 registry rows need a new token: acme, beta" in m for m in _messages(app))
        actions = [(e.action, e.tenant, e.status) for e in workspace.audit.entries()]
        assert ("rotate-group-token", "group:default", "ok") in actions
        await workspace.close()
        assert server.violations == []


async def test_group_token_mint_goes_to_the_clipboard_never_the_screen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`group: mint token for default`: the token is copied (OSC 52), the notification and
    the screen never hold it, and the audit log records the act without it."""
    async with PlatformServer(FileBackend(tmp_path / "p"), domain="turso.invalid") as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", server.token)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        monkeypatch.setenv("TURSOTUI_TIMEOUT", "0.3")
        workspace = await Workspace.open(load_settings())
        async with PlatformClient(server.org, server.token, base_url=server.url) as api:
            created = await api.create_database("acme", "default")
            await workspace.registry.add("acme", f"libsql://{created.hostname}", "stored")
        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            commands = {title: run for title, run, _help in app.screen.palette_commands()}
            commands["group: mint token for default"]()
            await quiet(app, pilot)
            token = app.clipboard
            assert token.startswith("group-default-")
            assert any("copied to the clipboard" in m for m in _messages(app))
            assert not any(token in m for m in _messages(app))
            assert token not in screen_text(app)
        log = (workspace.settings.data_dir / "audit.jsonl").read_text()
        assert "mint-group-token" in log and token not in log
        await workspace.close()
        assert server.violations == []
