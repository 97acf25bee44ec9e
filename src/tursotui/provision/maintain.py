"""The destroy and rotate-token sagas."""

from __future__ import annotations

from tursotui.db import LibsqlError
from tursotui.platform import PlatformError
from tursotui.provision.base import (
    Progress,
    Provisioner,
    ProvisionError,
    Steps,
    cause,
    wait_until_answers,
)
from tursotui.provision.provisioners import LocalProvisioner, provisioner_for
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.settings import Settings
from tursotui.session.tokens import choose as choose_token_source
from tursotui.session.workspace import Workspace


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


def destroy_refusal(settings: Settings, tenant: Tenant) -> str | None:
    """Why `destroy_tenant` would refuse `tenant` before changing anything, or None.

    Screens ask this before their confirmation: a confirmation that ends in a refusal
    asks for attention (and a typed slug) for nothing.
    """
    if settings.read_only:
        return f"cannot destroy tenant {tenant.slug}: tursotui is in read-only mode"
    if tenant.broken:
        return None  # only the row goes, and that is always possible
    if tenant.is_remote:
        return None if settings.uses_platform_api else _cannot_delete(settings, tenant)
    if LocalProvisioner(settings.data_dir / "tenants").owned_database(tenant) is None:
        return _cannot_delete(settings, tenant)
    return None


_COMMAND_TOKEN = (
    "cannot rotate the token of {slug}: its stored token goes through "
    "TURSOTUI_TOKEN_COMMAND (kept encrypted by the app); rotate it with the app's tools"
)
"""The registry keeps what the token command decrypts; tursotui cannot encrypt the new
token the app's way, and a plain one there would fail the command next time."""


def rotate_refusal(settings: Settings, tenant: Tenant) -> str | None:
    """Why `rotate_token` would refuse `tenant` before changing anything, or None."""
    slug = tenant.slug
    if settings.read_only:
        return f"cannot rotate the token of {slug}: tursotui is in read-only mode"
    if tenant.broken:
        return f"cannot rotate the token of {slug}: {tenant.problem}"
    if choose_token_source(tenant, settings).source == "command":
        return _COMMAND_TOKEN.format(slug=slug)
    if not tenant.is_remote:
        return f"cannot rotate the token of {slug}: a local tenant has none"
    if not settings.uses_platform_api:
        return (
            f"cannot rotate the token of {slug}: no Platform API credentials are set "
            "(TURSO_ORG, TURSO_PLATFORM_API_TOKEN)"
        )
    return None


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
    # A protected tenant is refused before anything changes (the API would refuse too, but
    # a local tenant has only tursotui to keep its protection).
    from tursotui.provision.protect import protection_refusal

    refusal = await protection_refusal(workspace, tenant, provisioner=provisioner)
    if refusal is not None:
        raise ProvisionError(refusal)
    own = provisioner is None
    if provisioner is None:
        provisioner = _provisioner_for_tenant(settings, tenant)
    steps = Steps(progress)
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
                        if await _answers(workspace, tenant):
                            raise ProvisionError(
                                f"cannot destroy tenant {slug}: its database answers but is not "
                                "a database of the organization; to unregister it and keep "
                                f"the database, use: tursotui tenants remove {slug}"
                            )
                        database_gone = "no database of the organization has this host"
                        steps.report("delete database", "skipped", database_gone)
                    elif (
                        isinstance(provisioner, LocalProvisioner)
                        and settings.trash_days > 0
                        and provisioner.path(database).exists()
                    ):
                        # Kept for `tenants undelete` (`trash_days`); older entries go now.
                        from tursotui.provision.undelete import move_to_trash, purge_expired

                        purge_expired(settings)
                        folder = move_to_trash(settings, provisioner, database, tenant)
                        deleted = True
                        steps.done(f"moved to {folder}")
                        entry.after = f"trash:{folder.name}"
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
            from tursotui.provision.branch import forget_branch

            forget_branch(settings, slug)  # a destroyed branch is no branch any more
            entry.detail = "database deleted" if deleted else "no database to delete"
            return deleted
    except AuditError as error:
        raise ProvisionError(str(error)) from None
    finally:
        if own and provisioner is not None:
            await provisioner.close()


async def _answers(workspace: Workspace, tenant: Tenant) -> bool:
    try:
        connection = await workspace.open_tenant(tenant)
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
        keeps_tokens = await workspace.registry.keeps_tokens()
    except RegistryError as error:
        raise ProvisionError(str(error)) from None
    if not keeps_tokens:
        # Checked before anything is rotated: the old tokens would stop working and the
        # new one would have nowhere to go.
        raise ProvisionError(
            f"cannot rotate the token of {slug}: the registry has no token column to keep it in"
        )
    if workspace.tokens.choose(tenant).source == "command":
        raise ProvisionError(_COMMAND_TOKEN.format(slug=slug))
    if provisioner is None:
        refusal = rotate_refusal(settings, tenant)
        if refusal is not None:
            raise ProvisionError(refusal)
        own, provisioner = True, provisioner_for(settings)
    else:
        own = False
    steps = Steps(progress)
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
                steps.report(step, "failed", cause(error))
                after = "" if step == "rotate tokens" else "; the old token may no longer work"
                raise ProvisionError(
                    f"rotating the token of {slug} failed at step {step!r}: {cause(error)}"
                    f"{after}; run the command again to finish",
                    step=step,
                ) from None
            return await workspace.registry.get(slug)
    except AuditError as error:
        raise ProvisionError(str(error)) from None
    finally:
        if own:
            await provisioner.close()
