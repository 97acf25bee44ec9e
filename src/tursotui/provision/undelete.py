"""Deleted tenants that can come back: Turso's recovery (v3 API) and a local trash.

Turso keeps a deleted database restorable for a few days on paid plans; the v3
API lists them (`GET /v3/organizations/{orgId}/databases?deleted=true`) and
restores one by its UUID. Local tenants get the same: `tenants destroy` moves
the file into `<data dir>/trash/<slug>.<time>/` (with what is needed to register
it again), kept `trash_days` days; older entries are removed for good by the
next destroy or listing.

Undelete is a saga like create: restore the database, mint its token, wait
until it answers, register it. A failure after the restore puts the database
back where it was (deleted again, or back in the trash), so nothing is left
half-restored.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tursotui.db import LibsqlError
from tursotui.platform import PlatformError
from tursotui.provision.base import Progress, Provisioner, ProvisionError, Steps, cause, registered
from tursotui.provision.provisioners import (
    LocalProvisioner,
    TursoProvisioner,
    provisioner_for,
    register_when_ready,
)
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.settings import Settings
from tursotui.session.workspace import Workspace

UNDELETE_STEPS = ("restore database", "mint token", "wait until ready", "register")
"""The steps of `undelete_tenant`, in order."""

TRASH = "trash"
"""Under the data directory: destroyed local tenants, one folder each."""

META = "tenant.json"
"""In a trash folder: the slug, name and time of deletion."""

_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Deleted:
    """One deleted tenant database that can still be restored.

    Attributes:
        slug: The database's name (the tenant's slug).
        deleted_at: When it was deleted (ISO 8601, UTC).
        where: `turso` or `local`.
        id: The database's UUID (Turso) or the trash folder's name (local).
        group: Its Turso group (None for local).
        name: The tenant's display name, where it is known.
        expires: When a local one is removed for good (None for Turso: its own rule).
    """

    slug: str
    deleted_at: str | None
    where: str
    id: str
    group: str | None = None
    name: str | None = None
    expires: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "deleted_at": self.deleted_at,
            "where": self.where,
            "id": self.id,
            "group": self.group,
            "name": self.name,
            "expires": self.expires,
        }


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime.datetime | None:
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


# -- the local trash -------------------------------------------------------------------------


def trash_dir(settings: Settings) -> Path:
    """Where destroyed local tenants wait: `<data dir>/trash`."""
    return Path(settings.data_dir) / TRASH


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("slug"), str) else None


def _local_entries(settings: Settings) -> list[tuple[Path, dict[str, Any]]]:
    folder = trash_dir(settings)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        meta = _read_meta(entry) if entry.is_dir() else None
        if meta is not None:
            found.append((entry, meta))
    return found


def purge_expired(settings: Settings, now: datetime.datetime | None = None) -> list[str]:
    """Remove trash entries older than `trash_days`; returns their slugs."""
    now = now or _now()
    keep = datetime.timedelta(days=settings.trash_days)
    gone = []
    for folder, meta in _local_entries(settings):
        deleted = _parse(str(meta.get("deleted_at")))
        if deleted is not None and now - deleted >= keep:
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(str(meta["slug"]))
    return gone


def move_to_trash(
    settings: Settings, local: LocalProvisioner, database: str, tenant: Tenant
) -> Path:
    """Move local database `database` (and its -wal/-shm files) into a new trash folder.

    Raises:
        ProvisionError: it could not be moved (nothing was moved, or it was moved back).
    """
    when = _now()
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    folder = trash_dir(settings) / f"{database}.{stamp}.{secrets.token_hex(2)}"
    moved: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True)
        (folder / META).write_text(
            json.dumps(
                {
                    "slug": tenant.slug,
                    "name": tenant.name,
                    "database": database,
                    "deleted_at": _iso(when),
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        for suffix in _SUFFIXES:
            source = Path(f"{local.path(database)}{suffix}")
            if source.exists():
                target = folder / source.name
                source.rename(target)
                moved.append((target, source))
    except OSError as error:
        for target, source in reversed(moved):
            target.rename(source)
        shutil.rmtree(folder, ignore_errors=True)
        raise ProvisionError(
            f"{tenant.slug}: cannot move its database into {trash_dir(settings)} "
            f"({error.strerror or error})"
        ) from None
    return folder


def local_deleted(settings: Settings) -> list[Deleted]:
    """The trash's entries, newest first."""
    keep = datetime.timedelta(days=settings.trash_days)
    found = []
    for folder, meta in _local_entries(settings):
        deleted = _parse(str(meta.get("deleted_at")))
        found.append(
            Deleted(
                slug=str(meta["slug"]),
                deleted_at=_iso(deleted) if deleted else None,
                where="local",
                id=folder.name,
                name=meta.get("name") if isinstance(meta.get("name"), str) else None,
                expires=_iso(deleted + keep) if deleted else None,
            )
        )
    return sorted(found, key=lambda d: d.deleted_at or "", reverse=True)


