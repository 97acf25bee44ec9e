"""Creating, destroying and re-keying tenants as sagas that never leave orphans (SPEC §4).

A tenant is created in steps that must all succeed: create its database, mint
its token, wait until it answers, migrate it, check it answers a query, and
only then insert its registry row. A failure undoes what this run did (deletes
the new database); when the undo fails too, the error names the exact command
that cleans up. Re-running after a partial failure finishes the job: a
database that exists but is not registered is adopted when it answers.

Two provisioners share one interface: `TursoProvisioner` (the Platform API) and
`LocalProvisioner` (a `file:` database per tenant under the data directory),
chosen by `settings.uses_platform_api`. Nothing here knows about the UI.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from tursotui.audit import AuditError
from tursotui.db import Connection, LibsqlError, connect
from tursotui.db.errors import describe
from tursotui.migrations import (
    MigrationError,
    MigrationFolder,
    load_folder,
    migrate,
    schema_state,
)
from tursotui.platform import PlatformClient, PlatformError
from tursotui.registry import RegistryError, Tenant
from tursotui.settings import Settings
from tursotui.workspace import Workspace

SLUG_PATTERN = re.compile(r"^(?=.{1,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
"""Turso's database-name rule (lowercase letters, digits, dashes; at most 64), made conservative:
at most 63 characters (one DNS label, since the name becomes part of the hostname), no
leading, trailing or doubled dash."""

CREATE_STEPS = (
    "create database",
    "mint token",
    "wait until ready",
    "migrate",
    "verify",
    "register",
)
"""The steps of `create_tenant`, in order, as progress reports name them."""

DESTROY_STEPS = ("delete database", "remove registry row")
ROTATE_STEPS = ("rotate tokens", "update registry", "verify")

SETUP_TOKEN_EXPIRATION = "1h"
"""Lifetime of the full-access token that migrates a tenant registered with a read-only token."""


class ProvisionError(Exception):
    """A tenant could not be created, destroyed or re-keyed; the message says why and what is left.

    Attributes:
        step: The step that failed, if one did.
        cleanup: The exact command that removes what was left behind, when something was.
    """

    def __init__(self, message: str, *, step: str | None = None, cleanup: str | None = None):
        super().__init__(message)
        self.step = step
        self.cleanup = cleanup


class DatabaseExists(ProvisionError):
    """The database to create exists already (Platform API 409, or the file is there)."""


@dataclass(frozen=True)
class StepReport:
    """What a saga is doing, for a progress display.

    Attributes:
        step: The step's name (see `CREATE_STEPS`, `DESTROY_STEPS`, `ROTATE_STEPS`).
        status: `running`, `done`, `skipped`, `failed` or `undone`.
        detail: A few words more (e.g. "adopted the existing database"), or None.
    """

    step: str
    status: str
    detail: str | None = None


Progress = Callable[[StepReport], None]


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name a tenant database, or None when it can."""
    if SLUG_PATTERN.match(slug):
        return None
    if not slug:
        return "the slug is empty"
    if len(slug) > 63:
        return f"the slug is {len(slug)} characters long; at most 63"
    if SLUG_PATTERN.match(slug.lower()):
        return "the slug must be lowercase"
    if slug.startswith("-") or slug.endswith("-"):
        return "the slug cannot start or end with a dash"
    if "--" in slug:
        return "the slug cannot contain two dashes in a row"
    return "the slug may hold only lowercase letters, digits and dashes"


# -- provisioners --------------------------------------------------------------------------


