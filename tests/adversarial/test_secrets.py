"""Tokens never show (issue 7): canaries everywhere, every output searched.

Canary tokens (holding `secrets_watch.CANARY`) are put in every place a secret lives:
the registry auth token and the Platform API token settings, tenant rows' `db_token`
(a local tenant, a sqld tenant whose server rejects the canary, a tenant whose port
refuses connections), plus a real JWT for a working sqld tenant (watched too). Then the
command line runs its commands, success and failure paths, with every logger at DEBUG
(httpx logs each request), the Platform API test server serves `tenants create` and
`destroy`, and the app's screens are screenshotted. A canary or the JWT in any
stdout, stderr, log record, error message or SVG fails the test; the secrets plugin
(tests/support/secrets_watch.py) checks pytest's own captures as well.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
from adversarial_stats import count

from support.moderation_fixtures import fill, make_tenant, settle
from support.platform_server import FileBackend, platform_in_thread
from support.secrets_watch import CANARY, leaks, watch
from support.servers import free_port
from tursotui.cli import main

REGISTRY_TOKEN = f"registry-{CANARY}-a1"
PLATFORM_TOKEN = f"platform-{CANARY}-b2"
TENANT_TOKEN = f"tenant-{CANARY}-c3"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def assert_clean(text: str, *secrets: str) -> None:
    assert CANARY not in text
    for secret in secrets:
        assert secret not in text
    assert not leaks(text)
    count("secret_outputs_searched")


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqld, jwt_keys) -> dict[str, str]:
    monkeypatch.setenv("TURSOTUI_REGISTRY_AUTH_TOKEN", REGISTRY_TOKEN)
    monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", PLATFORM_TOKEN)
    monkeypatch.setenv("TURSO_ORG", "acme-org")
    monkeypatch.setenv("TURSOTUI_TIMEOUT", "2")
    jwt = watch(jwt_keys.token())
    path = tmp_path / "acme.db"
    asyncio.run(make_tenant(path))
    fill(path, drafts=2, published=1, comments_per_post=1)

    async def register() -> None:
        from tursotui.session.registry import Registry
        from tursotui.session.settings import load_settings

        registry = await Registry.open(load_settings())
        try:
            await registry.add("acme", f"file:{path}", TENANT_TOKEN, "Acme")
            await registry.add("remote", sqld.http_url, jwt, "Remote")
            await registry.add("rejected", sqld.ws_url, TENANT_TOKEN, "Rejected")
            await registry.add("dead", f"http://127.0.0.1:{free_port()}", TENANT_TOKEN, "Dead")
        finally:
            await registry.close()

    asyncio.run(register())
    return {"jwt": jwt}


COMMANDS = [
    ["tenants"],
    ["tenants", "--json"],
    ["sql", "acme", "SELECT count(*) FROM posts"],
    ["sql", "remote", "SELECT 1 AS one", "--format", "json"],
    ["sql", "rejected", "SELECT 1"],
    ["sql", "dead", "SELECT 1"],
    ["sql", "acme", "UPDATE posts SET title = title WHERE 0", "--write"],
    ["sql", "rejected", "DELETE FROM nothing WHERE 0", "--write"],
    ["sql", "nosuch", "SELECT 1"],
    ["migrate", "--all"],
    ["migrate", "--all", "--dry-run"],
    ["audit"],
    ["tenants", "add", "extra", "--url", "http://127.0.0.1:9", "--token", TENANT_TOKEN],
    ["tenants", "add", "extra2", "--url", f"http://127.0.0.1:9?authToken={TENANT_TOKEN}"],
    ["tenants", "rotate-token", "dead"],
    ["tenants", "remove", "extra"],
]


def test_the_command_line_never_prints_a_token(
    fleet: dict[str, str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    codes = []
    for argv in COMMANDS:
        try:
            codes.append(main(argv))
        except SystemExit as exit:
            codes.append(exit.code)
        out, err = capsys.readouterr()
        assert "Traceback" not in err, (argv, err)
        assert_clean(out + err, fleet["jwt"])
    assert_clean(caplog.text, fleet["jwt"])
    for record in caplog.records:
        assert_clean(record.getMessage(), fleet["jwt"])
    # The failure paths were really taken: not everything succeeded.
    assert 0 in codes and 1 in codes, codes


def test_platform_create_and_destroy_never_print_the_platform_token(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with platform_in_thread(FileBackend(tmp_path / "platform"), token=PLATFORM_TOKEN) as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", PLATFORM_TOKEN)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        monkeypatch.setenv("TURSOTUI_TIMEOUT", "2")
        for argv in (
            ["tenants", "create", "acme", "--group", "eu"],
            ["tenants", "--json"],
            ["tenants", "rotate-token", "acme"],
            ["tenants", "destroy", "acme", "--yes"],
        ):
            main(argv)
            out, err = capsys.readouterr()
            assert "Traceback" not in err
            assert_clean(out + err)
        server.fail("createDatabase", 500)
        assert main(["tenants", "create", "beta", "--group", "eu"]) == 1
        out, err = capsys.readouterr()
        assert_clean(out + err)
    assert_clean(caplog.text)


async def test_no_screen_shows_a_token(fleet: dict[str, str]) -> None:
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.audit import AuditScreen
    from tursotui.ui.screens.console import ConsoleScreen
    from tursotui.ui.screens.fleet import FleetScreen
    from tursotui.ui.screens.posts import PostsScreen
    from tursotui.ui.screens.queue import QueueScreen

    workspace = await Workspace.open(load_settings())
    app = make_app(workspace.settings, workspace)
    shots = []
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await asyncio.wait_for(settle(app, pilot), 20)
            shots.append(app.export_screenshot())
            for slug in ("acme", "rejected", "dead"):
                tenant = await workspace.registry.get(slug)
                for screen in (PostsScreen(tenant, status=None), ConsoleScreen(tenant)):
                    app.push_screen(screen)
                    await pilot.pause(0.3)
                    await asyncio.wait_for(settle(app, pilot), 20)
                    shots.append(app.export_screenshot())
                    app.pop_screen()
            for screen in (FleetScreen(), QueueScreen(), AuditScreen()):
                app.push_screen(screen)
                await asyncio.wait_for(settle(app, pilot), 20)
                shots.append(app.export_screenshot())
                app.pop_screen()
            await pilot.press("question_mark")
            await pilot.pause()
            shots.append(app.export_screenshot())
            shots.extend(str(n.message) for n in app._notifications)
    finally:
        await workspace.close()
    for shot in shots:
        assert_clean(shot, fleet["jwt"])
    assert len(shots) >= 10


def test_the_repository_screenshots_hold_no_secret() -> None:
    folder = Path(__file__).resolve().parents[2] / "screenshots"
    svgs = sorted(folder.glob("*.svg"))
    for svg in svgs:
        text = svg.read_text(errors="replace")
        assert CANARY not in text, svg.name
        assert not JWT.search(text), svg.name
        count("secret_outputs_searched")
