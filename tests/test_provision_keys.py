"""Provisioning keys a fast typist can trust: `enter` in the new-tenant form never creates,
and what a session cannot do is neither offered nor half-asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation_fixtures import screen_text, settle, until_confirm
from test_provision_screens import open_app, slugs
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.new_tenant import NewTenantScreen

SIZE = (80, 24)


async def test_enter_in_the_new_tenant_form_never_creates(tmp_path: Path) -> None:
    workspace, app = await open_app()
    tenant_file = workspace.settings.data_dir / "tenants" / "acme.db"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # One burst: the form, the slug, then enter as a user would to "go on".
        await pilot.press("n", *"acme", "enter", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, NewTenantScreen)
        assert app.screen.query_one("#slug").value == "acme"
        assert app.focused is not None and app.focused.id == "create"
        assert await slugs(workspace) == [] and not tenant_file.exists()
        # More enters: the Create button shows what would be created; enter there is "Back".
        await pilot.press("enter", "enter", "enter", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, NewTenantScreen)
        assert await slugs(workspace) == [] and not tenant_file.exists()
        # The explicit act: ctrl+s shows the summary, `y` creates.
        await pilot.press("ctrl+s")
        await until_confirm(app, pilot)
        text = screen_text(app)
        assert "Create this tenant" in text
        summary = app.screen.message.plain
        assert "slug  acme" in summary and "name  acme (the slug)" in summary
        assert f"where  a new local file {tenant_file}" in summary
        assert await slugs(workspace) == []
        await pilot.press("y")
        await settle(app, pilot)
        assert not isinstance(app.screen, (NewTenantScreen, ConfirmScreen))
    assert await slugs(workspace) == ["acme"]
    assert tenant_file.is_file()
    await workspace.close()


async def test_new_tenant_summary_names_the_turso_organization_and_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TURSO_ORG", "acme-org")
    monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", "not-used")
    monkeypatch.setenv("TURSOTUI_PLATFORM_URL", "http://127.0.0.1:9")  # never asked
    workspace, app = await open_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(NewTenantScreen())
        await settle(app, pilot)
        await pilot.press(*"shop", "enter", *"Shop Inc", "enter", "backspace")
        await pilot.press(*["backspace"] * 10, *"eu", "enter")
        await settle(app, pilot)
        assert app.focused is not None and app.focused.id == "create"
        await pilot.press("enter")
        await until_confirm(app, pilot)
        summary = app.screen.message.plain
        assert "slug  shop" in summary and "name  Shop Inc" in summary
        assert "where  a new database in Turso organization acme-org" in summary
        assert "group  eu" in summary
        await pilot.press("enter")  # the focused answer is "Back"
        await settle(app, pilot)
        assert isinstance(app.screen, NewTenantScreen)
    assert await slugs(workspace) == []
    await workspace.close()