class Provisioner(Protocol):
    """Makes and removes tenant databases somewhere (Turso, or local files)."""

    kind: str
    """`turso` or `local`."""

    async def database_exists(self, slug: str) -> bool:
        """True when a database named `slug` exists."""
        ...

    async def create_database(self, slug: str, group: str) -> str:
        """Create database `slug` (in `group`); return its URL. Raises DatabaseExists."""
        ...

    async def database_url(self, slug: str) -> str:
        """The URL of the existing database `slug` (to adopt it)."""
        ...

    async def mint_token(
        self, slug: str, *, read_only: bool = False, expiration: str = "never"
    ) -> SecretStr | None:
        """A new token for database `slug`, or None where databases need none."""
        ...

    async def wait_until_ready(
        self, slug: str, url: str, token: SecretStr | None, timeout: float
    ) -> None:
        """Return once the new database answers a query; ProvisionError after `timeout`."""
        ...

    async def delete_database(self, slug: str) -> bool:
        """Delete database `slug`; False when it was already gone."""
        ...

    async def rotate_token(self, slug: str, *, read_only: bool = False) -> SecretStr | None:
        """Invalidate every token of database `slug` and mint a new one."""
        ...

    async def database_for(self, tenant: Tenant) -> str | None:
        """The name of the database this provisioner holds for `tenant`, or None if none."""
        ...

    def cleanup_command(self, slug: str) -> str:
        """The exact command that deletes database `slug` by hand."""
        ...

    async def close(self) -> None:
        """Release the provisioner's connections."""
        ...


async def wait_until_answers(slug: str, url: str, token: SecretStr | None, timeout: float) -> None:
    """Poll a new database with `SELECT 1` until it answers (new Turso hostnames take a moment).

    Raises:
        ProvisionError: it did not answer within `timeout` seconds (the last cause is named).
    """
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            connection = await connect(url, token, name=slug, timeout=max(0.5, timeout / 2))
            try:
                await connection.execute("SELECT 1")
            finally:
                await connection.close()
            return
        except LibsqlError as error:
            if time.monotonic() + delay > deadline:
                raise ProvisionError(
                    f"{slug}: the new database does not answer ({describe(error)})",
                    step="wait until ready",
                ) from None
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