# -- listing ---------------------------------------------------------------------------------


def _plan_error(what: str, error: PlatformError) -> ProvisionError:
    if error.status == 403:
        return ProvisionError(
            f"{what}: the organization cannot restore deleted databases (a paid plan, an admin "
            f"or owner and recovery enabled are needed): {error}"
        )
    return ProvisionError(f"{what}: {error}")


async def list_deleted(
    workspace: Workspace, *, provisioner: Provisioner | None = None
) -> list[Deleted]:
    """Deleted tenants that can be restored: the local trash (expired entries purged first)
    and, with Platform API credentials, the organization's deleted databases.

    Raises:
        ProvisionError: the Platform API refused (the plan, say) or failed.
    """
    settings = workspace.settings
    if not settings.read_only:
        purge_expired(settings)
    found = local_deleted(settings)
    if not (settings.uses_platform_api or isinstance(provisioner, TursoProvisioner)):
        return found
    own = provisioner is None
    turso = provisioner or provisioner_for(settings)
    try:
        assert isinstance(turso, TursoProvisioner)
        databases = await turso.client.list_deleted_databases()
    except PlatformError as error:
        raise _plan_error("listing deleted databases", error) from None
    finally:
        if own:
            await turso.close()
    remote = [
        Deleted(
            slug=d.name or "",
            deleted_at=d.deleted_at,
            where="turso",
            id=d.id or "",
            group=d.group,
        )
        for d in databases
        if d.name and d.id
    ]
    remote.sort(key=lambda d: d.deleted_at or "", reverse=True)
    return remote + found


# -- undelete --------------------------------------------------------------------------------


async def undelete_tenant(
    workspace: Workspace,
    slug: str,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    provisioner: Provisioner | None = None,
) -> Tenant:
    """Bring a deleted tenant back and register it again; audited as `undelete-tenant`.

    The newest deleted database called `slug` is restored: from the local trash when it
    holds one, else through the Platform API.

    Raises:
        ProvisionError: nothing was changed, or what was restored was put back (the
            message says which step failed and why).
    """
    settings = workspace.settings
    if settings.read_only:
        raise ProvisionError(f"cannot undelete tenant {slug}: tursotui is in read-only mode")
    try:
        if any(t.slug == slug for t in await workspace.registry.tenants()):
            raise ProvisionError(f"cannot undelete tenant {slug}: it is in the registry already")
    except RegistryError as error:
        raise ProvisionError(f"cannot undelete tenant {slug}: {error}") from None
    steps = Steps(progress)
    local = [e for e in _local_entries(settings) if e[1].get("slug") == slug]
    try:
        if local:
            folder, meta = max(local, key=lambda e: str(e[1].get("deleted_at")))
            async with workspace.audit.recording(
                "undelete-tenant", slug, after="local", detail=folder.name
            ):
                return await _undelete_local(workspace, steps, slug, name, folder, meta)
        if not (settings.uses_platform_api or isinstance(provisioner, TursoProvisioner)):
            raise ProvisionError(
                f"cannot undelete tenant {slug}: the trash ({trash_dir(settings)}) has no "
                "database of that name"
            )
        own = provisioner is None
        turso = provisioner or provisioner_for(settings)
        try:
            assert isinstance(turso, TursoProvisioner)
            async with workspace.audit.recording("undelete-tenant", slug, after="turso") as entry:
                tenant = await _undelete_turso(workspace, turso, steps, slug, name)
                entry.detail = tenant.host
                return tenant
        finally:
            if own:
                await turso.close()
    except AuditError as error:
        raise ProvisionError(str(error)) from None


