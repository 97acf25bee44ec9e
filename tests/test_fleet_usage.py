"""The fleet's usage columns (rows read, rows written, storage): read through the Platform API
test server for Turso tenants and from the file for local ones, after the overview rows;
sortable (who costs the most); a tenant whose usage cannot be read shows a dash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from support.moderation_fixtures import settle
from support.platform_server import FileBackend, PlatformServer
from support.screen import screen_text
from tursotui.platform import PlatformClient
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.ui.app import make_app
from tursotui.ui.widgets.sortable_list import SortableList

SIZE = (160, 30)


def _line(text: str, slug: str) -> str:
    """The fleet table's line of `slug` (its first cell starts the line)."""
    [line] = [line for line in text.splitlines() if (line.split() or [""])[0] == slug]
    return line


async def test_usage_columns_fill_sort_and_show_a_dash_where_unread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Three Turso tenants (one whose usage request is refused), one row of a host the
    organization does not have, one local file: the figures fill in, `o` onto `read` puts
    the most rows read first, and the two unreadable rows show `—` with no error dialog."""
    from tursotui.ui.screens.fleet import FleetScreen

    async with PlatformServer(FileBackend(tmp_path / "p"), domain="turso.invalid") as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", server.token)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        monkeypatch.setenv("TURSOTUI_TIMEOUT", "0.3")
        # One at a time, in registry order: the refused request is acme's.
        monkeypatch.setenv("TURSOTUI_FLEET_CONCURRENCY", "1")
        workspace = await Workspace.open(load_settings())
        async with PlatformClient(server.org, server.token, base_url=server.url) as api:
            for slug in ("acme", "beta", "gamma"):
                created = await api.create_database(slug, "default")
                await workspace.registry.add(slug, f"libsql://{created.hostname}", "t")
        await workspace.registry.add("stray", "libsql://stray-elsewhere.turso.invalid", "t")
        local = tmp_path / "local.db"
        db = sqlite3.connect(local)
        db.executescript("CREATE TABLE a(x); CREATE TABLE b(x); CREATE TABLE c(x);")
        db.close()
        assert local.stat().st_size == 16384
        await workspace.registry.add("zlocal", f"file:{local}")
        await workspace.registry.add("gone", f"file:{tmp_path / 'gone.db'}")  # no file
        server.usage["beta"] = {"rows_read": 900, "rows_written": 12_500, "storage_bytes": 8192}
        server.usage["gamma"] = {"rows_read": 50, "rows_written": 3, "storage_bytes": 2_500_000}
        server.fail("getDatabaseUsage", 403, error="usage is not on this plan")

        app = make_app(workspace.settings, workspace)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(FleetScreen())
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            table = screen.query_one("#fleet-table", SortableList)

            def cells(slug: str) -> tuple[str, str, str]:
                [key] = [k for k, t in enumerate(screen.tenants) if t.slug == slug]
                row = [str(table.get_cell(str(key), c)) for c in ("read", "written", "storage")]
                return row[0], row[1], row[2]

            assert cells("beta") == ("900", "12.5k", "8.0K")
            assert cells("gamma") == ("50", "3", "2.4M")
            assert cells("acme") == ("—", "—", "—")  # refused by the API
            assert cells("stray") == ("—", "—", "—")  # no database of the org has its host
            assert cells("zlocal") == ("—", "—", "16.0K")  # the file's size
            assert cells("gone") == ("—", "—", "—")  # not `0B`: there is no file
            text = screen_text(app)
            assert "12.5k" in _line(text, "beta") and "2.4M" in _line(text, "gamma")
            assert "16.0K" in _line(text, "zlocal")
            assert not [n for n in app._notifications if n.severity == "error"]
            assert server.calls("getDatabaseUsage") == 3
            assert server.calls("getDatabaseStats") == 0  # the columns ask for totals only

            read = [key for key, *_rest in screen.columns()].index("read")
            await pilot.press(*["o"] * (read + 1))
            await settle(app, pilot)
            order = [(line.split() or [""])[0] for line in screen_text(app).splitlines()]
            shown = [
                slug
                for slug in order
                if slug in {"acme", "beta", "gamma", "gone", "stray", "zlocal"}
            ]
            assert shown[:2] == ["beta", "gamma"]  # most rows read first, unknown ones last
            assert set(shown[2:]) == {"acme", "gone", "stray", "zlocal"}
            assert "read ▼" in screen_text(app)
            storage = [key for key, *_rest in screen.columns()].index("storage")
            await pilot.press(*["o"] * (storage - read))
            await settle(app, pilot)
            order = [(line.split() or [""])[0] for line in screen_text(app).splitlines()]
            shown = [
                slug
                for slug in order
                if slug in {"acme", "beta", "gamma", "gone", "stray", "zlocal"}
            ]
            assert shown[:3] == ["gamma", "zlocal", "beta"]
        await workspace.close()
        assert server.violations == []


async def test_narrow_fleet_shows_usage_on_the_detail_line() -> None:
    """Under 150 columns the usage columns are not in the table; the current row's figures
    are on the line under it."""
    from tursotui.provision import create_tenant
    from tursotui.ui.screens.fleet import FleetScreen

    workspace = await Workspace.open(load_settings())
    await create_tenant(workspace, "only")
    size = (workspace.settings.data_dir / "tenants" / "only.db").stat().st_size
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=(130, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(FleetScreen())
        await settle(app, pilot)
        table = app.screen.query_one("#fleet-table", SortableList)
        assert "storage" not in table.column_keys
        detail = str(app.screen.query_one("#fleet-detail").render())
        assert f"read —  written —  storage {size / 1024:.1f}K" in detail
    await workspace.close()
