"""Provisioning keys a fast typist can trust: `enter` in the new-tenant form never creates,
and what a session cannot do is neither offered nor half-asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.moderation_fixtures import rows, settle, until_confirm
from support.screen import screen_text
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
    registered = await workspace.registry.get("acme")
    assert registered.url == f"file:{tenant_file}"
    assert rows(tenant_file, "SELECT count(*) FROM posts") == [(0,)]  # created and migrated
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


# -- what cannot be done is refused before asking, and not offered ---------------------


async def test_rotate_on_a_local_and_destroy_on_a_remote_tenant_refuse_before_asking(
    tmp_path: Path,
) -> None:
    from support.shell_fixtures import notifications
    from tursotui.provision import create_tenant
    from tursotui.ui.screens.destroy_tenant import DestroyTenantScreen
    from tursotui.ui.screens.rotate_token import RotateTokenScreen
    from tursotui.ui.screens.tenants import TenantsScreen

    workspace, app = await open_app()
    await create_tenant(workspace, "acme")
    await workspace.registry.add("remote", "http://127.0.0.1:9", "secret-token")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # `R` on the local tenant, then `D` on the remote one, in one burst.
        await pilot.press("R", "down", "D")
        await settle(app, pilot)
        assert isinstance(app.screen, TenantsScreen)
        assert not any(
            isinstance(s, (RotateTokenScreen, DestroyTenantScreen)) for s in app.screen_stack
        )
        said = notifications(app)
        assert len(said) == 2, said
        assert "cannot rotate the token of acme: a local tenant has none" in said[0]
        assert "cannot destroy tenant remote" in said[1]
        assert "no Platform API credentials" in said[1]
        assert "secret-token" not in " ".join(said)
        # What can be done still asks: `D` on the local tenant opens its confirmation.
        await pilot.press("up", "D")
        await settle(app, pilot)
        assert isinstance(app.screen, DestroyTenantScreen)
    assert await slugs(workspace) == ["acme", "remote"]
    assert [e.action for e in workspace.audit.entries()] == ["create-tenant"] * 2  # the setup's
    await workspace.close()


async def test_a_read_only_session_shows_only_keys_that_can_act(tmp_path: Path) -> None:
    from support.moderation_fixtures import make_test_app, workspace_with
    from support.shell_fixtures import notifications
    from tursotui.ui.screens.help import HelpScreen, screen_keys
    from tursotui.ui.screens.posts import PostsScreen
    from tursotui.ui.screens.tenants import TenantsScreen

    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=2)}, read_only=True)
    path, _ids = made["acme"]
    app = make_test_app(workspace)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TenantsScreen)
        footer = screen_text(app).splitlines()[-1]
        assert "Filter" in footer and "Fleet" in footer and "New" not in footer
        keys = {row[0] for row in screen_keys(app.screen)}
        assert {"n", "D", "R"}.isdisjoint(keys) and "enter" in keys
        app.push_screen(PostsScreen(await workspace.registry.get("acme"), status="draft"))
        await settle(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Search" in footer and "SQL" in footer
        for word in ("Publish", "Archive", "To draft", "Mark"):
            assert word not in footer, footer
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        listed = {row[0] for row in app.screen.keys}
        assert {"p", "a", "u", "space"}.isdisjoint(listed) and "enter" in listed
        await pilot.press("escape")
        await settle(app, pilot)
        # The keys themselves say why they do nothing, once each; nothing is written.
        await pilot.press("p", "space", "a")
        await settle(app, pilot)
        said = [n for n in notifications(app) if "read-only session" in n]
        assert len(said) == 3, notifications(app)
        assert "Publish is not available in a read-only session" in said[0]
    assert rows(path, "SELECT count(*) FROM posts WHERE status = 'draft'") == [(2,)]
    assert workspace.audit.entries() == []
    await workspace.close()
