"""The new-tenant form and the destroy confirmation, driven by keys; asserts on the screen and
on what the registry and the data directory hold afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button

from support.moderation_fixtures import settle, until_confirm
from support.screen import screen_text
from tursotui.session.registry import RegistryError
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.ui.app import make_app
from tursotui.ui.screens.destroy_tenant import DestroyTenantScreen
from tursotui.ui.screens.new_tenant import NewTenantScreen

SIZE = (80, 24)


async def open_app():
    workspace = await Workspace.open(load_settings())
    return workspace, make_app(workspace.settings, workspace)


async def slugs(workspace: Workspace) -> list[str]:
    return [t.slug for t in await workspace.registry.tenants()]


async def test_new_tenant_form_validates_as_you_type_and_creates(tmp_path: Path) -> None:
    """`n` opens the form; bad slugs are explained while typing; ctrl+s shows what will be
    created, `y` runs every step and the new tenant is registered, migrated and listed."""
    workspace, app = await open_app()
    await workspace.registry.add("taken", f"file:{tmp_path / 'taken.db'}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NewTenantScreen)
        await pilot.press("A")
        assert "the slug must be lowercase" in screen_text(app)
        await pilot.press("backspace", *"taken")
        await settle(app, pilot)
        assert "tenant taken already exists" in screen_text(app)
        assert app.screen.query_one("#create", Button).disabled
        await pilot.press(*["backspace"] * 5, *"acme-")
        assert "the slug cannot start or end with a dash" in screen_text(app)
        await pilot.press("1")
        text = screen_text(app)
        assert "✓ available" in text and "a local file under" in text
        await pilot.press("ctrl+s")
        await until_confirm(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert not isinstance(app.screen, NewTenantScreen)
        assert "acme-1" in screen_text(app)  # the tenants screen lists it
    assert await slugs(workspace) == ["acme-1", "taken"]
    assert (workspace.settings.data_dir / "tenants" / "acme-1.db").is_file()
    await workspace.close()


async def test_a_failed_create_stays_on_screen_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The registry refuses the row: the form shows the failed step, the undo and the message;
    nothing is left; sending the form again succeeds."""
    workspace, app = await open_app()
    real_add = workspace.registry.add

    async def failing_add(*args, **kwargs):
        raise RegistryError("registry: disk I/O error")

    monkeypatch.setattr(workspace.registry, "add", failing_add)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(NewTenantScreen())
        await settle(app, pilot)
        await pilot.press(*"acme", "ctrl+s")
        await until_confirm(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, NewTenantScreen)
        text = screen_text(app)
        assert "✓ migrate" in text
        assert "✗ register — registry: disk I/O error" in text
        assert "nothing is left" in text
        assert not (workspace.settings.data_dir / "tenants" / "acme.db").exists()
        monkeypatch.setattr(workspace.registry, "add", real_add)
        await pilot.press("ctrl+s")
        await until_confirm(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert not isinstance(app.screen, NewTenantScreen)
    assert await slugs(workspace) == ["acme"]
    await workspace.close()


async def test_destroy_needs_the_slug_typed(tmp_path: Path) -> None:
    """The destroy button stays off until the exact slug is typed; then the tenant is gone."""
    workspace, app = await open_app()
    from tursotui.provision import create_tenant

    tenant = await create_tenant(workspace, "acme")
    answers: list[bool | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(DestroyTenantScreen(tenant), answers.append)
        await settle(app, pilot)
        assert "This deletes the database of acme" in screen_text(app)
        await pilot.press(*"acm", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DestroyTenantScreen)
        assert app.screen.query_one("#destroy", Button).disabled
        assert await slugs(workspace) == ["acme"]
        await pilot.press("e", "enter")
        await settle(app, pilot)
        assert answers == [True]
    assert await slugs(workspace) == []
    assert list((workspace.settings.data_dir / "tenants").iterdir()) == []
    await workspace.close()


async def test_destroy_escape_changes_nothing() -> None:
    """Escape backs out with False; the tenant stays."""
    workspace, app = await open_app()
    from tursotui.provision import create_tenant

    tenant = await create_tenant(workspace, "acme")
    answers: list[bool | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(DestroyTenantScreen(tenant), answers.append)
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
    assert answers == [False]
    assert await slugs(workspace) == ["acme"]
    await workspace.close()


async def test_rotate_token_screen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`y` rotates through the Platform API and shows each step; the unreachable test host
    makes the last step fail, and the screen says so instead of closing."""
    from support.platform_server import FileBackend, PlatformServer
    from tursotui.ui.screens.rotate_token import RotateTokenScreen

    async with PlatformServer(FileBackend(tmp_path / "p"), domain="turso.invalid") as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", server.token)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        monkeypatch.setenv("TURSOTUI_TIMEOUT", "0.3")
        workspace, app = await open_app()
        from tursotui.platform import PlatformClient

        async with PlatformClient(server.org, server.token, base_url=server.url) as api:
            created = await api.create_database("acme", "default")
        tenant = await workspace.registry.add("acme", f"libsql://{created.hostname}", "old")
        answers: list[bool | None] = []
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(RotateTokenScreen(tenant), answers.append)
            await settle(app, pilot)
            await pilot.press("y")
            await settle(app, pilot)
            text = screen_text(app)
            assert "✓ rotate tokens" in text and "✓ update registry" in text
            assert "✗ verify" in text
            assert "failed at step 'verify'" in text
            assert isinstance(app.screen, RotateTokenScreen)
            await pilot.press("escape")
            await settle(app, pilot)
        assert answers == [False]
        assert server.calls("invalidateDatabaseTokens") == 1
        stored = (await workspace.registry.get("acme")).token
        assert stored is not None and stored.get_secret_value().startswith("file-token-")
        await workspace.close()
        assert server.violations == []
