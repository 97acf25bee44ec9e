"""How each tenant is doing: reachability, latency, post counts per status, schema version.

The tenants screen and `tursotui tenants` ask this for every registry row,
concurrently and bounded, and show answers as they arrive; one slow or dead
tenant never holds up the others (each probe has its own deadline).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.fleet.fanout import bounded
from tursotui.session.registry import RegistryError, Tenant

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace
    from tursotui.tenant.migrations import MigrationFolder, SchemaState

T = TypeVar("T")

STATUSES = ("draft", "published", "archived")
"""The post statuses the app knows; others are counted under their own name."""

LOCAL_CONCURRENCY = 4
"""Most local (`file:`) tenants probed at once, whatever the fleet concurrency.

A local probe waits on the CPU and the disk, not the network: beyond a few in
flight, more only adds threads (one per local connection) competing for the GIL
with the UI, on machines with a handful of cores.
"""

COUNTS_SQL = "SELECT status, count(*) FROM posts GROUP BY status"
"""Served from the built-in `posts(status, published_at)` index without reading the posts."""

NEEDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "name", "email"),
    "posts": ("id", "title", "content", "author_id", "published_at", "status"),
    "comments": ("id", "content", "post_id", "author_id", "created_at"),
}
"""The columns the moderation screens read, per table: a tenant whose schema drifted
(a column renamed by hand) reads as `current` by its migrations yet fails when opened."""

COLUMNS_SQL = (
    "SELECT m.name, p.name FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS p "
    "WHERE m.type = 'table' AND m.name IN ('users', 'posts', 'comments')"
)
"""The needed tables' columns in one read-only query (no table is touched, only the schema)."""


@dataclass(frozen=True)
class TenantHealth:
    """The answer of one probe.

    Attributes:
        tenant: The registry row probed.
        reachable: The database answered a query.
        latency_ms: Round-trip time of a trivial query, when it answered.
        error: Why it did not answer, or what went wrong after it did (no posts table...).
        counts: Posts per status (unexpected statuses keep their own key), or None if unknown.
        schema: The migrations label (`current`, `behind by N`, `ahead`, `not migrated`),
            `unknown` when it could not be read, or None when not asked.
    """

    tenant: Tenant
    reachable: bool
    latency_ms: float | None = None
    error: str | None = None
    counts: dict[str, int] | None = field(default=None)
    schema: str | None = None

    @property
    def slug(self) -> str:
        """The probed tenant's slug."""
        return self.tenant.slug

    @property
    def total_posts(self) -> int | None:
        """All posts, whatever their status."""
        return None if self.counts is None else sum(self.counts.values())


def _folder(workspace: Workspace) -> MigrationFolder | str:
    """The migrations folder to compare against, or why it cannot be read."""
    from tursotui.tenant.migrations import MigrationError, load_folder

    try:
        return load_folder(workspace.settings.migrations_dir)
    except MigrationError as error:
        return str(error)


async def probe(
    workspace: Workspace, tenant: Tenant, *, folder: MigrationFolder | str | None = None
) -> TenantHealth:
    """Ask one tenant how it is; never raises for the tenant's own failures.

    Args:
        workspace: The session (its cached connection to the tenant is reused).
        tenant: The registry row; a broken row answers at once with its problem.
        folder: The migrations folder (or why it could not be read); loaded when None.
            `probe_all` loads it once for every tenant.

    Returns:
        The tenant's health; failures are in `error`, never raised.
    """
    if tenant.broken:
        return TenantHealth(tenant, reachable=False, error=tenant.problem)
    if folder is None:
        folder = _folder(workspace)
    # One deadline for the whole probe: a tenant that accepts the connection and then
    # stalls must not hold its concurrency slot for several timeouts in a row.
    deadline = workspace.settings.timeout
    try:
        async with asyncio.timeout(deadline):
            return await _probe(workspace, tenant, folder)
    except TimeoutError:
        return TenantHealth(
            tenant, reachable=False, error=f"{tenant.slug}: no answer within {deadline:g} s"
        )


