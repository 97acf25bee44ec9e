"""The create saga: database, token, ready, migrated, verified, and only then registered."""

from __future__ import annotations

import asyncio

from tursotui.db import Connection, LibsqlError, connect
from tursotui.platform import PlatformError
from tursotui.provision.base import (
    SETUP_TOKEN_EXPIRATION,
    DatabaseExists,
    Progress,
    Provisioner,
    ProvisionError,
    Steps,
    cause,
    registered,
    slug_problem,
)
from tursotui.provision.provisioners import provisioner_for
from tursotui.secret import Secret
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.workspace import Workspace
from tursotui.tenant.migrations import (
    MigrationError,
    MigrationFolder,
    load_folder,
    migrate,
    schema_state,
)
from tursotui.words import plural


async def create_tenant(
    workspace: Workspace,
    slug: str,
    *,
    name: str | None = None,
    group: str | None = None,
    read_only_token: bool = False,
    progress: Progress | None = None,
    provisioner: Provisioner | None = None,
) -> Tenant:
    """Provision, migrate and register a new tenant; undo everything if any step fails.

    Args:
        workspace: The session's settings, registry and audit log.
        slug: The tenant's slug, also its database's name (see `slug_problem`).
        name: Display name (default: the slug).
        group: Turso group (default: `settings.group`); ignored by local provisioning.
        read_only_token: Register a read-only token (migrations use a short-lived full one).
        progress: Called with a `StepReport` as each step starts and ends.
        provisioner: Where databases are made; default from the settings (and closed here).

    Raises:
        ProvisionError: nothing was registered; the message says why, and `cleanup`
            holds the command to run if the new database could not be deleted again.
    """
    settings = workspace.settings
    problem = slug_problem(slug)
    if problem:
        raise ProvisionError(f"cannot create tenant {slug!r}: {problem}")
    if settings.read_only:
        raise ProvisionError(f"cannot create tenant {slug}: tursotui is in read-only mode")
    try:
        # Read before anything is created: a registry that cannot be read would only fail
        # at the last step, after the database was made.
        taken = any(t.slug == slug for t in await workspace.registry.tenants())
    except RegistryError as error:
        raise ProvisionError(f"cannot create tenant {slug}: {error}") from None
    if taken:
        raise ProvisionError(f"tenant {slug} is already in the registry")
    registry = workspace.registry
    if "url" not in registry.known_shape.roles and registry.url_origin() is None:
        raise ProvisionError(
            f"cannot create tenant {slug}: the registry keeps database names, not URLs; set "
            "TURSOTUI_TENANT_URL_TEMPLATE (or TURSO_ORG and TURSO_PLATFORM_API_TOKEN) first"
        )
    try:
        folder = load_folder(settings.migrations_dir)
    except MigrationError as error:
        raise ProvisionError(f"cannot create tenant {slug}: {error}") from None
    own = provisioner is None
    provisioner = provisioner or provisioner_for(settings)
    steps = Steps(progress)
    try:
        async with workspace.audit.recording(
            "create-tenant", slug, after=provisioner.kind, detail=name or slug
        ):
            return await _create(
                workspace,
                provisioner,
                steps,
                slug,
                name,
                group or settings.group,
                read_only_token,
                folder,
            )
    except AuditError as error:
        raise ProvisionError(str(error)) from None
    finally:
        if own:
            await provisioner.close()


