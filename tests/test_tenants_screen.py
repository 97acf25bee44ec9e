"""The tenants screen and the health probes behind it: what the operator sees, key by key."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time

import pytest
from textual.widgets import Input

from support.moderation_fixtures import settle
from support.screen import screen_text
from support.shell_fixtures import (
    SECRET,
    build_fleet,
    closed_url,
    notifications,
    silent_url_fixture,  # noqa: F401 - registers the silent_url fixture
)
from tursotui.session.registry import Registry
from tursotui.session.workspace import Workspace
from tursotui.tenant.health import probe, probe_all
from tursotui.ui.app import make_app
from tursotui.ui.screens.tenants import TenantsScreen
from tursotui.ui.widgets.row_list import RowList


def db_counts(path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT status, count(*) FROM posts GROUP BY status").fetchall())
    finally:
        db.close()


def tenants_screen(app) -> TenantsScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, TenantsScreen)
    return screen


def shown_slugs(app) -> list[str]:
    table = tenants_screen(app).query_one("#tenants", RowList)
    column = 1 if tenants_screen(app)._wide else 0
    return [table.get_row_at(i)[column].plain for i in range(table.row_count)]


# --- health, the IO layer --------------------------------------------------------------------


async def test_probe_reports_counts_schema_and_latency_of_a_local_tenant() -> None:
    fleet = await build_fleet(broken=False)
    workspace = await Workspace.open(fleet.settings)
    try:
        tenant = await workspace.registry.get("acme")
        health = await probe(workspace, tenant)
    finally:
        await workspace.close()
    assert health.reachable and health.error is None
    assert health.schema == "current"
    assert health.latency_ms is not None and health.latency_ms >= 0
    expected = db_counts(fleet.paths["acme"])
    assert {k: v for k, v in health.counts.items() if v} == expected


async def test_probe_of_an_unmigrated_tenant_says_so() -> None:
    fleet = await build_fleet(slugs=(), broken=False, unmigrated=True)
    workspace = await Workspace.open(fleet.settings)
    try:
        health = await probe(workspace, await workspace.registry.get("blank"))
    finally:
        await workspace.close()
    assert health.reachable
    assert health.schema == "not migrated"
    assert health.counts is None
    assert health.error == "no posts table"


async def test_probe_of_a_missing_file_and_a_broken_row_never_raise() -> None:
    fleet = await build_fleet(slugs=("acme",))
    fleet.paths["acme"].unlink()
    workspace = await Workspace.open(fleet.settings)
    try:
        answers = {
            h.slug: h async for h in probe_all(workspace, await workspace.registry.tenants())
        }
    finally:
        await workspace.close()
    assert not answers["acme"].reachable and "acme" in answers["acme"].error
    assert not answers["ghost"].reachable and "ftp" in answers["ghost"].error


async def test_probe_all_bounds_how_many_are_in_flight(
    silent_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six hung remote tenants and six local ones: never more in flight than allowed."""
    import tursotui.tenant.health as health_module

    fleet = await build_fleet(
        slugs=tuple(f"local{i}" for i in range(6)),
        broken=False,
        # Long enough that a local probe answers in time on a loaded machine (at 0.3 s the
        # first local probes missed it there), short enough to keep the rounds cheap.
        timeout=1.0,
        extra_urls={f"hung{i}": silent_url for i in range(6)},
    )
    import threading

    import tursotui.db.peek as peek_module

    in_flight = {"remote": 0, "local": 0}
    peak = {"remote": 0, "local": 0}
    real_probe = health_module.probe
    real_job = peek_module._job
    lock = threading.Lock()

    async def counted(workspace, tenant, **kwargs):
        kind = "remote" if tenant.is_remote else "local"
        in_flight[kind] += 1
        peak[kind] = max(peak[kind], in_flight[kind])
        try:
            await asyncio.sleep(0.05)  # long enough for every allowed probe to overlap
            return await real_probe(workspace, tenant, **kwargs)
        finally:
            in_flight[kind] -= 1

    def counted_job(*args):  # a local tenant read on the shared pool's thread
        with lock:
            in_flight["local"] += 1
            peak["local"] = max(peak["local"], in_flight["local"])
        try:
            time.sleep(0.05)
            return real_job(*args)
        finally:
            with lock:
                in_flight["local"] -= 1

    monkeypatch.setattr(health_module, "probe", counted)
    monkeypatch.setattr(peek_module, "_job", counted_job)
    workspace = await Workspace.open(fleet.settings)
    try:
        tenants = await workspace.registry.tenants()
        for concurrency in (2, 5):
            peak.update(remote=0, local=0)
            start = time.perf_counter()
            answers = {h.slug: h async for h in probe_all(workspace, tenants, concurrency)}
            elapsed = time.perf_counter() - start
            assert len(answers) == 12
            assert peak["remote"] == concurrency
            # Local tenants are read on the shared pool (a thread per core, files in chunks),
            # whatever the limit.
            assert 1 <= peak["local"] <= peek_module.pool_size()
            hung = [h for slug, h in answers.items() if slug.startswith("hung")]
            # Our deadline or the transport's own timeout (same 1 s), whichever fires first.
            assert all(not h.reachable and ("1" in h.error or "tim" in h.error) for h in hung)
            assert all(answers[f"local{i}"].reachable for i in range(6))
            # Each hung tenant costs its own deadline only: rounds of `concurrency` of them.
            assert elapsed >= 1.0 * -(-6 // concurrency)
    finally:
        await workspace.close()


# --- the screen ------------------------------------------------------------------------------


async def test_rows_show_name_slug_host_and_health_but_never_the_token() -> None:
    fleet = await build_fleet(unmigrated=True)
    app = make_app(fleet.settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        screen = tenants_screen(app)
        acme = screen.health_of("acme")
    assert SECRET not in text
    for expected in ("Acme", "acme", "tenants/acme.db", "Globex", "globex", "current"):
        assert expected in text
    counts = db_counts(fleet.paths["acme"])
    line = next(line for line in text.splitlines() if " acme " in line)
    for status in ("draft", "published", "archived"):
        assert f" {counts.get(status, 0):,} " in line + " "
    assert acme is not None and acme.reachable
    blank = next(line for line in text.splitlines() if " blank " in line)
    assert "not migrated" in blank


async def test_a_broken_row_shows_its_reason_and_does_not_open() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert shown_slugs(app) == ["acme", "ghost", "globex"]
        await pilot.press("down")  # ghost
        text = screen_text(app)
        ghost = next(line for line in text.splitlines() if " ghost " in line)
        assert "broken" in ghost and "⚠" in ghost
        assert "unknown scheme" in text  # the detail line gives the whole reason
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is tenants_screen(app)
        assert any("Cannot open a broken registry row" in n for n in notifications(app))


async def test_remote_tenants_are_marked_and_an_unreachable_one_is_down() -> None:
    fleet = await build_fleet(broken=False, extra_urls={"faraway": closed_url()})
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
    faraway = next(line for line in text.splitlines() if " faraway " in line)
    assert "☁ 127.0.0.1" in faraway and "down" in faraway
    acme = next(line for line in text.splitlines() if " acme " in line)
    assert "▪ tenants/acme" in acme and "☁" not in acme


async def test_every_column_fits_in_80x24() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
    heading = next(line for line in lines if "slug" in line)
    for column in ("slug", "where", "health", "draft", "pub", "arch", "schema"):
        assert column in heading
    assert "Filter" in lines[-1] and "Quit" in lines[-1]


async def test_filter_narrows_enter_opens_the_match_and_escape_clears() -> None:
    fleet = await build_fleet(slugs=("acme", "globex", "initech"))
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", "g", "l", "o")
        assert shown_slugs(app) == ["globex"]
        await pilot.press("escape")
        assert shown_slugs(app) == ["acme", "ghost", "globex", "initech"]
        assert not tenants_screen(app).query_one("#filter", Input).display
        await pilot.press("slash", "i", "n", "i", "enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "PostsScreen"
        assert app.screen.tenant.slug == "initech"
        assert "initech" in screen_text(app).splitlines()[0]  # the header names the tenant


async def test_escape_shows_every_row_again_as_it_was_and_with_answers_that_came_meanwhile():
    """The rows a filter hides are kept, not listed anew when it goes: escape shows the same
    rows (their cells are not made again), and an answer that came for a hidden row shows."""
    fleet = await build_fleet(slugs=("acme", "globex", "initech"))
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = tenants_screen(app)
        table = screen.table
        before = {key: table.get_row(key) for key in table.ordered_keys}
        await pilot.press("slash", "g", "l", "o")
        assert shown_slugs(app) == ["globex"]
        # An answer for acme, hidden by the filter, arrives: acme now has 4,321 drafts.
        acme = next(row for row in screen.rows if row.tenant.slug == "acme")
        assert acme.health is not None and acme.health.counts is not None
        acme.health = dataclasses.replace(acme.health, counts={**acme.health.counts, "draft": 4321})
        screen._unpainted.append(acme)
        screen.paint_health()
        await pilot.press("escape")
        assert shown_slugs(app) == ["acme", "ghost", "globex", "initech"]
        assert table.cursor_row == 0
        line = next(line for line in screen_text(app).splitlines() if " acme " in line)
        assert " 4,321 " in line, line
        for key in ("globex", "initech", "ghost"):
            assert table.get_row(key) is before[key]  # the same cells, not made again


async def test_escape_with_nothing_typed_hides_the_box_and_keeps_the_list() -> None:
    """`/` then escape: the box goes and the list stays as it was, cursor and all."""
    fleet = await build_fleet(slugs=("acme", "globex", "initech"))
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = tenants_screen(app)
        table = screen.table
        await pilot.press("down", "down")
        cells = table.get_row_at(2)
        shown = screen_text(app)
        await pilot.press("slash", "escape")
        await settle(app, pilot)
        assert not screen.query_one("#filter", Input).display
        assert table.cursor_row == 2 and table.has_focus
        assert table.get_row_at(2) is cells  # not listed again
        assert screen_text(app) == shown


async def test_enter_on_a_row_opens_its_posts_and_escape_comes_back() -> None:
    fleet = await build_fleet()
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        assert app.screen.tenant.slug == "globex"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is tenants_screen(app)


async def test_hostile_tenant_names_are_shown_literally() -> None:
    fleet = await build_fleet(slugs=(), broken=False, hostile=True)
    app = make_app(fleet.settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
    assert "[bold red]Evil[/]" in text
    assert "␛[31mCorp<RLO>" in text  # the detail line has room for the whole name
    assert "\x1b" not in text and "\u202e" not in text


async def test_refresh_reloads_the_registry() -> None:
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        registry = await Registry.open(fleet.settings)
        await registry.remove("globex")
        await registry.close()
        assert "globex" in shown_slugs(app)
        await pilot.press("r")
        await settle(app, pilot)
        assert shown_slugs(app) == ["acme"]


async def test_late_answers_never_land_on_another_tenants_row(silent_url: str) -> None:
    """Refreshing again and again while a tenant hangs: each row only ever shows its own health."""
    fleet = await build_fleet(timeout=0.5, extra_urls={"hung": silent_url})
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        registry = await Registry.open(fleet.settings)
        try:
            for round_ in range(12):
                await pilot.press("r")
                await asyncio.sleep(0.02)
                if round_ == 6:
                    await registry.remove("acme")  # the rows shift under the answers in flight
        finally:
            await registry.close()
        await settle(app, pilot)
        screen = tenants_screen(app)
        assert [row.tenant.slug for row in screen.rows] == ["ghost", "globex", "hung"]
        for row in screen.rows:
            assert row.health is not None and row.health.tenant is row.tenant
        assert not screen.health_of("hung").reachable
        assert screen.health_of("globex").reachable


async def test_the_screen_answers_keys_while_a_tenant_hangs(silent_url: str) -> None:
    fleet = await build_fleet(timeout=5, extra_urls={"hung": silent_url})
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause(0.01)
            if tenants_screen(app).health_of("globex") is not None:
                break
        assert tenants_screen(app).health_of("hung") is None  # still waiting for it
        await pilot.press("slash", "g", "l")
        assert shown_slugs(app) == ["globex"]
        await pilot.press("escape", "question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        line = next(line for line in screen_text(app).splitlines() if " hung " in line)
        assert "…" in line  # asked, not answered yet
        app.exit()


@pytest.mark.parametrize(
    ("key", "module"),
    [("f", "fleet"), ("n", "new_tenant"), ("A", "audit"), ("s", "console"), ("D", "destroy")],
)
async def test_screen_keys_open_their_screen(key, module) -> None:
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await pilot.pause()
        assert type(app.screen).__module__.startswith(f"tursotui.ui.screens.{module}")


async def test_read_only_refuses_new_and_destroy_and_says_why() -> None:
    fleet = await build_fleet(broken=False)
    settings = dataclasses.replace(fleet.settings, read_only=True)
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "READ-ONLY" in screen_text(app).splitlines()[0]
        await pilot.press("n", "D")
        await pilot.pause()
        assert app.screen is tenants_screen(app)
        said = notifications(app)
        assert any("New is not available in a read-only session" in n for n in said)
        assert any("Destroy is not available in a read-only session" in n for n in said)


async def test_coming_back_after_a_registry_change_reloads_it() -> None:
    """A screen that adds a tenant sets `registry_changed`; the list shows it on return."""
    fleet = await build_fleet(broken=False)
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        registry = await Registry.open(fleet.settings)
        await registry.add("newco", f"file:{fleet.paths['acme']}", None, "NewCo")
        await registry.close()
        app.registry_changed = True
        await pilot.press("escape")
        await settle(app, pilot)
        assert shown_slugs(app) == ["acme", "globex", "newco"]
        assert tenants_screen(app).health_of("newco").reachable


@pytest.fixture(scope="module")
def jwt_sqld(tmp_path_factory):
    """A sqld of this module's own, with JWT auth on, and a token it accepts."""
    from support.jwt_kit import JWTKeys
    from support.servers import running, start_sqld

    keys = JWTKeys()
    workdir = tmp_path_factory.mktemp("sqld")
    with running(lambda: start_sqld(keys.public_key, workdir=workdir)) as server:
        yield server, keys.token("rw")


@pytest.mark.servers
async def test_a_tenant_on_a_real_sqld_is_remote_reachable_and_counted(jwt_sqld) -> None:
    from tursotui.db import connect
    from tursotui.demo.build import seed_tenant
    from tursotui.tenant.migrations import load_folder, migrate

    server, token = jwt_sqld
    conn = await connect(server.http_url, token, name="remote")
    try:
        await migrate(conn, load_folder(None))
        await seed_tenant(conn, posts=12, seed=3)
        result = await conn.execute("SELECT status, count(*) FROM posts GROUP BY status")
        counts = {status: count for status, count in result.rows}
    finally:
        await conn.close()
    fleet = await build_fleet(slugs=("acme",), broken=False)
    registry = await Registry.open(fleet.settings)
    await registry.add("remote", server.http_url, token, "Remote Co")
    await registry.close()
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        health = tenants_screen(app).health_of("remote")
    assert health.reachable and health.schema == "current", health
    assert {k: v for k, v in health.counts.items() if v} == counts
    line = next(line for line in text.splitlines() if " remote " in line)
    assert "☁ 127.0.0.1" in line and " ms" in line and "current" in line
    assert token not in text


# --- schema drift the migrations cannot see ---------------------------------------------------


def _rename_title(path) -> bytes:
    """Rename `posts.title` by hand (migrations still read `current`); the bytes after."""
    db = sqlite3.connect(path)
    try:
        db.execute("ALTER TABLE posts RENAME COLUMN title TO headline")
        db.commit()
    finally:
        db.close()
    return path.read_bytes()


async def test_probe_says_which_columns_the_screens_need_are_missing() -> None:
    fleet = await build_fleet(broken=False)
    before = _rename_title(fleet.paths["acme"])
    workspace = await Workspace.open(fleet.settings)
    try:
        acme = await probe(workspace, await workspace.registry.get("acme"))
        globex = await probe(workspace, await workspace.registry.get("globex"))
    finally:
        await workspace.close()
    assert acme.reachable and acme.schema == "current"
    assert acme.error is not None and "posts lacks title" in acme.error
    assert globex.error is None
    assert fleet.paths["acme"].read_bytes() == before  # reading changed nothing


async def test_a_tenant_lacking_a_needed_column_is_flagged_on_its_row() -> None:
    fleet = await build_fleet(broken=False)
    _rename_title(fleet.paths["acme"])
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        acme = next(line for line in text.splitlines() if " acme " in line)
        assert "⚠" in acme
        assert "posts lacks title" in text  # the detail line of the highlighted row


def test_tenants_json_names_the_missing_column(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tursotui.cli import main

    fleet = asyncio.run(build_fleet(broken=False))
    _rename_title(fleet.paths["acme"])
    assert main(["tenants", "--json"]) == 0
    records = {r["slug"]: r for r in json.loads(capsys.readouterr().out)}
    assert "posts lacks title" in records["acme"]["error"]
    assert records["globex"]["error"] is None


# --- a fresh install --------------------------------------------------------------------------


async def test_a_fresh_home_says_how_to_start_and_which_registry_is_open(isolated_env) -> None:
    from tursotui.session.settings import load_settings

    settings = load_settings()
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
    assert "No tenants in this registry yet" in text
    assert "tursotui demo" in text and " n " in text
    assert "registry.db" in text and "the default" in text  # which registry, and why
    assert "TURSOTUI_REGISTRY_URL" in text  # how it is looked for
    header = text.splitlines()[0]
    assert "registry.db (default)" in header
    assert "0 tenants" in text


async def test_the_hint_of_an_empty_registry_goes_when_a_tenant_comes_and_returns(
    isolated_env, tmp_path
) -> None:
    """The hint is made when the registry is first read empty; refreshes hide and show it."""
    from tursotui.session.settings import load_settings

    settings = load_settings()
    tenant = tmp_path / "acme.db"
    sqlite3.connect(tenant).close()
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "No tenants in this registry yet" in screen_text(app)
        registry = await Registry.open(settings)
        await registry.add("acme", f"file:{tenant}", name="Acme")
        await pilot.press("r")
        await settle(app, pilot)
        text = screen_text(app)
        assert "No tenants" not in text and shown_slugs(app) == ["acme"]
        await registry.remove("acme")
        await registry.close()
        await pilot.press("r")
        await settle(app, pilot)
        text = screen_text(app)
        assert "No tenants in this registry yet" in text and "0 tenants" in text


async def test_the_header_names_a_registry_given_in_the_environment(monkeypatch) -> None:
    fleet = await build_fleet(slugs=("acme",), broken=False)
    registry = fleet.settings.data_dir / "registry.db"
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", f"file:{registry}")
    from tursotui.session.settings import load_settings

    app = make_app(load_settings())
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
    assert "($TURSOTUI_REGISTRY_URL)" in text.splitlines()[0]
    assert "No tenants" not in text
    assert "1 tenant │" in text and "1 tenants" not in text


async def test_six_digit_counts_fit_at_80_columns_and_the_detail_line_has_them_exact() -> None:
    fleet = await build_fleet(slugs=("acme",), broken=False)
    db = sqlite3.connect(fleet.paths["acme"])
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250000) "
        "INSERT INTO posts (id, title, content, author_id, status) "
        "SELECT 'bulk-' || i, 't', 'c', 'nobody', 'draft' FROM n"
    )
    db.commit()
    db.close()
    drafts = db_counts(fleet.paths["acme"])["draft"]
    assert drafts > 250_000
    app = make_app(fleet.settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
    row = next(line for line in text.splitlines() if " acme " in line)
    assert f"{drafts // 1000}k" in row and "250,…" not in row
    assert f"draft {drafts:,}" in text  # the detail line of the highlighted row
