"""Acting on rows of many tenants at once: one guarded batch per tenant, tenants in parallel.

The fleet search, the moderation queue and their keys act through here. Each tenant gets one
batch (one transaction, one request on a remote tenant) through the posts screen's guarded
writes (`moderation.set_status`, `moderation.delete_comments`), so a row changed underneath is
a conflict, never overwritten. A tenant that fails is reported with why and left at that: its
batch wrote nothing, and it is not tried again behind the operator's back; the others stand.
Every tenant's audit entry of one action shares one `group` id, so the action is undone whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.fanout import bounded
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.moderation import (
    ModerationError,
    ModerationResult,
    delete_comments,
    set_status,
)

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace


@dataclass
class TenantOutcome:
    """What one cross-tenant action did on one tenant.

    Attributes:
        tenant: The tenant.
        result: The rows changed, the conflicts, the rows left as they were; None if it failed.
        error: Why nothing was written there, or None.
    """

    tenant: Tenant
    result: ModerationResult | None = None
    error: str | None = None

    @property
    def state(self) -> str:
        """`failed`, `conflict` (some rows changed underneath, left alone) or `done`."""
        if self.error is not None or self.result is None:
            return "failed"
        return "conflict" if self.result.conflicts else "done"


@dataclass
class FleetAction:
    """What one action on found rows did, tenant by tenant (one audit group id for all)."""

    group: str
    outcomes: list[TenantOutcome] = field(default_factory=list)

    def count(self, state: str) -> int:
        """How many tenants ended in `state` (`done`, `conflict`, `failed`)."""
        return sum(1 for outcome in self.outcomes if outcome.state == state)

    def _rows(self, kind: str) -> list[tuple[str, str]]:
        return [
            (o.tenant.slug, i) for o in self.outcomes if o.result for i in getattr(o.result, kind)
        ]

    @property
    def changed(self) -> list[tuple[str, str]]:
        """(slug, id) of every row changed."""
        return self._rows("changed")

    @property
    def conflicts(self) -> list[tuple[str, str]]:
        """(slug, id) of every row changed underneath (left alone)."""
        return self._rows("conflicts")

    @property
    def unchanged(self) -> list[tuple[str, str]]:
        """(slug, id) of every row that already was as asked (not written)."""
        return self._rows("unchanged")

    @property
    def errors(self) -> dict[str, str]:
        """Why the action failed, per tenant slug where it did (nothing written there)."""
        return {o.tenant.slug: o.error for o in self.outcomes if o.error is not None}


async def _across(
    workspace: Workspace,
    targets: dict[str, tuple[Tenant, list[Any]]],
    act: Any,
    concurrency: int | None,
) -> FleetAction:
    action = FleetAction(group=uuid.uuid4().hex)

    async def one(slug: str) -> TenantOutcome:
        tenant, items = targets[slug]
        try:
            conn = await workspace.connection(tenant)
            return TenantOutcome(tenant, await act(conn, tenant, items, action.group))
        except (ModerationError, LibsqlError, RegistryError, AuditError) as error:
            return TenantOutcome(tenant, error=describe(error))

    limit = concurrency or workspace.settings.fleet_concurrency
    async for outcome in bounded(list(targets), one, limit):
        action.outcomes.append(outcome)
    action.outcomes.sort(key=lambda o: o.tenant.slug)
    return action


async def set_status_across(
    workspace: Workspace,
    posts: Iterable[tuple[Tenant, str, Any]],
    new_status: str,
    *,
    concurrency: int | None = None,
    reason: str | None = None,
) -> FleetAction:
    """Move posts to `new_status`: one guarded batch per tenant, tenants in parallel.

    Args:
        workspace: The session (connections, audit log).
        posts: `(tenant, post id, status shown)` of each post.
        new_status: `draft`, `published` or `archived`.
        concurrency: Tenants written at once (default: the fleet's).
        reason: Why, as the operator typed it (kept in every tenant's audit entry).
    """
    targets: dict[str, tuple[Tenant, list[Any]]] = {}
    for tenant, post_id, shown in posts:
        targets.setdefault(tenant.slug, (tenant, []))[1].append((post_id, shown))

    async def act(conn: Any, tenant: Tenant, items: list[Any], group: str) -> ModerationResult:
        # One group id for the entries of this action on every tenant: undone together.
        return await set_status(
            conn, workspace.audit, tenant.slug, items, new_status, reason=reason, group=group
        )

    return await _across(workspace, targets, act, concurrency)


async def delete_comments_across(
    workspace: Workspace,
    comments: Iterable[tuple[Tenant, str]],
    *,
    concurrency: int | None = None,
    reason: str | None = None,
) -> FleetAction:
    """Delete comments: one batch per tenant (audited, with `reason`), tenants in parallel."""
    targets: dict[str, tuple[Tenant, list[Any]]] = {}
    for tenant, comment_id in comments:
        targets.setdefault(tenant.slug, (tenant, []))[1].append(comment_id)

    async def act(conn: Any, tenant: Tenant, items: list[Any], group: str) -> ModerationResult:
        # One group id for the entries of this action on every tenant: undone together.
        return await delete_comments(
            conn, workspace.audit, tenant.slug, items, reason=reason, group=group
        )

    return await _across(workspace, targets, act, concurrency)