class LocalProvisioner:
    """Tenants as `file:` databases in one directory (`<data dir>/tenants/<slug>.db`)."""

    kind = "local"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, slug: str) -> Path:
        """The file of tenant database `slug`."""
        return self.directory / f"{slug}.db"

    def _files(self, slug: str) -> list[Path]:
        path = self.path(slug)
        return [path] + [path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")]

    async def database_exists(self, slug: str) -> bool:
        return self.path(slug).exists()

    async def create_database(self, slug: str, group: str) -> str:
        path = self.path(slug)
        if path.exists():
            raise DatabaseExists(f"{slug}: the database file {path} exists already")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ProvisionError(f"cannot create {self.directory}: {error.strerror}") from None
        url = f"file:{path}"
        connection = await connect(url, name=slug, create=True)
        await connection.close()
        return url

    async def database_url(self, slug: str) -> str:
        return f"file:{self.path(slug)}"

    async def mint_token(
        self, slug: str, *, read_only: bool = False, expiration: str = "never"
    ) -> SecretStr | None:
        return None  # a local file has no tokens

    async def wait_until_ready(
        self, slug: str, url: str, token: SecretStr | None, timeout: float
    ) -> None:
        await wait_until_answers(slug, url, token, timeout)

    async def delete_database(self, slug: str) -> bool:
        existed = False
        for file in self._files(slug):
            try:
                file.unlink()
                existed = existed or file == self.path(slug)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise ProvisionError(
                    f"{slug}: cannot delete {file} ({error.strerror})",
                    cleanup=self.cleanup_command(slug),
                ) from None
        return existed

    async def rotate_token(self, slug: str, *, read_only: bool = False) -> SecretStr | None:
        raise ProvisionError(f"{slug}: a local tenant has no token to rotate")

    async def database_for(self, tenant: Tenant) -> str | None:
        try:
            location = tenant.location
        except ValueError:
            return None
        if location.transport != "file":
            return None
        path = Path(location.target)
        # Only files this provisioner made are deleted; a registered file elsewhere is the
        # operator's own, and `tenants remove` is the way to unregister it.
        if path.parent.resolve() != self.directory.resolve() or path.suffix != ".db":
            return None
        return path.stem

    def cleanup_command(self, slug: str) -> str:
        return "rm -f " + " ".join(shlex.quote(str(f)) for f in self._files(slug))

    async def close(self) -> None:
        return None


class TursoProvisioner:
    """Tenants as Turso databases, through the Platform API.

    Args:
        client: The Platform API client (closed with the provisioner).
        url_for: Makes a database URL from the API's `Hostname` (`libsql://<Hostname>`);
            tests point it at a local server.
    """

    kind = "turso"

    def __init__(
        self,
        client: PlatformClient,
        *,
        url_for: Callable[[str], str] | None = None,
    ) -> None:
        self.client = client
        self.url_for = url_for or (lambda hostname: f"libsql://{hostname}")

    def _url(self, slug: str, hostname: str | None) -> str:
        if not hostname:
            raise ProvisionError(f"{slug}: the Platform API gave no hostname for the database")
        return self.url_for(hostname)

    async def database_exists(self, slug: str) -> bool:
        try:
            await self.client.get_database(slug)
        except PlatformError as error:
            if error.not_found:
                return False
            raise
        return True

    async def create_database(self, slug: str, group: str) -> str:
        try:
            database = await self.client.create_database(slug, group)
        except PlatformError as error:
            if error.conflict:
                raise DatabaseExists(f"{slug}: {error.message}") from None
            raise
        if not database.hostname:
            database = await self.client.get_database(slug)
        return self._url(slug, database.hostname)

    async def database_url(self, slug: str) -> str:
        return self._url(slug, (await self.client.get_database(slug)).hostname)

    async def mint_token(
        self, slug: str, *, read_only: bool = False, expiration: str = "never"
    ) -> SecretStr | None:
        return await self.client.create_token(
            slug, expiration=expiration, authorization="read-only" if read_only else "full-access"
        )

    async def wait_until_ready(
        self, slug: str, url: str, token: SecretStr | None, timeout: float
    ) -> None:
        await wait_until_answers(slug, url, token, timeout)

    async def delete_database(self, slug: str) -> bool:
        try:
            await self.client.delete_database(slug)
        except PlatformError as error:
            if error.not_found:
                return False
            raise
        return True

    async def rotate_token(self, slug: str, *, read_only: bool = False) -> SecretStr | None:
        await self.client.rotate_tokens(slug)
        return await self.mint_token(slug, read_only=read_only)

    async def database_for(self, tenant: Tenant) -> str | None:
        try:
            location = tenant.location
        except ValueError:
            return None
        for database in await self.client.list_databases():
            if (
                database.hostname
                and database.name
                and (
                    database.hostname == location.host
                    or self.url_for(database.hostname) == tenant.url
                )
            ):
                return database.name
        return None

    def cleanup_command(self, slug: str) -> str:
        return f"turso db destroy {shlex.quote(slug)} --yes --org {shlex.quote(self.client.org)}"

    async def close(self) -> None:
        await self.client.close()


def provisioner_for(settings: Settings) -> Provisioner:
    """The provisioner the settings call for: Turso with credentials, else local files."""
    if settings.uses_platform_api:
        return TursoProvisioner(PlatformClient.from_settings(settings))
    return LocalProvisioner(settings.data_dir / "tenants")


# -- sagas -----------------------------------------------------------------------------------


class _Steps:
    """Reports steps to a progress callback and remembers the current one."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.current: str | None = None

    def report(self, step: str, status: str, detail: str | None = None) -> None:
        if status == "running":
            self.current = step
        if self.progress is not None:
            self.progress(StepReport(step, status, detail))

    def start(self, step: str, detail: str | None = None) -> None:
        self.report(step, "running", detail)

    def done(self, detail: str | None = None) -> None:
        if self.current:
            self.report(self.current, "done", detail)


def _cause(error: BaseException) -> str:
    if isinstance(error, LibsqlError):
        return describe(error)
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__


async def _registered(workspace: Workspace, slug: str) -> bool:
    try:
        return any(t.slug == slug for t in await workspace.registry.tenants())
    except RegistryError:
        return False


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
    try:
        folder = load_folder(settings.migrations_dir)
    except MigrationError as error:
        raise ProvisionError(f"cannot create tenant {slug}: {error}") from None
    own = provisioner is None
    provisioner = provisioner or provisioner_for(settings)
    steps = _Steps(progress)
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
    steps: _Steps,
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
        steps.done(f"{len(applied)} migration(s) applied")
        steps.start("verify")
        await _verify(slug, url, token, folder, timeout)
        steps.done()
        steps.start("register")
        tenant = await workspace.registry.add(slug, url, token, name or slug)
        steps.done()
        return tenant
    except BaseException as error:
        failed = steps.current
        if failed:
            steps.report(failed, "failed", _cause(error))
        if failed == "register" and await _registered(workspace, slug):
            raise  # the row was written after all (the answer was lost): nothing to undo
        cancelled = isinstance(error, asyncio.CancelledError)
        message = f"creating tenant {slug} failed at step {failed!r}: {_cause(error)}"
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
                f"{message}. Deleting the new database failed too ({_cause(undo_error)}); "
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
    slug: str, url: str, token: SecretStr | None, folder: MigrationFolder, timeout: float
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


async def _find_row(workspace: Workspace, slug: str) -> Tenant:
    """The registry row of `slug`, broken or not (destroy must work on broken rows too)."""
    for tenant in await workspace.registry.tenants():
        if tenant.slug == slug:
            return tenant
    raise ProvisionError(f"no tenant {slug!r} in the registry")


def _provisioner_for_tenant(settings: Settings, tenant: Tenant) -> Provisioner | None:
    if tenant.broken:
        return None
    if tenant.is_remote:
        return provisioner_for(settings) if settings.uses_platform_api else None
    return LocalProvisioner(settings.data_dir / "tenants")


async def destroy_tenant(
    workspace: Workspace,
    slug: str,
    *,
    progress: Progress | None = None,
    provisioner: Provisioner | None = None,
) -> bool:
    """Delete a tenant's database, then its registry row; audited as `destroy-tenant`.

    A tenant whose database is already gone, or whose row is broken, is still
    removed from the registry. A database that tursotui cannot delete (a remote
    tenant without Platform API credentials, a file it did not make) makes this
    fail before anything changes.

    Returns:
        True when a database was deleted, False when there was none to delete.

    Raises:
        ProvisionError: nothing was changed, or the database is gone but the row stayed
            (the message says so; running it again removes the row).
    """
    settings = workspace.settings
    if settings.read_only:
        raise ProvisionError(f"cannot destroy tenant {slug}: tursotui is in read-only mode")
    try:
        tenant = await _find_row(workspace, slug)
    except RegistryError as error:
        raise ProvisionError(str(error)) from None
    own = provisioner is None
    if provisioner is None:
        provisioner = _provisioner_for_tenant(settings, tenant)
    steps = _Steps(progress)
    try:
        async with workspace.audit.recording(
            "destroy-tenant", slug, before=tenant.host, after=None
        ) as entry:
            steps.start("delete database")
            deleted = False
            if tenant.broken:
                steps.report("delete database", "skipped", f"broken row: {tenant.problem}")
            else:
                if provisioner is None:
                    raise ProvisionError(_cannot_delete(settings, tenant))
                await workspace.forget(slug)
                try:
                    database = await provisioner.database_for(tenant)
                    if database is None and provisioner.kind == "local":
                        raise ProvisionError(_cannot_delete(settings, tenant))
                    if database is None:
                        # Not in the organization: gone already, or somebody else's. A
                        # database that still answers is not removed from under its users.
                        if await _answers(tenant, settings.timeout):
                            raise ProvisionError(
                                f"cannot destroy tenant {slug}: its database answers but is not "
                                "a database of the organization; to unregister it and keep "
                                f"the database, use: tursotui tenants remove {slug}"
                            )
                        database_gone = "no database of the organization has this host"
                        steps.report("delete database", "skipped", database_gone)
                    else:
                        deleted = await provisioner.delete_database(database)
                        steps.done(None if deleted else "it was already gone")
                except PlatformError as error:
                    steps.report("delete database", "failed", str(error))
                    raise ProvisionError(
                        f"destroying tenant {slug}: {error}; nothing was changed",
                        step="delete database",
                    ) from None
            steps.start("remove registry row")
            try:
                await workspace.registry.remove(slug)
            except RegistryError as error:
                steps.report("remove registry row", "failed", str(error))
                raise ProvisionError(
                    f"destroying tenant {slug}: its database is gone but the registry row "
                    f"could not be removed ({error}); run the command again",
                    step="remove registry row",
                ) from None
            steps.done()
            entry.detail = "database deleted" if deleted else "no database to delete"
            return deleted
    except AuditError as error:
        raise ProvisionError(str(error)) from None
    finally:
        if own and provisioner is not None:
            await provisioner.close()


async def _answers(tenant: Tenant, timeout: float) -> bool:
    try:
        connection = await tenant.connect(timeout=timeout)
    except (LibsqlError, RegistryError):
        return False
    try:
        await connection.execute("SELECT 1")
    except LibsqlError:
        return False
    finally:
        await connection.close()
    return True


def _cannot_delete(settings: Settings, tenant: Tenant) -> str:
    if tenant.is_remote:
        return (
            f"cannot destroy tenant {tenant.slug}: its database is remote and no Platform API "
            "credentials are set (TURSO_ORG, TURSO_PLATFORM_API_TOKEN); to unregister it and "
            f"keep the database, use: tursotui tenants remove {tenant.slug}"
        )
    return (
        f"cannot destroy tenant {tenant.slug}: its database {tenant.host} is not one tursotui "
        f"provisioned (under {settings.data_dir / 'tenants'}); to unregister it and keep the "
        f"file, use: tursotui tenants remove {tenant.slug}"
    )


async def rotate_token(
    workspace: Workspace,
    slug: str,
    *,
    read_only: bool = False,
    progress: Progress | None = None,
    provisioner: Provisioner | None = None,
) -> Tenant:
    """Invalidate a tenant's tokens, mint a new one, store it, and check it works.

    Audited as `rotate-token`; the workspace's cached connection is dropped.

    Raises:
        ProvisionError: the message says which step failed; running it again finishes.
    """
    settings = workspace.settings
    if settings.read_only:
        raise ProvisionError(f"cannot rotate the token of {slug}: tursotui is in read-only mode")
    try:
        tenant = await workspace.registry.get(slug)
    except RegistryError as error:
        raise ProvisionError(str(error)) from None
    if provisioner is None:
        if not tenant.is_remote:
            raise ProvisionError(f"cannot rotate the token of {slug}: a local tenant has none")
        if not settings.uses_platform_api:
            raise ProvisionError(
                f"cannot rotate the token of {slug}: no Platform API credentials are set "
                "(TURSO_ORG, TURSO_PLATFORM_API_TOKEN)"
            )
        own, provisioner = True, provisioner_for(settings)
    else:
        own = False
    steps = _Steps(progress)
    try:
        async with workspace.audit.recording("rotate-token", slug, before=tenant.host):
            try:
                steps.start("rotate tokens")
                database = await provisioner.database_for(tenant)
                if database is None:
                    raise ProvisionError(f"{slug}: no database of the organization has this host")
                token = await provisioner.rotate_token(database, read_only=read_only)
                steps.done("read-only" if read_only else None)
                steps.start("update registry")
                await workspace.registry.set_token(slug, token or "")
                await workspace.forget(slug)
                steps.done()
                steps.start("verify")
                await wait_until_answers(slug, tenant.url, token, settings.timeout)
                steps.done()
            except (PlatformError, RegistryError, LibsqlError, ProvisionError) as error:
                step = steps.current or "rotate tokens"
                steps.report(step, "failed", _cause(error))
                after = "" if step == "rotate tokens" else "; the old token may no longer work"
                raise ProvisionError(
                    f"rotating the token of {slug} failed at step {step!r}: {_cause(error)}"
                    f"{after}; run the command again to finish",
                    step=step,
                ) from None
            return await workspace.registry.get(slug)
    except AuditError as error:
        raise ProvisionError(str(error)) from None
    finally:
        if own:
            await provisioner.close()
