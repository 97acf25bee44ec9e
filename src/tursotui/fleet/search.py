"""Title search across tenants: all asked at once (bounded), answers yielded as they come.

Each tenant answers with its newest matching posts, through the posts screen's own
query (`moderation.fetch_posts` with a search), so the fleet finds what the posts
screen would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.fleet.fanout import bounded
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.moderation import ModerationError, PostRow, fetch_posts

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace

PER_TENANT = 20
"""Matches fetched per tenant: enough to spot a post, never a whole table."""


@dataclass(frozen=True)
class TenantMatches:
    """One tenant's answer to a search.

    Attributes:
        tenant: The tenant asked.
        posts: Its newest posts whose title matches (at most the limit).
        more: It has more matches than were fetched.
        error: Why it could not answer, or None.
    """

    tenant: Tenant
    posts: list[PostRow] = field(default_factory=list)
    more: bool = False
    error: str | None = None


async def search_tenant(
    workspace: Workspace, tenant: Tenant, text: str, *, limit: int = PER_TENANT
) -> TenantMatches:
    """One tenant's newest posts whose title contains `text`; failures are in `error`."""
    if tenant.broken:
        return TenantMatches(tenant, error=tenant.problem)
    deadline = workspace.settings.timeout
    try:
        async with asyncio.timeout(deadline):
            connection = await workspace.connection(tenant)
            page = await fetch_posts(connection, None, limit=limit, search=text)
    except TimeoutError:
        return TenantMatches(tenant, error=f"{tenant.slug}: no answer within {deadline:g} s")
    except (LibsqlError, RegistryError, ModerationError) as error:
        return TenantMatches(tenant, error=describe(error))
    return TenantMatches(tenant, page.posts, more=page.next is not None)


async def search_titles(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    text: str,
    *,
    limit: int = PER_TENANT,
    concurrency: int | None = None,
) -> AsyncIterator[TenantMatches]:
    """Search post titles on every tenant; yield each tenant's answer as it arrives.

    Leaving the loop early (a new search, the screen closing) cancels the rest.
    """
    limit_in_flight = concurrency or workspace.settings.fleet_concurrency

    async def ask(tenant: Tenant) -> TenantMatches:
        try:
            return await search_tenant(workspace, tenant, text, limit=limit)
        except Exception as error:  # one tenant's bug must not end the search
            return TenantMatches(tenant, error=describe(error))

    async for answer in bounded(list(tenants), ask, limit_in_flight):
        yield answer


__all__ = ["PER_TENANT", "TenantMatches", "search_tenant", "search_titles"]