async def _create(
    workspace: Workspace,
    provisioner: Provisioner,
    steps: Steps,
    slug: str,
    name: str | None,
    group: str,
    read_only_token: bool,
    folder: MigrationFolder,
) -> Tenant:
    settings = workspace.settings
    timeout = settings.timeout
    steps.start("create database")
    created = False
    try:
        try:
            url = await provisioner.create_database(slug, group)
            created = True
            steps.done()
        except DatabaseExists:
            # A database left by an earlier run that failed half-way (it is not
            # registered, as checked above): adopt it and finish the job.
            url = await provisioner.database_url(slug)
            steps.done("adopted the existing, unregistered database")
        steps.start("mint token")
        token = await provisioner.mint_token(slug, read_only=read_only_token)
        setup_token = token
        if read_only_token and token is not None:
            setup_token = await provisioner.mint_token(slug, expiration=SETUP_TOKEN_EXPIRATION)
        if token is None:
            steps.done("none needed")
        else:
            steps.done("read-only" if read_only_token else None)
        steps.start("wait until ready")
        await provisioner.wait_until_ready(slug, url, setup_token, timeout * 3)
        steps.done()
        steps.start("migrate")
        connection = await connect(url, setup_token, name=slug, timeout=timeout)
        try:
            async with asyncio.timeout(timeout * 3):
                applied = await migrate(connection, folder)
        finally:
            await connection.close()
        steps.done(f"{plural(len(applied), 'migration')} applied")
        steps.start("verify")
        await _verify(slug, url, token, folder, timeout)
        steps.done()
        steps.start("register")
        # Written in the registry's own shape: its URL or database-name column (the
        # database is named after the slug), and the token only where there is a column
        # for it (a registry without one opens its tenants with a group or minted token).
        keeps_tokens = await workspace.registry.keeps_tokens()
        tenant = await workspace.registry.add(
            slug, url, token if keeps_tokens else None, name or slug, db_name=slug
        )
        if tenant.broken or tenant.url != url:
            # The registry keeps names, and their URL does not lead to the new database:
            # the row is taken back, so the undo below also removes the database.
            await workspace.registry.remove(slug)
            why = tenant.problem or f"its database name gives the URL {tenant.url}, not {url}"
            raise ProvisionError(f"the registry cannot find tenant {slug}'s database: {why}")
        steps.done(None if keeps_tokens or token is None else "the registry keeps no token")
        return tenant
    except BaseException as error:
        failed = steps.current
        if failed:
            steps.report(failed, "failed", cause(error))
        if failed == "register" and await registered(workspace, slug):
            raise  # the row was written after all (the answer was lost): nothing to undo
        cancelled = isinstance(error, asyncio.CancelledError)
        message = f"creating tenant {slug} failed at step {failed!r}: {cause(error)}"
        if cancelled:
            message = f"creating tenant {slug} was cancelled at step {failed!r}"
        if not created:
            if not cancelled and await _exists(provisioner, slug):
                command = provisioner.cleanup_command(slug)
                before = (
                    "may have been created before the call failed"
                    if failed == "create database"
                    else "existed before this run and is left as it is"
                )
                raise ProvisionError(
                    f"{message}. The database {slug} {before}; run the command again to "
                    f"finish, or delete it with: {command}",
                    step=failed,
                    cleanup=command,
                ) from None
            if cancelled:
                raise
            raise ProvisionError(message, step=failed) from None
        try:
            await provisioner.delete_database(slug)
        except BaseException as undo_error:
            command = provisioner.cleanup_command(slug)
            raise ProvisionError(
                f"{message}. Deleting the new database failed too ({cause(undo_error)}); "
                f"clean up with: {command}",
                step=failed,
                cleanup=command,
            ) from None
        steps.report("create database", "undone", "the new database was deleted again")
        if cancelled:
            raise
        raise ProvisionError(
            f"{message}. The new database was deleted again; nothing is left behind.",
            step=failed,
        ) from None


async def _exists(provisioner: Provisioner, slug: str) -> bool:
    try:
        return await provisioner.database_exists(slug)
    except (PlatformError, ProvisionError, LibsqlError):
        return True  # unknown: assume it is there so the message says how to remove it


async def _verify(
    slug: str, url: str, token: Secret | None, folder: MigrationFolder, timeout: float
) -> None:
    """The registered token opens the database, its schema is current and a table answers."""
    connection: Connection = await connect(url, token, name=slug, timeout=timeout)
    try:
        state = await schema_state(connection, folder)
        if state.pending or state.ahead:
            raise ProvisionError(f"{slug}: after migrating, the schema is {state.label}")
        tables = await connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name LIMIT 1"
        )
        if tables.rows:
            await connection.execute(f'SELECT count(*) FROM "{tables.rows[0][0]}"')
    finally:
        await connection.close()
