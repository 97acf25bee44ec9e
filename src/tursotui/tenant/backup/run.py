"""Backing tenants up: one tenant into a file, or many into a directory with its manifest."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.fanout import for_each
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.backup.copy import copy_local, copy_remote, describe_file
from tursotui.tenant.backup.manifest import safe_manifest, sha256_of, write_manifest
from tursotui.tenant.backup.models import (
    BackupError,
    BackupFailure,
    BackupRecord,
    BackupRun,
    Progress,
)


def file_name(slug: str, taken: set[str]) -> str:
    """A safe file name for a tenant's backup: slugs come from the registry and are untrusted."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", slug).strip("._") or "tenant"
    name = f"{base}.db"
    n = 2
    while name in taken:
        name = f"{base}-{n}.db"
        n += 1
    taken.add(name)
    return name


async def backup_tenant(
    tenant: Tenant,
    connection: Connection | None,
    directory: Path,
    name: str,
    *,
    progress: Progress | None = None,
) -> BackupRecord:
    """Back one tenant up into `directory/name`.

    Args:
        tenant: The tenant (its URL says local or remote).
        connection: An open connection to it; needed for remote tenants only.
        directory: The backup directory (created if needed).
        name: The file name to write.
        progress: Told what is happening.

    Raises:
        BackupError: the tenant cannot be read or the file cannot be written.
    """

    def report(text: str) -> None:
        if progress:
            progress(tenant.slug, text)

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    partial = directory / f".{name}.partial"
    partial.unlink(missing_ok=True)
    taken = time.time()
    try:
        if tenant.broken:
            raise BackupError(f"{tenant.slug}: {tenant.problem}")
        location = tenant.location
        if location.transport == "file":
            if not Path(location.target).exists():
                raise BackupError(f"{tenant.slug}: no database file at {location.target}")
            report("copying with the SQLite backup API")
            await asyncio.to_thread(copy_local, location.target, partial)
            method, consistent = "sqlite-backup", True
        else:
            if connection is None:
                raise BackupError(f"{tenant.slug}: no connection to copy through")
            consistent = await copy_remote(connection, partial, report)
            method = "copy"
        report("counting rows and hashing")
        counts, schema = await asyncio.to_thread(describe_file, partial)
        digest = await asyncio.to_thread(sha256_of, partial)
        size = partial.stat().st_size
        os.replace(partial, target)
    except LibsqlError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(describe(error)) from None
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{tenant.slug}: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report(f"done: {sum(counts.values())} rows, {size} bytes")
    return BackupRecord(
        tenant=tenant.slug,
        file=name,
        time=taken,
        method=method,
        consistent=consistent,
        schema=schema,
        row_counts=counts,
        sha256=digest,
        size=size,
    )


async def backup_tenants(
    tenants: list[Tenant],
    directory: Path,
    connect: Callable[[Tenant], Any],
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> BackupRun:
    """Back up several tenants into one directory and write its manifest.

    Args:
        tenants: The tenants to back up.
        directory: Where the files and `manifest.json` go.
        connect: `async (tenant) -> Connection` (e.g. `Workspace.connection`), for remote tenants.
        concurrency: How many tenants are copied at once.
        progress: Told what is happening, per tenant.

    Returns:
        The records written (also in the manifest) and the tenants that failed, with why.
    """
    directory.mkdir(parents=True, exist_ok=True)
    existing = {e.get("tenant"): e.get("file") for e in safe_manifest(directory)}
    taken: set[str] = {
        str(f) for t, f in existing.items() if f and t not in {x.slug for x in tenants}
    }
    names = {t.slug: file_name(t.slug, taken) for t in tenants}
    run = BackupRun(directory)

    async def one(tenant: Tenant) -> None:
        try:
            connection = None
            if not tenant.broken and tenant.is_remote:
                connection = await connect(tenant)
            record = await backup_tenant(
                tenant, connection, directory, names[tenant.slug], progress=progress
            )
        except (BackupError, RegistryError) as error:
            run.failures.append(BackupFailure(tenant.slug, str(error)))
            if progress:
                progress(tenant.slug, f"failed: {error}")
        except LibsqlError as error:
            run.failures.append(BackupFailure(tenant.slug, describe(error)))
            if progress:
                progress(tenant.slug, f"failed: {describe(error)}")
        else:
            run.records.append(record)

    await for_each(tenants, one, concurrency)
    run.records.sort(key=lambda r: r.tenant)
    run.failures.sort(key=lambda f: f.tenant)
    if run.records:
        write_manifest(directory, run.records)
    return run
