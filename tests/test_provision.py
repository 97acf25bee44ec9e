"""The create/destroy/rotate sagas, on local files and through the Platform API test server.

Faults are injected at every step (Platform API statuses by the test server, a
slow migration, a failing registry write, a failing undo); after each, the
tests check what is left: no orphan database, no registry row without a
database, a clear message, and that running the command again finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.platform_server import PlatformServer
from support.provisioning import turso
from support.secrets_watch import watch
from tursotui.db import LibsqlError, connect
from tursotui.db import errors as db_errors
from tursotui.provision import (
    CREATE_STEPS,
    LocalProvisioner,
    ProvisionError,
    StepReport,
    create_tenant,
    destroy_tenant,
    rotate_token,
    slug_problem,
)
from tursotui.provision import create as create_saga
from tursotui.session.registry import RegistryError
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.tenant.migrations import load_folder


@pytest.fixture
async def workspace() -> AsyncIterator[Workspace]:
    """A workspace on the default local registry under the test's data dir."""
    opened = await Workspace.open(load_settings(timeout=2.0))
    try:
        yield opened
    finally:
        await opened.close()


async def migrations_rows(url: str, token=None) -> list[tuple[str, int]]:
    connection = await connect(url, token)
    try:
        result = await connection.execute(
            'SELECT hash, created_at FROM "__drizzle_migrations" ORDER BY created_at'
        )
        return [(row[0], int(row[1])) for row in result.rows]
    finally:
        await connection.close()


def expected_rows() -> list[tuple[str, int]]:
    return [(m.hash, m.when) for m in load_folder(None).migrations]


async def slugs(workspace: Workspace) -> list[str]:
    return [t.slug for t in await workspace.registry.tenants()]


# -- slugs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["acme", "a", "acme-2", "0day", "a" * 63, "x-y-z"])
def test_good_slugs(slug: str) -> None:
    """Lowercase letters, digits and single inner dashes, up to 63 characters."""
    assert slug_problem(slug) is None


@pytest.mark.parametrize(
    ("slug", "problem"),
    [
        ("", "the slug is empty"),
        ("Acme", "the slug must be lowercase"),
        ("-acme", "the slug cannot start or end with a dash"),
        ("acme-", "the slug cannot start or end with a dash"),
        ("ac--me", "the slug cannot contain two dashes in a row"),
        ("ac_me", "the slug may hold only lowercase letters, digits and dashes"),
        ("ac me", "the slug may hold only lowercase letters, digits and dashes"),
        ("acmé", "the slug may hold only lowercase letters, digits and dashes"),
        ("../etc", "the slug may hold only lowercase letters, digits and dashes"),
        ("a" * 64, "the slug is 64 characters long; at most 63"),
    ],
)
async def test_bad_slugs_are_refused_before_anything(
    slug: str, problem: str, workspace: Workspace, platform: PlatformServer
) -> None:
    """A bad slug is refused with the reason, before any call or file."""
    with pytest.raises(ProvisionError) as refused:
        await create_tenant(workspace, slug, provisioner=turso(platform))
    assert str(refused.value) == f"cannot create tenant {slug!r}: {problem}"
    assert platform.requests == []
    assert not (workspace.settings.data_dir / "tenants").exists()


# -- local provisioning ----------------------------------------------------------------------


async def test_local_create_makes_a_migrated_registered_tenant(workspace: Workspace) -> None:
    """The file exists, is migrated as drizzle would, answers, and is registered; steps in order."""
    reports: list[StepReport] = []
    tenant = await create_tenant(workspace, "acme", name="Acme Inc", progress=reports.append)
    path = workspace.settings.data_dir / "tenants" / "acme.db"
    assert tenant.url == f"file:{path}"
    assert (tenant.slug, tenant.name, tenant.token) == ("acme", "Acme Inc", None)
    assert path.is_file()
    assert await migrations_rows(tenant.url) == expected_rows()
    assert [r.step for r in reports if r.status == "done"] == list(CREATE_STEPS)
    assert [t.slug for t in await workspace.registry.tenants()] == ["acme"]
    entries = [(e.action, e.tenant, e.status) for e in workspace.audit.entries()]
    assert entries == [("create-tenant", "acme", "pending"), ("create-tenant", "acme", "ok")]


