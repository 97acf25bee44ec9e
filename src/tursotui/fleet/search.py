"""Content search across tenants: all asked at once (bounded), answers yielded as they come.

Each tenant answers with its newest posts whose title or content holds the text
(the posts screen's own query, `moderation.fetch_posts` with a search) and its newest
comments whose content holds it (`moderation.find_comments`), so the fleet finds what
the tenant's own screens would. Acting on what was found is `fleet.actions`.

Nothing here imports textual.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.fanout import bounded
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.health import LOCAL_CONCURRENCY
from tursotui.tenant.moderation import (
    FoundComment,
    ModerationError,
    PostRow,
    fetch_posts,
    find_comments,
)

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace

PER_TENANT = 20
"""Matches fetched per tenant and kind: enough to spot a wave, never a whole table."""

KINDS = ("posts", "comments")
"""What a search looks in."""


@dataclass(frozen=True)
class TenantMatches:
    """One tenant's answer to a search.

    Attributes:
        tenant: The tenant asked.
        posts: Its newest posts whose title or content matches (at most the limit).
        comments: Its newest comments whose content matches (at most the limit).
        more: It has more matches than were fetched.
        error: Why it could not answer, or None.
        seconds: How long it took to answer.
    """

    tenant: Tenant
    posts: list[PostRow] = field(default_factory=list)
    comments: list[FoundComment] = field(default_factory=list)
    more: bool = False
    error: str | None = None
    seconds: float = 0.0


async def search_tenant(
    workspace: Workspace,
    tenant: Tenant,
    text: str,
    *,
    limit: int = PER_TENANT,
    kinds: Iterable[str] = KINDS,
) -> TenantMatches:
    """One tenant's newest posts and comments holding `text`; failures are in `error`."""
    if tenant.broken:
        return TenantMatches(tenant, error=tenant.problem)
    kinds = set(kinds)
    deadline = workspace.settings.timeout
    started = asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout(deadline):
            connection = await workspace.connection(tenant)
            posts = comments = None
            if "posts" in kinds:
                posts = await fetch_posts(connection, None, limit=limit, search=text)
            if "comments" in kinds:
                comments = await find_comments(connection, search=text, limit=limit)
    except TimeoutError:
        return TenantMatches(tenant, error=f"{tenant.slug}: no answer within {deadline:g} s")
    except (LibsqlError, RegistryError, ModerationError) as error:
        return TenantMatches(tenant, error=describe(error))
    return TenantMatches(
        tenant,
        posts.posts if posts else [],
        comments.comments if comments else [],
        more=bool((posts and posts.next) or (comments and comments.next)),
        seconds=asyncio.get_running_loop().time() - started,
    )


async def search_content(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    text: str,
    *,
    limit: int = PER_TENANT,
    kinds: Iterable[str] = KINDS,
    concurrency: int | None = None,
) -> AsyncIterator[TenantMatches]:
    """Search posts and comments on every tenant; yield each tenant's answer as it arrives.

    At most `concurrency` remote tenants are asked at once, and at most
    `LOCAL_CONCURRENCY` local ones: a local search is a scan on this machine's CPU, and
    more in flight than it has cores only delays every answer, the first one included
    (200 local tenants: the first answer in about one tenant's time instead of sixteen's).
    Leaving the loop early (a new search, the screen closing) cancels the rest.
    """
    limit_in_flight = concurrency or workspace.settings.fleet_concurrency
    remote_gate = asyncio.Semaphore(limit_in_flight)
    local_gate = asyncio.Semaphore(min(limit_in_flight, LOCAL_CONCURRENCY))
    wanted = tuple(kinds)

    def gate(tenant: Tenant) -> asyncio.Semaphore:
        return remote_gate if tenant.is_remote else local_gate

    async def ask(tenant: Tenant) -> TenantMatches:
        try:
            return await search_tenant(workspace, tenant, text, limit=limit, kinds=wanted)
        except Exception as error:  # one tenant's bug must not end the search
            return TenantMatches(tenant, error=describe(error))

    async for answer in bounded(list(tenants), ask, limit_in_flight, gate=gate):
        yield answer


search_titles = search_content
"""The former name (titles only); the search now looks in contents and comments too."""


__all__ = [
    "KINDS",
    "PER_TENANT",
    "TenantMatches",
    "search_content",
    "search_tenant",
    "search_titles",
]
