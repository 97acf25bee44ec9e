"""Delete protection, blocked tenants and undelete, through the Platform API test server (which
validates every call against the spec, v3 recovery calls included) and on local files."""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.platform_server import PlatformServer
from support.provisioning import turso
from tursotui.cli import main
from tursotui.db import connect
from tursotui.provision import ProvisionError, create_tenant, destroy_tenant
from tursotui.provision.protect import (
    protection_refusal,
    set_group_protection,
    set_protection,
    tenant_flags,
)
from tursotui.provision.undelete import list_deleted, undelete_tenant
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace


@pytest.fixture
async def workspace() -> AsyncIterator[Workspace]:
    opened = await Workspace.open(load_settings(timeout=2.0))
    try:
        yield opened
    finally:
        await opened.close()


async def slugs(workspace: Workspace) -> list[str]:
    return [t.slug for t in await workspace.registry.tenants()]


def data_dir() -> Path:
    return Path(os.environ["TURSOTUI_DATA_DIR"])


# -- delete protection -----------------------------------------------------------------------


async def test_protected_tenant_is_refused_before_any_delete(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """Protection set through the API is read back, refuses destroy with the way to lift it,
    and nothing is deleted; lifted, the destroy goes through."""
    tenant = await create_tenant(workspace, "acme", provisioner=turso(platform))
    assert await set_protection(workspace, "acme", True, provisioner=turso(platform)) is False
    assert platform.databases["acme"].delete_protection is True
    flags = (await tenant_flags(workspace, [tenant], provisioner=turso(platform)))["acme"]
    assert (flags.protected, flags.labels(), flags.where) == (True, ["protected"], "turso")
    refusal = "cannot destroy tenant acme: it is delete-protected; lift the protection first "
    refusal += "with: tursotui tenants protect acme --off"
    assert await protection_refusal(workspace, tenant, provisioner=turso(platform)) == refusal
    with pytest.raises(ProvisionError) as refused:
        await destroy_tenant(workspace, "acme", provisioner=turso(platform))
    assert str(refused.value) == refusal
    assert platform.calls("deleteDatabase") == 0 and "acme" in platform.databases
    assert await slugs(workspace) == ["acme"]
    assert await set_protection(workspace, "acme", False, provisioner=turso(platform)) is True
    assert await destroy_tenant(workspace, "acme", provisioner=turso(platform)) is True
    actions = [(e.action, e.status, e.before, e.after) for e in workspace.audit.entries()]
    assert ("protect-tenant", "ok", False, True) in actions
    assert ("protect-tenant", "ok", True, False) in actions


async def test_group_protection_refuses_its_tenants(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """A protected group protects its databases: destroy names the group and how to lift it."""
    tenant = await create_tenant(workspace, "acme", provisioner=turso(platform))
    await set_group_protection(workspace, "default", True, provisioner=turso(platform))
    assert platform.group_protection == {"default": True}
    refusal = await protection_refusal(workspace, tenant, provisioner=turso(platform))
    assert refusal == (
        "cannot destroy tenant acme: its group default is delete-protected; lift it first "
        "with: tursotui tenants protect --group default --off"
    )
    with pytest.raises(ProvisionError):
        await destroy_tenant(workspace, "acme", provisioner=turso(platform))
    assert "acme" in platform.databases


async def test_blocked_tenant_is_shown_blocked(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """Blocked reads or writes (an unpaid bill) are part of what the flags say."""
    tenant = await create_tenant(workspace, "acme", provisioner=turso(platform))
    platform.databases["acme"].block_writes = True
    flags = (await tenant_flags(workspace, [tenant], provisioner=turso(platform)))["acme"]
    assert (flags.blocked, flags.labels()) == ("writes blocked", ["writes blocked"])
    platform.databases["acme"].block_reads = True
    flags = (await tenant_flags(workspace, [tenant], provisioner=turso(platform)))["acme"]
    assert flags.blocked == "reads and writes blocked"


async def test_protection_is_refused_in_a_read_only_session(platform: PlatformServer) -> None:
    """Read-only: refused with the reason, no API call, nothing audited."""
    opened = await Workspace.open(load_settings(timeout=2.0))
    try:
        await create_tenant(opened, "acme", provisioner=turso(platform))
    finally:
        await opened.close()
    read_only = await Workspace.open(load_settings(timeout=2.0, read_only=True))
    try:
        calls = len(platform.requests)
        with pytest.raises(
            ProvisionError, match="cannot protect tenant acme: tursotui is in read-only"
        ):
            await set_protection(read_only, "acme", True, provisioner=turso(platform))
        assert len(platform.requests) == calls
        assert platform.databases["acme"].delete_protection is False
    finally:
        await read_only.close()


def test_cli_protects_a_local_tenant_and_destroy_refuses_before_asking(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`tenants protect` on a local tenant: `tenants --json` says so, `destroy` (even without
    --yes, before the question) refuses; `--off` lifts it."""
    assert main(["tenants", "create", "acme"]) == 0
    assert main(["tenants", "protect", "acme", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == {"slug": "acme", "delete_protection": True, "before": False}
    assert "tenant acme is delete-protected" in out.err
    assert main(["tenants", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert (record["delete_protection"], record["block_writes"]) == (True, False)
    assert main(["tenants"]) == 0
    table = capsys.readouterr().out
    assert "lifecycle" in table.splitlines()[0] and "protected" in table
    assert main(["tenants", "destroy", "acme"]) == 1
    assert capsys.readouterr().err == (
        "error: cannot destroy tenant acme: it is delete-protected; lift the protection first "
        "with: tursotui tenants protect acme --off\n"
    )
    assert (data_dir() / "tenants" / "acme.db").is_file()
    assert main(["--read-only", "tenants", "protect", "acme", "--off"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert main(["tenants", "protect", "acme", "--off"]) == 0
    assert main(["tenants", "destroy", "acme", "--yes"]) == 0
    assert not (data_dir() / "tenants" / "acme.db").exists()


# -- undelete: local trash -------------------------------------------------------------------


def test_local_destroy_goes_to_the_trash_and_undelete_brings_it_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The file and its rows survive destroy in the trash; undelete registers it again."""
    assert main(["tenants", "create", "acme", "--name", "Acme Inc"]) == 0
    path = data_dir() / "tenants" / "acme.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE keep (v TEXT)")
        db.execute("INSERT INTO keep VALUES ('still here')")
    assert main(["tenants", "destroy", "acme", "--yes"]) == 0
    assert "tursotui tenants undelete acme" in capsys.readouterr().err
    assert not path.exists()
    assert main(["tenants", "deleted", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert (entry["slug"], entry["where"], entry["name"]) == ("acme", "local", "Acme Inc")
    assert main(["tenants", "undelete", "acme"]) == 0
    assert "undeleted tenant acme" in capsys.readouterr().err
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT v FROM keep").fetchall() == [("still here",)]
    with sqlite3.connect(data_dir() / "registry.db") as db:
        rows = db.execute("SELECT slug, name, db_url FROM organizations").fetchall()
    assert rows == [("acme", "Acme Inc", f"file:{path}")]
    assert list((data_dir() / "trash").iterdir()) == []
    assert main(["tenants", "undelete", "acme"]) == 1
    assert "is in the registry already" in capsys.readouterr().err


def test_expired_trash_is_purged_on_the_next_listing(capsys: pytest.CaptureFixture[str]) -> None:
    """An entry older than TURSOTUI_TRASH_DAYS is removed for good by `tenants deleted`."""
    assert main(["tenants", "create", "acme"]) == 0
    assert main(["tenants", "destroy", "acme", "--yes"]) == 0
    [folder] = list((data_dir() / "trash").iterdir())
    meta = json.loads((folder / "tenant.json").read_text())
    old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=8)
    meta["deleted_at"] = old.isoformat()
    (folder / "tenant.json").write_text(json.dumps(meta))
    capsys.readouterr()
    assert main(["tenants", "deleted", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not folder.exists()
    assert main(["tenants", "undelete", "acme"]) == 1
    assert "the trash" in capsys.readouterr().err


async def test_local_undelete_register_failure_puts_the_file_back(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry refuses the row: the file goes back into the trash, nothing half-done."""
    from tursotui.session.registry import RegistryError

    await create_tenant(workspace, "acme")
    await destroy_tenant(workspace, "acme")

    async def failing_add(*args, **kwargs):
        raise RegistryError("registry: disk I/O error")

    monkeypatch.setattr(workspace.registry, "add", failing_add)
    with pytest.raises(ProvisionError, match=r"failed at step 'register'.*still in the trash"):
        await undelete_tenant(workspace, "acme")
    assert not (workspace.settings.data_dir / "tenants" / "acme.db").exists()
    [entry] = await list_deleted(workspace)
    assert entry.slug == "acme"
    assert await slugs(workspace) == []


# -- undelete: Turso (v3) --------------------------------------------------------------------


async def test_turso_undelete_restores_the_data_with_a_new_token(
    workspace: Workspace, sqld_platform: PlatformServer
) -> None:
    """Destroyed through the API, listed as deleted, restored as it was when deleted, with a
    token that sqld accepts, and registered again."""
    tenant = await create_tenant(workspace, "acme", provisioner=turso(sqld_platform))
    connection = await connect(tenant.url, tenant.token)
    await connection.execute("CREATE TABLE keep (v TEXT)")
    await connection.execute("INSERT INTO keep VALUES ('still here')")
    await connection.close()
    await destroy_tenant(workspace, "acme", provisioner=turso(sqld_platform))
    [gone] = await list_deleted(workspace, provisioner=turso(sqld_platform))
    assert (gone.slug, gone.where) == ("acme", "turso") and gone.deleted_at
    back = await undelete_tenant(workspace, "acme", provisioner=turso(sqld_platform))
    assert await slugs(workspace) == ["acme"]
    connection = await connect(back.url, back.token)
    try:
        assert (await connection.execute("SELECT v FROM keep")).rows[0][0] == "still here"
    finally:
        await connection.close()
    assert sqld_platform.deleted == {}
    assert sqld_platform.calls("restoreDatabaseV3") == 1


async def test_turso_undelete_token_failure_deletes_the_restored_database_again(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """Minting fails after the restore: the database is deleted again (still restorable),
    no row is registered; running it again finishes."""
    await create_tenant(workspace, "acme", provisioner=turso(platform))
    await destroy_tenant(workspace, "acme", provisioner=turso(platform))
    platform.fail("createDatabaseToken", 400, error="bad expiration")
    with pytest.raises(ProvisionError) as failed:
        await undelete_tenant(workspace, "acme", provisioner=turso(platform))
    assert "failed at step 'mint token'" in str(failed.value)
    assert "deleted again" in str(failed.value)
    assert "acme" not in platform.databases and len(platform.deleted) == 1
    assert await slugs(workspace) == []
    await undelete_tenant(workspace, "acme", provisioner=turso(platform))
    assert await slugs(workspace) == ["acme"] and "acme" in platform.databases


async def test_undelete_says_when_the_plan_does_not_offer_it(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """On a plan without recovery the API answers 403: one line that says so."""
    await create_tenant(workspace, "acme", provisioner=turso(platform))
    await destroy_tenant(workspace, "acme", provisioner=turso(platform))
    platform.paid_plan = False
    with pytest.raises(ProvisionError) as refused:
        await undelete_tenant(workspace, "acme", provisioner=turso(platform))
    assert "cannot undelete tenant acme: the organization cannot restore deleted databases" in (
        str(refused.value)
    )
    assert "HTTP 403" in str(refused.value)
    with pytest.raises(ProvisionError, match="cannot restore deleted databases"):
        await list_deleted(workspace, provisioner=turso(platform))
    assert await slugs(workspace) == []


# -- the tenants screen ----------------------------------------------------------------------


async def test_tenants_screen_marks_protected_and_refuses_destroy_before_asking() -> None:
    """A protected local tenant has its marker and the words in the detail line; `D` says
    how to lift the protection and no confirmation opens; its usage opens from the palette;
    unprotected, `D` asks."""
    from support.moderation_fixtures import settle
    from support.screen import screen_text, until
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.destroy_tenant import DestroyTenantScreen
    from tursotui.ui.screens.tenants import TenantsScreen
    from tursotui.ui.screens.usage import UsageScreen

    workspace = await Workspace.open(load_settings())
    await create_tenant(workspace, "acme")
    await set_protection(workspace, "acme", True)
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        await until(pilot, lambda: "acme ◆" in screen_text(app))
        assert "protected" in screen_text(app)
        await pilot.press("D")
        await until(
            pilot,
            lambda: any(
                "tursotui tenants protect acme --off" in str(n.message) for n in app._notifications
            ),
        )
        assert not isinstance(app.screen, DestroyTenantScreen)
        await set_protection(workspace, "acme", False)
        await pilot.press("r")
        await until(pilot, lambda: "acme ◆" not in screen_text(app))
        commands = {name: run for name, run, _help in app.screen.palette_commands()}
        commands["tenant: usage of acme"]()
        await until(pilot, lambda: isinstance(app.screen, UsageScreen))
        await until(pilot, lambda: "Usage of acme" in screen_text(app))  # painted, not only pushed
        size = (workspace.settings.data_dir / "tenants" / "acme.db").stat().st_size
        text = screen_text(app)
        assert "Usage of acme" in text and f"storage  {size:,} bytes" in text, text
        assert "pages" in text and "from local" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TenantsScreen))
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, DestroyTenantScreen))
    assert (workspace.settings.data_dir / "tenants" / "acme.db").is_file()
    await workspace.close()


# -- group tokens ----------------------------------------------------------------------------


async def test_group_rotation_names_the_rows_and_rekey_makes_them_answer(
    workspace: Workspace, sqld_platform: PlatformServer
) -> None:
    """Rotating the group really invalidates the stored tokens (sqld restarts under a new
    key); the impact names every row needing one; --rekey stores tokens that work."""
    from tursotui.db import LibsqlError
    from tursotui.provision.group_tokens import group_impact, rotate_group_tokens

    acme = await create_tenant(workspace, "acme", provisioner=turso(sqld_platform))
    beta = await create_tenant(workspace, "beta", provisioner=turso(sqld_platform))
    impact = await group_impact(workspace, "default", provisioner=turso(sqld_platform))
    assert impact.stored == ["acme", "beta"] and impact.databases == ["acme", "beta"]
    assert "Registry rows that will need a new token (2): acme, beta" in impact.summary()
    outcome = await rotate_group_tokens(workspace, "default", provisioner=turso(sqld_platform))
    assert outcome.rekeyed == []
    with pytest.raises(LibsqlError):
        connection = await connect(acme.url, acme.token)
        try:
            await connection.execute("SELECT 1")
        finally:
            await connection.close()
    outcome = await rotate_group_tokens(
        workspace, "default", rekey=True, provisioner=turso(sqld_platform)
    )
    assert (outcome.rekeyed, outcome.failed) == (["acme", "beta"], {})
    for slug in ("acme", "beta"):
        tenant = await workspace.registry.get(slug)
        assert tenant.token is not None and tenant.token != beta.token
        connection = await connect(tenant.url, tenant.token)
        try:
            assert (await connection.execute("SELECT 1")).rows[0][0] == 1
        finally:
            await connection.close()
    actions = [(e.action, e.tenant, e.status) for e in workspace.audit.entries()]
    assert ("rotate-group-token", "group:default", "ok") in actions
    assert sqld_platform.calls("invalidateGroupTokens") == 2


async def test_group_token_mint_is_audited_without_the_token(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """Minted read-only with an expiration (the server checks the query against the spec);
    the audit log records the act, never the token; read-only sessions are refused."""
    from tursotui.provision.group_tokens import mint_group_token

    token = await mint_group_token(
        workspace, "eu", expiration="2w", read_only=True, provisioner=turso(platform)
    )
    assert token.get_secret_value().startswith("group-eu-")
    log = (workspace.settings.data_dir / "audit.jsonl").read_text()
    assert "mint-group-token" in log and token.get_secret_value() not in log
    with pytest.raises(ProvisionError, match="group nope"):
        await mint_group_token(workspace, "nope", provisioner=turso(platform))
    read_only = await Workspace.open(load_settings(read_only=True))
    try:
        with pytest.raises(ProvisionError, match="read-only"):
            await mint_group_token(read_only, "eu", provisioner=turso(platform))
    finally:
        await read_only.close()


def test_trash_days_zero_deletes_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """TURSOTUI_TRASH_DAYS=0: destroy deletes the file; nothing waits in the trash."""
    monkeypatch.setenv("TURSOTUI_TRASH_DAYS", "0")
    assert main(["tenants", "create", "acme"]) == 0
    assert main(["tenants", "destroy", "acme", "--yes"]) == 0
    assert not (data_dir() / "tenants" / "acme.db").exists()
    assert not (data_dir() / "trash").exists()
    capsys.readouterr()
    assert main(["tenants", "deleted", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


# -- usage -----------------------------------------------------------------------------------


async def test_usage_from_the_api_with_index_advice(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """Totals from `usage`, top queries from `stats` (most rows read first); a query on posts
    of a tenant lacking the posts indexes carries the advice; most costly tenant first."""
    from tursotui.provision.usage import tenant_usage

    acme = await create_tenant(workspace, "acme", provisioner=turso(platform))
    beta = await create_tenant(workspace, "beta", provisioner=turso(platform))
    connection = await connect(acme.url, acme.token)
    try:
        await connection.execute('DROP INDEX "posts_status_published_at_idx"')
    finally:
        await connection.close()
    platform.usage["acme"] = {"rows_read": 10, "rows_written": 2, "storage_bytes": 8192}
    platform.usage["beta"] = {"rows_read": 900, "rows_written": 5}
    platform.top_queries["acme"] = [
        {"query": "SELECT id FROM users", "rows_read": 3, "rows_written": 0},
        {"query": "SELECT * FROM posts WHERE status = ?", "rows_read": 7, "rows_written": 0},
    ]
    found = await tenant_usage(workspace, [acme, beta], provisioner=turso(platform))
    assert [(u.slug, u.where, u.rows_read) for u in found] == [
        ("beta", "turso", 900),
        ("acme", "turso", 10),
    ]
    top = found[1].top_queries
    assert [q["query"] for q in top] == [
        "SELECT * FROM posts WHERE status = ?",
        "SELECT id FROM users",
    ]
    assert top[0]["advice"] == ["missing index posts(status, published_at)"]
    assert top[1]["advice"] == []
    assert found[0].top_queries == []


def test_usage_of_local_tenants(capsys: pytest.CaptureFixture[str]) -> None:
    """A local tenant: its file's size and SQLite's page counts; reading changes nothing."""
    assert main(["tenants", "create", "acme"]) == 0
    path = data_dir() / "tenants" / "acme.db"
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["tenants", "usage", "--json"]) == 0
    [usage] = json.loads(capsys.readouterr().out)
    assert (usage["slug"], usage["where"], usage["storage_bytes"]) == ("acme", "local", len(before))
    assert usage["pages"] * 4096 >= usage["storage_bytes"] - 4096 and usage["free_pages"] == 0
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    assert main(["tenants", "usage", "nope"]) == 1


async def test_fleet_marks_protected_and_blocked_tenants(
    platform: PlatformServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fleet asks the Platform API once: a protected tenant's row is marked, a blocked
    tenant's state reads `block` (not `ok`)."""
    from support.moderation_fixtures import settle
    from support.screen import screen_text
    from tursotui.provision import protect
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.fleet import FleetScreen

    workspace = await Workspace.open(load_settings())
    await create_tenant(workspace, "acme", provisioner=turso(platform))
    await create_tenant(workspace, "beta", provisioner=turso(platform))
    platform.databases["acme"].delete_protection = True
    platform.databases["beta"].block_writes = True
    real = protect.tenant_flags

    async def through_test_server(workspace, tenants, *, provisioner=None):
        return await real(workspace, tenants, provisioner=turso(platform))

    monkeypatch.setattr(protect, "tenant_flags", through_test_server)
    app = make_app(workspace.settings, workspace)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        app.push_screen(FleetScreen())
        await settle(app, pilot)
        text = screen_text(app)
        assert "acme ◆" in text
        beta_line = next(line for line in text.splitlines() if "beta" in line)
        assert beta_line.split()[:2] == ["beta", "block"]  # its state, not `ok`
        acme_line = next(line for line in text.splitlines() if "acme" in line)
        assert acme_line.split()[:3] == ["acme", "◆", "ok"]
    await workspace.close()


async def test_turso_undelete_restore_failure_changes_nothing(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """The restore call fails for good (5xx, retried): nothing restored, nothing registered,
    still restorable; the message names the tenant and the cause."""
    await create_tenant(workspace, "acme", provisioner=turso(platform))
    await destroy_tenant(workspace, "acme", provisioner=turso(platform))
    platform.fail("restoreDatabaseV3", 503, times=4)
    with pytest.raises(ProvisionError) as failed:
        await undelete_tenant(workspace, "acme", provisioner=turso(platform))
    assert str(failed.value).startswith("cannot undelete tenant acme: Turso Platform API:")
    assert "HTTP 503" in str(failed.value)
    assert platform.calls("restoreDatabaseV3") == 4  # retried like every call
    assert "acme" not in platform.databases and len(platform.deleted) == 1
    assert await slugs(workspace) == []


async def test_turso_undelete_register_failure_deletes_it_again(
    workspace: Workspace, platform: PlatformServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry refuses the row after the restore: the database is deleted again."""
    from tursotui.session.registry import RegistryError

    await create_tenant(workspace, "acme", provisioner=turso(platform))
    await destroy_tenant(workspace, "acme", provisioner=turso(platform))

    async def failing_add(*args, **kwargs):
        raise RegistryError("registry: disk I/O error")

    monkeypatch.setattr(workspace.registry, "add", failing_add)
    with pytest.raises(ProvisionError, match=r"failed at step 'register'.*deleted again"):
        await undelete_tenant(workspace, "acme", provisioner=turso(platform))
    assert "acme" not in platform.databases and len(platform.deleted) == 1
    assert await slugs(workspace) == []


async def test_new_client_calls_follow_the_spec(platform: PlatformServer) -> None:
    """Each new Platform API call, answered by the spec-checking server (the fixture fails
    on any violation): configuration, group configuration, organization id, v3 listing."""
    api = turso(platform).client
    try:
        await api.create_database("acme", "default")
        config = await api.update_database_configuration("acme", delete_protection=True)
        assert config["delete_protection"] is True
        assert (await api.get_database_configuration("acme"))["delete_protection"] is True
        assert (await api.get_group_configuration("eu")) == {"delete_protection": False}
        assert await api.organization_id() == platform.org_id
        assert await api.list_deleted_databases() == []
        usage = await api.database_usage("acme")
        assert usage["total"]["storage_bytes"] == 4096
        assert await api.database_stats("acme") == []
    finally:
        await api.close()
    assert platform.violations == []


async def test_usage_of_a_self_hosted_sqld_namespace_from_its_admin_api(
    workspace: Workspace,
) -> None:
    """With TURSOTUI_SQLD_ADMIN_URL, a remote tenant's figures come from sqld's own
    `/v1/namespaces/<first label>/stats`: the rows it really wrote, its queries."""
    from support.servers import create_namespace, loopback_host, running, start_sqld
    from tursotui.provision.usage import namespace_of, tenant_usage

    assert namespace_of("acme.db.example:8080") == "acme"
    assert namespace_of("127.0.0.1:8080") == "default"
    with running(lambda: start_sqld(None, namespaces=True)) as server:
        create_namespace(server, "acme")
        host = loopback_host("acme.tursotui.test")
        url = f"http://{host}:{server.port}"
        tenant = await workspace.registry.add("acme", url, None, "Acme")
        connection = await connect(url, None)
        try:
            await connection.execute("CREATE TABLE posts (id TEXT PRIMARY KEY, status TEXT)")
            await connection.execute("INSERT INTO posts VALUES ('p1', 'draft'), ('p2', 'draft')")
            await connection.execute("SELECT * FROM posts WHERE status = 'draft'")
        finally:
            await connection.close()
        workspace.settings.sqld_admin_url = f"http://127.0.0.1:{server.admin_port}"
        [usage] = await tenant_usage(workspace, [tenant])
    assert (usage.where, usage.error) == ("sqld", None)
    assert usage.rows_written is not None and usage.rows_written >= 2
    assert any("FROM posts" in q["query"] for q in usage.top_queries)
    [slow] = [q for q in usage.top_queries if "WHERE status" in q["query"]]
    assert slow["advice"] == ["missing index posts(status, published_at)"]


def test_usage_screen_text_shows_top_queries_with_advice_literally() -> None:
    """Figures the host gives, then each top query (from the server: shown literally) and its
    advice; figures the host does not give are left out."""
    from tursotui.provision.usage import TenantUsage
    from tursotui.ui.screens.usage import usage_text

    usage = TenantUsage(
        "acme",
        where="turso",
        rows_read=12_345,
        rows_written=67,
        storage_bytes=4096,
        top_queries=[
            {
                "query": "SELECT * FROM posts WHERE title = '[b]x[/b]'",
                "rows_read": 9000,
                "rows_written": 0,
                "advice": ["CREATE INDEX posts_title ON posts (title)"],
            }
        ],
    )
    text = usage_text(usage).plain
    assert "rows read  12,345" in text and "storage  4,096 bytes" in text
    assert "pages" not in text  # not given by Turso
    assert "SELECT * FROM posts WHERE title = '[b]x[/b]'" in text
    assert "advice: CREATE INDEX posts_title ON posts (title)" in text
    assert "read 9,000 · written 0" in text
    assert "No query statistics" in usage_text(TenantUsage("beta", where="local")).plain
