"""One author across the fleet: every tenant where their email exists, and purges on many tenants.

Every tenant is asked at once (bounded, `fleet.fanout.bounded`) and answers are yielded as
they come, so the author screen and `tursotui author` show the first tenants while slow
ones are still answering. A purge sends ONE batch per tenant (one transaction each; see
`tenant.authors.purge`), tenants in parallel, every audit entry of the action sharing one
`group` id. A tenant that fails is reported, never retried: its batch was one transaction,
so it is either fully done or untouched, and which one is checked with a fresh connection
before the outcome is reported (a lost answer may hide a committed write).

Nothing here imports textual.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.display.posts import READ_ONLY_HINT
from tursotui.fanout import bounded
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.authors import (
    AuthorError,
    AuthorSummary,
    PurgeNotSent,
    PurgePlan,
    PurgeResult,
    look_up,
    plan_purge_of,
    purge,
    purge_applied,
)
from tursotui.tenant.moderation import ModerationError

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace

TYPED_CONFIRM_ROWS = 20
"""Above this many rows changed (all tenants together), a purge asks for the email typed."""

READ_ONLY = READ_ONLY_HINT.format("purging an author")

VERIFY_TIMEOUT = 5.0
"""Seconds the check of a failed tenant (done or untouched?) may take."""

DONE = "done"
CONFLICT = "conflict"
FAILED = "failed"


@dataclass(frozen=True)
class TenantAuthor:
    """One tenant's answer: the author there (summary), not there (None), or why it failed."""

    tenant: Tenant
    summary: AuthorSummary | None = None
    error: str | None = None


@dataclass(frozen=True)
class TenantPlan:
    """What a purge would do on one tenant (None: the author is not there), or why not known."""

    tenant: Tenant
    plan: PurgePlan | None = None
    error: str | None = None


@dataclass(frozen=True)
class PurgeOutcome:
    """What a purge did on one tenant.

    Attributes:
        tenant: The tenant.
        state: `done`, `conflict` (done, but some posts had changed underneath and were
            left alone) or `failed`.
        plan: What was asked.
        result: What the database did (None when failed).
        error: Why it failed.
        applied: For a failed tenant, what the check found: False untouched, True done
            after all (the answer was lost), None unknown (the tenant could not be read).
    """

    tenant: Tenant
    state: str
    plan: PurgePlan
    result: PurgeResult | None = None
    error: str | None = None
    applied: bool | None = None

    def describe(self) -> str:
        """One line for a summary: what happened on this tenant."""
        if self.result is not None:
            text = (
                f"{len(self.result.deleted)} comments deleted, {len(self.result.moved)} posts moved"
            )
            if self.result.conflicts:
                text += f", {len(self.result.conflicts)} changed underneath (left alone)"
            return text
        if self.applied is False:
            where = "untouched"
        elif self.applied is True:
            where = "done after all (the answer was lost)"
        else:
            where = "could not check whether it was applied"
        return f"{self.error}; {where}"


async def author_on(workspace: Workspace, tenant: Tenant, email_or_id: str) -> TenantAuthor:
    """The author on one tenant (summary), or None there; failures are in `error`."""
    if tenant.broken:
        return TenantAuthor(tenant, error=tenant.problem)
    deadline = workspace.settings.timeout
    try:
        async with asyncio.timeout(deadline):
            conn = await workspace.connection(tenant)
            return TenantAuthor(tenant, await look_up(conn, email_or_id))
    except TimeoutError:
        return TenantAuthor(tenant, error=f"{tenant.slug}: no answer within {deadline:g} s")
    except (LibsqlError, RegistryError, ModerationError) as error:
        return TenantAuthor(tenant, error=describe(error))


async def find_everywhere(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    email: str,
    *,
    concurrency: int | None = None,
) -> AsyncIterator[TenantAuthor]:
    """Ask every tenant for the author by email; yield each answer as it arrives.

    Tenants where the email is not found answer too (summary None), so a caller can
    show progress; leaving the loop early cancels the rest.
    """

    async def ask(tenant: Tenant) -> TenantAuthor:
        try:
            return await author_on(workspace, tenant, email)
        except Exception as error:  # one tenant's bug must not end the search
            return TenantAuthor(tenant, error=describe(error))

    limit = concurrency or workspace.settings.fleet_concurrency
    async for answer in bounded(list(tenants), ask, limit):
        yield answer