async def _probe(
    workspace: Workspace, tenant: Tenant, folder: MigrationFolder | str
) -> TenantHealth:
    try:
        connection = await workspace.connection(tenant)
    except (LibsqlError, RegistryError) as error:
        return TenantHealth(tenant, reachable=False, error=describe(error))

    async def ping() -> float:
        # A replica-backed tenant is pinged on its primary: reachable means the primary is.
        primary = cast(Connection, getattr(connection, "primary", connection))
        start = time.perf_counter()
        await primary.execute("SELECT 1")
        return (time.perf_counter() - start) * 1000

    questions = (
        ping,
        lambda: _counts(connection),
        lambda: _schema(connection, folder),
        lambda: _missing_columns(connection),
    )
    if tenant.is_remote:
        # Asked together: a remote tenant answers in two round trips (the schema needs
        # two queries in a row) instead of five one after the other.
        latency, counts, schema, columns = await asyncio.gather(
            *(ask() for ask in questions), return_exceptions=True
        )
    else:
        # A local tenant runs them one by one on its thread anyway; asking in order
        # spares the event loop the extra tasks.
        latency, counts, schema, columns = [await _outcome(ask()) for ask in questions]
    if isinstance(latency, BaseException):
        if not isinstance(latency, LibsqlError):
            raise latency
        return TenantHealth(tenant, reachable=False, error=describe(latency))
    problems: list[str] = []
    for answer in (counts, schema, columns):
        if isinstance(answer, LibsqlError):
            problems.append(_short(answer))
        elif isinstance(answer, str):
            problems.append(answer)
        elif isinstance(answer, BaseException):
            raise answer
    return TenantHealth(
        tenant,
        reachable=True,
        latency_ms=latency if isinstance(latency, float) else None,
        error="; ".join(dict.fromkeys(problems)) or None,
        counts=counts if isinstance(counts, dict) else None,
        schema=getattr(schema, "label", "unknown"),  # a SchemaState, else it failed
    )


async def _outcome(question: Awaitable[T]) -> T | BaseException:
    """The answer to `question`, or the exception it raised (like `gather(return_exceptions)`)."""
    try:
        return await question
    except Exception as error:
        return error


async def _counts(connection: Connection) -> dict[str, int]:
    result = await connection.execute(COUNTS_SQL)
    counts = {status: 0 for status in STATUSES}
    for status, count in result.rows:
        key = "NULL" if status is None else str(status)
        counts[key] = counts.get(key, 0) + int(count or 0)
    return counts


async def _missing_columns(connection: Connection) -> str | None:
    """What the screens need and the tenant lacks (`posts lacks title`), or None.

    A tenant with none of the tables is left to the counts (`no posts table`) and the
    migrations label (`not migrated`), which already say so.
    """
    present: dict[str, set[str]] = {}
    for table, column in (await connection.execute(COLUMNS_SQL)).rows:
        present.setdefault(str(table).lower(), set()).add(str(column).lower())
    if not present:
        return None
    problems = []
    for table, needed in NEEDED_COLUMNS.items():
        if table not in present:
            if table != "posts":  # the counts report a missing posts table
                problems.append(f"no {table} table")
            continue
        lacking = [column for column in needed if column not in present[table]]
        if lacking:
            problems.append(f"{table} lacks {', '.join(lacking)}")
    if not problems:
        return None
    return "; ".join(problems) + " (the moderation screens need them)"


async def _schema(connection: Connection, folder: MigrationFolder | str) -> SchemaState | str:
    """The tenant's schema state, or why the migrations folder could not be read."""
    if isinstance(folder, str):
        return folder
    from tursotui.tenant.migrations import schema_state

    return await schema_state(connection, folder)


def _short(error: LibsqlError) -> str:
    text = describe(error)
    if "no such table: posts" in text:
        return "no posts table"
    return text


async def probe_all(
    workspace: Workspace, tenants: Iterable[Tenant], concurrency: int | None = None
) -> AsyncIterator[TenantHealth]:
    """Probe many tenants at once, a bounded number in flight; yield answers as they arrive.

    At most `concurrency` remote tenants are asked at once, and at most
    `LOCAL_CONCURRENCY` local ones (see there why).

    Broken rows are answered first (they need no IO). Leaving the loop early cancels the
    probes still running.

    Args:
        workspace: The session.
        tenants: Registry rows to probe.
        concurrency: Most remote probes in flight; default `settings.fleet_concurrency`.
    """
    limit = max(1, concurrency or workspace.settings.fleet_concurrency)
    rows = list(tenants)
    for tenant in rows:
        if tenant.broken:
            yield TenantHealth(tenant, reachable=False, error=tenant.problem)
    healthy = [t for t in rows if not t.broken]
    if not healthy:
        return
    folder = _folder(workspace)
    remote_gate = asyncio.Semaphore(limit)
    local_gate = asyncio.Semaphore(min(limit, LOCAL_CONCURRENCY))

    async def one(tenant: Tenant) -> TenantHealth:
        try:
            return await probe(workspace, tenant, folder=folder)
        except Exception as error:  # a bug in one probe must not stop the others
            return TenantHealth(tenant, reachable=False, error=describe(error))

    def gate(tenant: Tenant) -> asyncio.Semaphore:
        return remote_gate if tenant.is_remote else local_gate

    async for health in bounded(healthy, one, limit, gate=gate):
        yield health


__all__ = ["STATUSES", "TenantHealth", "probe", "probe_all"]