async def _undelete_local(
    workspace: Workspace,
    steps: Steps,
    slug: str,
    name: str | None,
    folder: Path,
    meta: dict[str, Any],
) -> Tenant:
    settings = workspace.settings
    local = LocalProvisioner(settings.data_dir / "tenants")
    database = str(meta.get("database") or slug)
    target = local.path(slug)
    steps.start("restore database")
    if target.exists():
        steps.report("restore database", "failed", "the file exists")
        raise ProvisionError(
            f"cannot undelete tenant {slug}: {target} exists already; nothing was changed"
        )
    moved: list[tuple[Path, Path]] = []
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in _SUFFIXES:
            source = folder / f"{database}.db{suffix}"
            if source.exists():
                destination = Path(f"{target}{suffix}")
                source.rename(destination)
                moved.append((destination, source))
        if not moved:
            raise ProvisionError(f"the trash entry {folder.name} holds no database file")
        steps.done(folder.name)
        steps.report("mint token", "skipped", "a local file needs none")
        steps.report("wait until ready", "skipped")
        steps.start("register")
        tenant = await workspace.registry.add(
            slug, f"file:{target}", None, name or meta.get("name") or slug, db_name=slug
        )
        steps.done()
    except (OSError, RegistryError, ProvisionError) as error:
        failed = steps.current or "restore database"
        steps.report(failed, "failed", cause(error))
        for destination, source in reversed(moved):
            destination.rename(source)  # back into the trash: nothing half-restored
        if moved:
            steps.report("restore database", "undone", "the file went back into the trash")
        raise ProvisionError(
            f"undeleting tenant {slug} failed at step {failed!r}: "
            f"{getattr(error, 'strerror', None) or cause(error)}; the database is still in "
            "the trash",
            step=failed,
        ) from None
    shutil.rmtree(folder, ignore_errors=True)
    return tenant


async def _undelete_turso(
    workspace: Workspace, turso: TursoProvisioner, steps: Steps, slug: str, name: str | None
) -> Tenant:
    steps.start("restore database")
    try:
        org_id = await turso.client.organization_id()
        candidates = [
            d for d in await turso.client.list_deleted_databases(org_id) if d.name == slug and d.id
        ]
    except PlatformError as error:
        steps.report("restore database", "failed", str(error))
        raise _plan_error(f"cannot undelete tenant {slug}", error) from None
    if not candidates:
        steps.report("restore database", "failed", "not among the deleted databases")
        raise ProvisionError(
            f"cannot undelete tenant {slug}: no deleted database of that name can be restored "
            "(Turso keeps them five days)"
        )
    newest = max(candidates, key=lambda d: d.deleted_at or "")
    try:
        restored = await turso.client.restore_database(str(newest.id), org_id=org_id)
    except PlatformError as error:
        steps.report("restore database", "failed", str(error))
        if error.conflict:
            raise ProvisionError(
                f"cannot undelete tenant {slug}: a database of that name exists already: {error}"
            ) from None
        raise _plan_error(f"cannot undelete tenant {slug}", error) from None
    steps.done(newest.deleted_at and f"deleted {newest.deleted_at}")
    database = restored.name or slug
    try:
        tenant = await register_when_ready(
            turso,
            workspace,
            steps,
            slug=slug,
            database=database,
            hostname=restored.hostname,
            name=name or slug,
        )
        steps.done()
        return tenant
    except BaseException as error:
        failed = steps.current or "mint token"
        steps.report(failed, "failed", cause(error))
        if failed == "register" and await registered(workspace, slug):
            raise
        try:
            await turso.delete_database(database)
        except BaseException as undo_error:
            command = turso.cleanup_command(database)
            raise ProvisionError(
                f"undeleting tenant {slug} failed at step {failed!r}: {cause(error)}. Deleting "
                f"the restored database again failed too ({cause(undo_error)}); clean up with: "
                f"{command}",
                step=failed,
                cleanup=command,
            ) from None
        steps.report("restore database", "undone", "deleted again: it can be restored later")
        if isinstance(error, asyncio.CancelledError):
            raise
        if not isinstance(error, PlatformError | ProvisionError | RegistryError | LibsqlError):
            raise
        raise ProvisionError(
            f"undeleting tenant {slug} failed at step {failed!r}: {cause(error)}. The restored "
            "database was deleted again (it stays restorable); run the command again.",
            step=failed,
        ) from None
