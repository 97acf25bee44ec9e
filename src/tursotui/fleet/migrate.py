"""Migrating many tenants at once: bounded concurrency, one outcome per tenant, no early stop.

Used by `tursotui migrate` and the fleet screen. Each tenant is migrated in its
own transaction (all its pending migrations or none, as drizzle does) and
recorded in the audit log (action `migrate`) before its outcome is reported; a
tenant that fails, times out or is ahead of the folder does not stop the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.fanout import bounded
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.indexes import IndexAdviceError, IndexPlan, create_missing
from tursotui.tenant.migrations import (
    MigrationError,
    MigrationFolder,
    load_folder,
    migrate,
    schema_state,
)

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace

APPLIED = "applied"
CURRENT = "current"
AHEAD = "ahead"
FAILED = "failed"


@dataclass(frozen=True)
class TenantMigration:
    """What migrating one tenant did.

    Attributes:
        tenant: The registry row.
        outcome: `applied` (or would be, in a dry run), `current`, `ahead` (refused)
            or `failed`.
        tags: Tags of the migrations applied (or pending, in a dry run).
        error: Why it failed or was refused.
        dry_run: Nothing was written.
    """

    tenant: Tenant
    outcome: str
    tags: list[str] = field(default_factory=list)
    error: str | None = None
    dry_run: bool = False

    @property
    def slug(self) -> str:
        """The tenant's slug."""
        return self.tenant.slug

    @property
    def ok(self) -> bool:
        """Nothing went wrong (applied or already current)."""
        return self.outcome in (APPLIED, CURRENT)

    @property
    def summary(self) -> str:
        """One line for people: `applied 2 (0000_x, 0001_y)`, `already current`..."""
        if self.outcome == APPLIED:
            verb = "would apply" if self.dry_run else "applied"
            return f"{verb} {len(self.tags)} ({', '.join(self.tags)})"
        if self.outcome == CURRENT:
            return "already current"
        if self.outcome == AHEAD:
            return f"ahead of the folder: refused ({self.error})"
        return f"failed: {self.error}"


async def migrate_tenant(
    workspace: Workspace, tenant: Tenant, folder: MigrationFolder, *, dry_run: bool = False
) -> TenantMigration:
    """Migrate one tenant; never raises for the tenant's own failures.

    The write is on record in the audit log (`pending`, then `ok`/`failed`) before it is
    sent; if the log cannot be written, the tenant is not migrated.
    """
    if tenant.broken:
        return TenantMigration(tenant, FAILED, error=tenant.problem, dry_run=dry_run)
    if workspace.settings.read_only and not dry_run:
        return TenantMigration(tenant, FAILED, error="read-only mode: writes are refused")
    deadline = workspace.settings.timeout * 6  # migrations may build indexes on big tables
    connection = None
    try:
        async with asyncio.timeout(deadline):
            connection = await workspace.connection(tenant)
            state = await schema_state(connection, folder)
            if state.ahead:
                newest = folder.latest.tag if folder.latest else "an empty journal"
                return TenantMigration(
                    tenant, AHEAD, error=f"it has a migration newer than {newest}", dry_run=dry_run
                )
            if not state.pending:
                return TenantMigration(tenant, CURRENT, dry_run=dry_run)
            if dry_run:
                return TenantMigration(
                    tenant, APPLIED, [m.tag for m in state.pending], dry_run=True
                )
            tags = [m.tag for m in state.pending]
            async with workspace.audit.recording(
                "migrate",
                tenant.slug,
                before=state.current_tag,
                after=folder.latest.tag if folder.latest else None,
                detail=f"{folder.path}: {', '.join(tags)}",
            ) as entry:
                applied = await migrate(connection, folder)
                entry.detail = f"{folder.path}: {', '.join(m.tag for m in applied)}"
            return TenantMigration(tenant, APPLIED, [m.tag for m in applied])
    except TimeoutError:
        if connection is not None:
            connection.interrupt()  # a local statement still running is stopped and rolled back
        return TenantMigration(
            tenant,
            FAILED,
            error=f"no answer within {deadline:g} s; "
            f"check with `tursotui migrate {tenant.slug} --dry-run`",
            dry_run=dry_run,
        )
    except MigrationError as error:
        outcome = AHEAD if "newer than" in str(error) else FAILED
        return TenantMigration(tenant, outcome, error=str(error), dry_run=dry_run)
    except (LibsqlError, RegistryError, AuditError) as error:
        return TenantMigration(tenant, FAILED, error=describe(error), dry_run=dry_run)


async def apply_index_plan(
    workspace: Workspace, tenant: Tenant, plan: IndexPlan, folder: MigrationFolder
) -> str:
    """Give a tenant its missing indexes as `plan` says: its migrations first, then the rest.

    Each step is in the audit log (`migrate`, `create-indexes`) before it is sent.

    Returns:
        What was done, for people (`migrated (0001_x); created posts(a)`).

    Raises:
        IndexAdviceError: a step failed (the message says which and why); a failed
            migration leaves the tenant as it was, and no index is created after it.
        AuditError: the audit log cannot be written; nothing was sent.
    """
    done: list[str] = []
    if plan.migrations:
        outcome = await migrate_tenant(workspace, tenant, folder)
        if not outcome.ok:
            raise IndexAdviceError(f"{tenant.slug}: migrating {outcome.summary}")
        done.append(f"migrated ({', '.join(outcome.tags)})" if outcome.tags else "migrated")
    if plan.create:
        try:
            connection = await workspace.connection(tenant)
        except (LibsqlError, RegistryError) as error:
            raise IndexAdviceError(describe(error)) from None
        await create_missing(connection, workspace.audit, tenant.slug, plan.create)
        done.append("created " + ", ".join(index.label for index in plan.create))
    return "; ".join(done)


async def migrate_fleet(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    *,
    dry_run: bool = False,
    concurrency: int | None = None,
    progress: Callable[[TenantMigration], None] | None = None,
    folder: MigrationFolder | None = None,
) -> list[TenantMigration]:
    """Migrate every tenant, at most `concurrency` at once, continuing past failures.

    Args:
        workspace: The session (its connections, settings and audit log).
        tenants: Registry rows; broken ones are reported as failed with their problem.
        dry_run: Report what would be applied, write nothing.
        concurrency: Most tenants in flight; default `settings.fleet_concurrency`.
        progress: Called with each tenant's outcome as it arrives.
        folder: The migrations folder; default the one in settings (or the built-in one).

    Returns:
        One outcome per tenant, in the order given.

    Raises:
        MigrationError: the migrations folder cannot be read (nothing was attempted).
    """
    rows = list(tenants)
    if folder is None:
        folder = load_folder(workspace.settings.migrations_dir)
    limit = concurrency or workspace.settings.fleet_concurrency
    outcomes: dict[int, TenantMigration] = {}

    async def ask(index: int) -> tuple[int, TenantMigration]:
        try:
            outcome = await migrate_tenant(workspace, rows[index], folder, dry_run=dry_run)
        except Exception as error:  # a bug with one tenant must not stop the fleet
            outcome = TenantMigration(rows[index], FAILED, error=describe(error), dry_run=dry_run)
        return index, outcome

    async for index, outcome in bounded(range(len(rows)), ask, limit):
        outcomes[index] = outcome
        if progress is not None:
            progress(outcome)
    return [outcomes[i] for i in range(len(rows))]


__all__ = [
    "AHEAD",
    "APPLIED",
    "CURRENT",
    "FAILED",
    "TenantMigration",
    "apply_index_plan",
    "migrate_fleet",
    "migrate_tenant",
]