async def plan_on(
    workspace: Workspace,
    tenant: Tenant,
    email_or_id: str,
    *,
    delete_comments: bool,
    posts_to: str | None,
) -> TenantPlan:
    """What a purge of the author would do on one tenant; failures are in `error`."""
    if tenant.broken:
        return TenantPlan(tenant, error=tenant.problem)
    deadline = workspace.settings.timeout
    try:
        async with asyncio.timeout(deadline):
            conn = await workspace.connection(tenant)
            plan = await plan_purge_of(
                conn, email_or_id, delete_comments=delete_comments, posts_to=posts_to
            )
            return TenantPlan(tenant, plan)
    except TimeoutError:
        return TenantPlan(tenant, error=f"{tenant.slug}: no answer within {deadline:g} s")
    except (LibsqlError, RegistryError, ModerationError) as error:
        return TenantPlan(tenant, error=describe(error))


async def plan_everywhere(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    email_or_id: str,
    *,
    delete_comments: bool,
    posts_to: str | None,
    concurrency: int | None = None,
) -> AsyncIterator[TenantPlan]:
    """`plan_on` for every tenant, answers yielded as they come (a dry run, a confirmation)."""

    async def ask(tenant: Tenant) -> TenantPlan:
        try:
            return await plan_on(
                workspace,
                tenant,
                email_or_id,
                delete_comments=delete_comments,
                posts_to=posts_to,
            )
        except Exception as error:  # one tenant's bug must not end the plan
            return TenantPlan(tenant, error=describe(error))

    limit = concurrency or workspace.settings.fleet_concurrency
    async for answer in bounded(list(tenants), ask, limit):
        yield answer


async def purge_on(
    workspace: Workspace,
    tenant: Tenant,
    plan: PurgePlan,
    *,
    reason: str | None = None,
    group: str | None = None,
) -> PurgeOutcome:
    """Run one tenant's purge; a failure is checked (done or untouched?) and reported."""
    if workspace.settings.read_only:
        raise AuthorError(READ_ONLY)
    try:
        conn = await workspace.connection(tenant)
        result = await purge(conn, workspace.audit, tenant.slug, plan, reason=reason, group=group)
    except (LibsqlError, RegistryError, ModerationError) as error:
        if isinstance(error, PurgeNotSent):
            # Refused before anything was sent: nothing to check.
            return PurgeOutcome(tenant, FAILED, plan, error=describe(error), applied=False)
        return PurgeOutcome(
            tenant,
            FAILED,
            plan,
            error=describe(error),
            applied=await _check(workspace, tenant, plan),
        )
    state = CONFLICT if result.conflicts else DONE
    return PurgeOutcome(tenant, state, plan, result)


async def _check(workspace: Workspace, tenant: Tenant, plan: PurgePlan) -> bool | None:
    """Whether a failed purge was applied, read on a fresh connection (None: unknown)."""
    try:
        async with asyncio.timeout(VERIFY_TIMEOUT):
            conn = await workspace.open_tenant(tenant, read_only=True, timeout=VERIFY_TIMEOUT)
            try:
                return await purge_applied(conn, plan)
            finally:
                await conn.close()
    except (TimeoutError, LibsqlError, RegistryError, ModerationError):
        return None


async def purge_everywhere(
    workspace: Workspace,
    plans: Iterable[tuple[Tenant, PurgePlan]],
    *,
    reason: str | None = None,
    group: str | None = None,
    concurrency: int | None = None,
) -> AsyncIterator[PurgeOutcome]:
    """Purge on every tenant of `plans` (one batch each, in parallel); yield outcomes as they come.

    Every audit entry of the action shares one `group` id (a new one unless given).

    Raises:
        AuthorError: a read-only session (nothing is sent).
    """
    if workspace.settings.read_only:
        raise AuthorError(READ_ONLY)
    group = group or str(uuid.uuid4())
    todo = [(tenant, plan) for tenant, plan in plans if not plan.empty]

    async def ask(item: tuple[Tenant, PurgePlan]) -> PurgeOutcome:
        tenant, plan = item
        try:
            return await purge_on(workspace, tenant, plan, reason=reason, group=group)
        except AuthorError:
            raise
        except Exception as error:  # one tenant's bug must not stop the others
            return PurgeOutcome(tenant, FAILED, plan, error=describe(error))

    limit = concurrency or workspace.settings.fleet_concurrency
    async for outcome in bounded(todo, ask, limit):
        yield outcome


__all__ = [
    "CONFLICT",
    "DONE",
    "FAILED",
    "READ_ONLY",
    "TYPED_CONFIRM_ROWS",
    "PurgeOutcome",
    "TenantAuthor",
    "TenantPlan",
    "author_on",
    "find_everywhere",
    "plan_everywhere",
    "plan_on",
    "purge_everywhere",
    "purge_on",
]