async def test_creating_an_existing_slug_is_a_clear_error(workspace: Workspace) -> None:
    """A slug already in the registry is refused; its database is untouched."""
    await create_tenant(workspace, "acme")
    with pytest.raises(ProvisionError, match=r"^tenant acme is already in the registry$"):
        await create_tenant(workspace, "acme")
    assert (workspace.settings.data_dir / "tenants" / "acme.db").is_file()


async def test_registry_write_failing_leaves_nothing_then_rerun_works(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry refuses the row: the new file is deleted again; the next run succeeds."""
    real_add = workspace.registry.add

    async def failing_add(*args, **kwargs):
        raise RegistryError("registry: disk I/O error")

    monkeypatch.setattr(workspace.registry, "add", failing_add)
    with pytest.raises(ProvisionError) as failed:
        await create_tenant(workspace, "acme")
    assert str(failed.value) == (
        "creating tenant acme failed at step 'register': registry: disk I/O error. "
        "The new database was deleted again; nothing is left behind."
    )
    assert failed.value.cleanup is None
    assert list((workspace.settings.data_dir / "tenants").iterdir()) == []
    assert await slugs(workspace) == []
    monkeypatch.setattr(workspace.registry, "add", real_add)
    await create_tenant(workspace, "acme")
    assert await slugs(workspace) == ["acme"]


async def test_timeout_while_migrating_is_undone_then_rerun_works(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration that hangs past its time: the step fails as timed out and the file goes."""
    real_migrate = create_saga.migrate

    async def hanging(*args, **kwargs):
        await asyncio.sleep(60)

    workspace.settings.timeout = 0.1
    monkeypatch.setattr(create_saga, "migrate", hanging)
    with pytest.raises(ProvisionError, match="failed at step 'migrate': timed out"):
        await create_tenant(workspace, "acme")
    assert not (workspace.settings.data_dir / "tenants" / "acme.db").exists()
    assert await slugs(workspace) == []
    monkeypatch.setattr(create_saga, "migrate", real_migrate)
    workspace.settings.timeout = 2.0
    tenant = await create_tenant(workspace, "acme")
    assert await migrations_rows(tenant.url) == expected_rows()


async def test_failed_undo_names_the_cleanup_command_and_rerun_adopts(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Undo fails too: the message holds the exact `rm` command; a re-run finishes the job."""
    local = LocalProvisioner(workspace.settings.data_dir / "tenants")
    path = local.path("acme")

    async def failing_add(*args, **kwargs):
        raise RegistryError("registry: database is locked")

    async def failing_delete(slug: str) -> bool:
        raise ProvisionError("permission denied")

    monkeypatch.setattr(workspace.registry, "add", failing_add)
    monkeypatch.setattr(local, "delete_database", failing_delete)
    with pytest.raises(ProvisionError) as failed:
        await create_tenant(workspace, "acme", provisioner=local)
    command = f"rm -f {path} {path}-wal {path}-shm {path}-journal"
    assert failed.value.cleanup == command
    assert str(failed.value).endswith(
        f"Deleting the new database failed too (permission denied); clean up with: {command}"
    )
    assert path.exists() and await slugs(workspace) == []
    monkeypatch.undo()
    reports: list[StepReport] = []
    await create_tenant(workspace, "acme", progress=reports.append)
    assert StepReport("create database", "done", "adopted the existing, unregistered database") in (
        reports
    )
    assert await slugs(workspace) == ["acme"]


async def test_local_destroy_removes_file_and_row(workspace: Workspace) -> None:
    """`destroy` deletes the database file (and its WAL files) and the registry row, audited."""
    tenant = await create_tenant(workspace, "acme")
    await workspace.connection(tenant)  # a cached connection holds the WAL files open
    folder = workspace.settings.data_dir / "tenants"
    assert await destroy_tenant(workspace, "acme") is True
    assert list(folder.iterdir()) == []
    assert await slugs(workspace) == []
    actions = [(e.action, e.status) for e in workspace.audit.entries()]
    assert actions[-2:] == [("destroy-tenant", "pending"), ("destroy-tenant", "ok")]


async def test_destroy_of_half_broken_tenants(workspace: Workspace) -> None:
    """A tenant whose file is gone, and a row with no URL at all, can both be removed."""
    tenant = await create_tenant(workspace, "gone")
    Path(tenant.location.target).unlink()
    await workspace.registry.connection.execute(
        "INSERT INTO organizations (id, name, slug, db_url, db_token) "
        "VALUES ('x', 'B', 'bad', '', '')"
    )
    assert [(t.slug, t.broken) for t in await workspace.registry.tenants()] == [
        ("bad", True),
        ("gone", False),
    ]
    assert await destroy_tenant(workspace, "gone") is False
    assert await destroy_tenant(workspace, "bad") is False
    assert await slugs(workspace) == []


async def test_destroy_refuses_a_file_tursotui_did_not_make(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A registered file outside the tenants folder is the operator's: nothing is deleted."""
    own = tmp_path / "precious.db"
    connection = await connect(f"file:{own}", create=True)
    await connection.close()
    await workspace.registry.add("mine", f"file:{own}")
    with pytest.raises(ProvisionError, match="tursotui tenants remove mine"):
        await destroy_tenant(workspace, "mine")
    assert own.exists() and await slugs(workspace) == ["mine"]


async def test_rotate_refuses_local_tenants(workspace: Workspace) -> None:
    """A local tenant has no token to rotate."""
    await create_tenant(workspace, "acme")
    with pytest.raises(ProvisionError, match="a local tenant has none"):
        await rotate_token(workspace, "acme")


async def test_read_only_mode_refuses_every_saga(workspace: Workspace) -> None:
    """In read-only mode nothing is created, destroyed or re-keyed."""
    await create_tenant(workspace, "acme")
    workspace.settings.read_only = True
    for saga in (create_tenant, destroy_tenant, rotate_token):
        with pytest.raises(ProvisionError, match="read-only mode"):
            await saga(workspace, "acme" if saga is not create_tenant else "other")


# -- the Platform API (file-backed test server) ----------------------------------------------


async def test_turso_create_survives_500_and_429(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """500 then success on create, 429 with Retry-After on the token: the tenant is made."""
    platform.fail("createDatabase", 500)
    platform.fail("createDatabaseToken", 429, retry_after="1")
    provisioner = turso(platform)
    tenant = await create_tenant(workspace, "acme", group="eu", provisioner=provisioner)
    await provisioner.close()
    assert platform.databases["acme"].group == "eu"
    assert tenant.token is not None and tenant.token.get_secret_value().startswith("file-token-")
    assert await slugs(workspace) == ["acme"]
    assert await migrations_rows(tenant.url) == expected_rows()
    assert platform.calls("createDatabase") == 2
    assert platform.calls("createDatabaseToken") == 2


@pytest.mark.parametrize(
    ("operation", "status", "step"),
    [
        ("createDatabaseToken", 400, "mint token"),
        ("createDatabaseToken", 503, "mint token"),
    ],
)
async def test_turso_failing_step_deletes_the_new_database(
    workspace: Workspace, platform: PlatformServer, operation: str, status: int, step: str
) -> None:
    """A step that fails for good: the database is deleted through the API; no row; re-run works."""
    platform.fail(operation, status, times=10, error="no tokens today")
    provisioner = turso(platform)
    with pytest.raises(ProvisionError) as failed:
        await create_tenant(workspace, "acme", provisioner=provisioner)
    assert failed.value.step == step
    assert "no tokens today" in str(failed.value)
    assert "nothing is left behind" in str(failed.value)
    assert platform.databases == {} and await slugs(workspace) == []
    platform.faults.clear()
    await create_tenant(workspace, "acme", provisioner=provisioner)
    await provisioner.close()
    assert list(platform.databases) == ["acme"] and await slugs(workspace) == ["acme"]


async def test_turso_registry_failure_then_undo_failure_then_rerun(
    workspace: Workspace, platform: PlatformServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registry write fails and the API refuses the delete: the exact `turso` command is given."""
    real_add = workspace.registry.add

    async def failing_add(*args, **kwargs):
        raise RegistryError("registry: disk full")

    monkeypatch.setattr(workspace.registry, "add", failing_add)
    platform.fail("deleteDatabase", 500, times=10, error="delete is down")
    provisioner = turso(platform)
    with pytest.raises(ProvisionError) as failed:
        await create_tenant(workspace, "acme", provisioner=provisioner)
    assert failed.value.cleanup == f"turso db destroy acme --yes --org {platform.org}"
    assert str(failed.value) == (
        "creating tenant acme failed at step 'register': registry: disk full. "
        "Deleting the new database failed too (Turso Platform API: deleting database acme: "
        "delete is down (HTTP 500)); clean up with: "
        f"turso db destroy acme --yes --org {platform.org}"
    )
    assert list(platform.databases) == ["acme"] and await slugs(workspace) == []
    # Re-running finds the database (409), adopts it, and finishes.
    platform.faults.clear()
    monkeypatch.setattr(workspace.registry, "add", real_add)
    reports: list[StepReport] = []
    await create_tenant(workspace, "acme", provisioner=provisioner, progress=reports.append)
    await provisioner.close()
    assert StepReport("create database", "done", "adopted the existing, unregistered database") in (
        reports
    )
    assert await slugs(workspace) == ["acme"]


async def test_turso_lost_create_answer_is_adopted(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """The create is done but its answer is a 500: the retry gets 409; the database is adopted."""
    platform.fail("createDatabase", 500, after=True)
    provisioner = turso(platform)
    await create_tenant(workspace, "acme", provisioner=provisioner)
    await provisioner.close()
    assert [s for op, _, s in platform.requests if op == "createDatabase"] == [500, 409]
    assert list(platform.databases) == ["acme"] and await slugs(workspace) == ["acme"]


async def test_turso_409_for_an_unreachable_database_is_reported_not_deleted(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """An existing database that does not answer is not ours to delete: the message says how."""
    async with turso(platform).client as api:
        await api.create_database("acme", "default")
    Path(platform.backend.url_for(platform.databases["acme"].hostname)[5:]).unlink()
    provisioner = turso(platform)
    workspace.settings.timeout = 0.3  # wait until ready gives up after 3 x this
    with pytest.raises(ProvisionError) as failed:
        await create_tenant(workspace, "acme", provisioner=provisioner)
    await provisioner.close()
    assert failed.value.step == "wait until ready"
    assert "existed before this run and is left as it is" in str(failed.value)
    assert failed.value.cleanup == f"turso db destroy acme --yes --org {platform.org}"
    assert list(platform.databases) == ["acme"] and await slugs(workspace) == []


async def test_turso_destroy_and_destroy_when_already_gone(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """Destroy deletes the database through the API, then the row; a vanished database too."""
    provisioner = turso(platform)
    await create_tenant(workspace, "acme", provisioner=provisioner)
    await create_tenant(workspace, "beta", provisioner=provisioner)
    assert await destroy_tenant(workspace, "acme", provisioner=provisioner) is True
    assert list(platform.databases) == ["beta"] and await slugs(workspace) == ["beta"]
    await provisioner.client.delete_database("beta")
    reports: list[StepReport] = []
    assert (
        await destroy_tenant(workspace, "beta", provisioner=provisioner, progress=reports.append)
        is False
    )
    await provisioner.close()
    assert await slugs(workspace) == []
    assert reports[1] == StepReport(
        "delete database", "skipped", "no database of the organization has this host"
    )


async def test_turso_destroy_failing_changes_nothing(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """The API refuses the delete: the row stays (a database is never left without its row)."""
    provisioner = turso(platform)
    await create_tenant(workspace, "acme", provisioner=provisioner)
    platform.fail("deleteDatabase", 403, error="you are not an admin")
    with pytest.raises(
        ProvisionError, match=r"you are not an admin \(HTTP 403\); nothing was changed"
    ):
        await destroy_tenant(workspace, "acme", provisioner=provisioner)
    await provisioner.close()
    assert list(platform.databases) == ["acme"] and await slugs(workspace) == ["acme"]


async def test_turso_rotate_stores_a_new_token(
    workspace: Workspace, platform: PlatformServer
) -> None:
    """Rotate: tokens invalidated, a new one minted and stored; the audit log has it."""
    provisioner = turso(platform)
    before = await create_tenant(workspace, "acme", provisioner=provisioner)
    after = await rotate_token(workspace, "acme", provisioner=provisioner)
    await provisioner.close()
    assert platform.calls("invalidateDatabaseTokens") == 1
    assert after.token is not None and before.token is not None
    assert after.token.get_secret_value() != before.token.get_secret_value()
    assert [(e.action, e.status) for e in workspace.audit.entries()][-1] == ("rotate-token", "ok")


# -- the Platform API with real sqld databases -----------------------------------------------


@pytest.mark.servers
async def test_sqld_tenant_lifecycle(workspace: Workspace, sqld_platform: PlatformServer) -> None:
    """Create on real sqld: reachable with its token only; rotate revokes; destroy removes."""
    provisioner = turso(sqld_platform)
    tenant = await create_tenant(workspace, "acme", provisioner=provisioner)
    assert tenant.url.startswith("http://127.0.0.1:")
    assert tenant.token is not None
    watch(tenant.token.get_secret_value())
    assert await migrations_rows(tenant.url, tenant.token) == expected_rows()
    with pytest.raises(LibsqlError) as denied:
        await migrations_rows(tenant.url, None)
    assert denied.value.code == db_errors.UNAUTHORIZED
    rotated = await rotate_token(workspace, "acme", provisioner=provisioner)
    assert rotated.token is not None
    watch(rotated.token.get_secret_value())
    with pytest.raises(LibsqlError) as revoked:
        await migrations_rows(tenant.url, tenant.token)
    assert revoked.value.code == db_errors.UNAUTHORIZED
    assert await migrations_rows(rotated.url, rotated.token) == expected_rows()
    assert await destroy_tenant(workspace, "acme", provisioner=provisioner) is True
    await provisioner.close()
    assert sqld_platform.databases == {} and await slugs(workspace) == []


@pytest.mark.servers
async def test_sqld_read_only_token_and_stalled_migration(
    workspace: Workspace, sqld_platform: PlatformServer
) -> None:
    """A database that stops answering while migrating is deleted; the re-run registers a
    read-only token that reads but cannot write."""
    provisioner = turso(sqld_platform)

    def stall_on_migrate(report: StepReport) -> None:
        if report.step == "migrate" and report.status == "running":
            sqld_platform.backend.proxy("acme").stall()

    workspace.settings.timeout = 0.5
    with pytest.raises(ProvisionError) as failed:
        await create_tenant(workspace, "acme", provisioner=provisioner, progress=stall_on_migrate)
    assert failed.value.step == "migrate"
    assert "nothing is left behind" in str(failed.value)
    assert sqld_platform.databases == {} and await slugs(workspace) == []
    workspace.settings.timeout = 5.0
    tenant = await create_tenant(workspace, "acme", provisioner=provisioner, read_only_token=True)
    await provisioner.close()
    assert tenant.token is not None
    watch(tenant.token.get_secret_value())
    assert await migrations_rows(tenant.url, tenant.token) == expected_rows()
    connection = await connect(tenant.url, tenant.token)
    try:
        with pytest.raises(LibsqlError) as refused:
            await connection.execute("DELETE FROM posts")
    finally:
        await connection.close()
    assert refused.value.code == db_errors.READ_ONLY_TOKEN
