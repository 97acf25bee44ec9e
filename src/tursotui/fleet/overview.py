"""The fleet overview: every tenant at once, rows yielded as answers arrive.

A row is the tenant's health (`tursotui.tenant.health.TenantHealth`: reachable, latency,
post counts per status, schema label) plus what only the fleet shows: the comment
count, the newest activity and the missing indexes. Remote tenants are asked all of
it in one request; local ones through `health.probe`. At most `concurrency`
tenants are asked at once; each tenant has its own deadline, so a dead or slow
tenant becomes a row with its error and never holds up the others. Leaving the
iteration early (the screen's cancel) cancels the questions still in flight.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.fanout import bounded
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.health import (
    LOCAL_COUNTS,
    LOCAL_NEWEST,
    LOCAL_TABLE_NAMES,
    NEWEST_MIGRATION_SQL,
    TenantHealth,
    columns_of,
    counts_from_json,
    local_answers,
    local_health,
    one_stream,
    peek_each,
    peek_local,
    probe,
    schema_label,
    split_local,
)
from tursotui.tenant.indexes import IndexAdvice, advise

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace
    from tursotui.tenant.migrations import MigrationFolder

T = TypeVar("T")
R = TypeVar("R")

ACTIVITY_SQL = (
    "SELECT (SELECT count(*) FROM comments), (SELECT max(created_at) FROM comments), "
    "(SELECT max(published_at) FROM posts)"
)
"""Comment count and the newest comment/publication, in one round trip."""


@dataclass(frozen=True)
class FleetRow:
    """One tenant's line of the fleet overview.

    Attributes:
        health: What `health.probe` found (reachable, latency, counts, schema).
        comments: Number of comments, or None when unknown.
        newest_activity: Newest comment or publication time (epoch seconds), or None.
        indexes: The index advice, or None when it could not be read.
        problem: What went wrong with the fleet's own questions, if anything.
    """

    health: TenantHealth
    comments: int | None = None
    newest_activity: int | None = None
    indexes: IndexAdvice | None = None
    problem: str | None = None

    @property
    def tenant(self) -> Tenant:
        """The tenant of this row."""
        return self.health.tenant

    @property
    def slug(self) -> str:
        """The tenant's slug."""
        return self.health.tenant.slug

    @property
    def reachable(self) -> bool:
        """The tenant answered."""
        return self.health.reachable

    @property
    def error(self) -> str | None:
        """Every problem of this row, joined, or None."""
        parts = [p for p in (self.health.error, self.problem) if p]
        return "; ".join(dict.fromkeys(parts)) or None

    def count(self, status: str) -> int | None:
        """Posts with `status`, or None when unknown."""
        counts = self.health.counts
        return None if counts is None else counts.get(status, 0)


async def inspect_tenant(
    workspace: Workspace, tenant: Tenant, *, folder: MigrationFolder | str | None = None
) -> FleetRow:
    """One tenant's fleet row; never raises for the tenant's own failures.

    A remote tenant is asked everything in one request (`_inspect_remote`); a
    local one, or a remote one that is not fully migrated, is asked through
    `health.probe` with the fleet's own questions alongside it.
    """
    if tenant.broken:
        return FleetRow(TenantHealth(tenant, reachable=False, error=tenant.problem))
    if folder is None:
        folder = _load_folder(workspace)
    if tenant.is_remote and not isinstance(folder, str):
        row = await _inspect_remote(workspace, tenant, folder)
        if row is not None:
            return row
    if not tenant.is_remote:
        return await _inspect_local(workspace, tenant, folder)
    health, (comments, newest, advice, problems) = await asyncio.gather(
        probe(workspace, tenant, folder=folder), _activity(workspace, tenant)
    )
    if not health.reachable:
        return FleetRow(health)  # the probe already says why; the rest would repeat it
    return FleetRow(health, comments, newest, advice, "; ".join(problems) or None)


def _load_folder(workspace: Workspace) -> MigrationFolder | str:
    from tursotui.tenant.migrations import MigrationError, load_folder

    try:
        return load_folder(workspace.settings.migrations_dir)
    except MigrationError as error:
        return str(error)


async def _inspect_remote(
    workspace: Workspace, tenant: Tenant, folder: MigrationFolder
) -> FleetRow | None:
    """Every question in one batch: one round trip instead of the probe's four and ours.

    Over a 100 ms link this is what keeps a fleet of remote tenants fast (B8): each
    request costs a round trip and, on sqld, a stream of its own. A batch is all or
    nothing, so a tenant lacking a table answers None here and is asked the slow way,
    which reports each missing piece.
    """
    from tursotui.tenant.health import COUNTS_SQL, STATUSES
    from tursotui.tenant.indexes import SCHEMA_SQL, advice_from_schema

    deadline = workspace.settings.timeout
    try:
        async with asyncio.timeout(deadline):
            connection = await workspace.connection(tenant, new_replica=False)
            start = asyncio.get_running_loop().time()
            results = await connection.batch(
                [COUNTS_SQL, NEWEST_MIGRATION_SQL, ACTIVITY_SQL, SCHEMA_SQL]
            )
            latency_ms = (asyncio.get_running_loop().time() - start) * 1000
    except TimeoutError:
        error = f"{tenant.slug}: no answer within {deadline:g} s"
        return FleetRow(TenantHealth(tenant, reachable=False, error=error))
    except RegistryError as error:
        return FleetRow(TenantHealth(tenant, reachable=False, error=str(error)))
    except LibsqlError as error:
        if error.code.startswith("SQLITE") or "no such table" in describe(error):
            return None  # it answered, but lacks a table: the slow path says which
        return FleetRow(TenantHealth(tenant, reachable=False, error=describe(error)))
    counts_rows, newest_rows, activity_rows, schema_rows = (r.rows for r in results)
    counts = {status: 0 for status in STATUSES}
    for status, count in counts_rows:
        key = "NULL" if status is None else str(status)
        counts[key] = counts.get(key, 0) + int(count or 0)
    newest = newest_rows[0][0] if newest_rows else None
    health = TenantHealth(
        tenant,
        reachable=True,
        latency_ms=latency_ms,
        counts=counts,
        schema=schema_label(folder, newest),
    )
    comment_count, last_comment, last_post = activity_rows[0]
    times = [int(t) for t in (last_comment, last_post) if isinstance(t, int | float)]
    return FleetRow(
        health,
        comments=int(comment_count) if comment_count is not None else None,
        newest_activity=max(times) if times else None,
        indexes=advice_from_schema(schema_rows),
    )


async def _inspect_local(
    workspace: Workspace, tenant: Tenant, folder: MigrationFolder | str
) -> FleetRow:
    """Every question in one job on the shared read-only pool (`health.peek_local`)."""

    async def ask(connection: Connection) -> FleetRow:
        return await _local_row(tenant, connection, folder)

    row = await peek_local(tenant, ask, workspace)
    return row if isinstance(row, FleetRow) else FleetRow(row)


LOCAL_ROW_SQL = (
    "SELECT (SELECT json_group_array(json_array(type, name, tbl_name, sql)) "
    "FROM sqlite_schema WHERE type IN ('table', 'index')), "
    f"{LOCAL_COUNTS}, {LOCAL_NEWEST}, "
    "(SELECT count(*) FROM comments), (SELECT max(created_at) FROM comments), "
    "(SELECT max(published_at) FROM posts)"
)
"""A local tenant's whole row in one statement: every definition (the health's tables and
the index advice depend on them), the post counts, the newest migration, the comments and
the newest activity. It fails on a tenant lacking a table, which is asked the long way."""

_by_definitions: dict[str, tuple[dict[str, set[str]], IndexAdvice]] = {}
"""The needed tables' columns and the index advice, by the definitions' JSON text as SQLite
wrote it: a fleet's tenants share a few schemas, whose text is then not even parsed."""


async def _local_row(
    tenant: Tenant, connection: Connection, folder: MigrationFolder | str
) -> FleetRow:
    """A local tenant's row (on a pool thread, see `health.peek_each`).

    One statement (`LOCAL_ROW_SQL`) for a tenant with every table; else four, the schema
    read once for both the health's tables and the index advice.
    """
    start = time.perf_counter()
    try:
        text, counted, newest, count, last_comment, last_post = (
            await connection.execute(LOCAL_ROW_SQL)
        ).rows[0]
        latency = (time.perf_counter() - start) * 1000
        known = _by_definitions.get(text)
        if known is None:
            known = await _read_schema(connection, text)
    except LibsqlError:
        pass  # a table is missing (or worse): the long way says which
    else:
        present, advice = known
        health = local_health(tenant, latency, counts_from_json(counted), newest, present, folder)
        times = [int(t) for t in (last_comment, last_post) if isinstance(t, int | float)]
        return FleetRow(
            health,
            comments=int(count) if count is not None else None,
            newest_activity=max(times) if times else None,
            indexes=advice,
        )
    return await _local_row_long(tenant, connection, folder)


async def _read_schema(
    connection: Connection, text: str
) -> tuple[dict[str, set[str]], IndexAdvice]:
    """The needed tables' columns and the index advice for definitions not seen before."""
    definitions = tuple(tuple(row) for row in json.loads(text))
    tables = [
        (name, sql)
        for kind, name, _table, sql in definitions
        if kind == "table" and str(name).lower() in LOCAL_TABLE_NAMES
    ]
    known = (await columns_of(connection, tables), await _local_advice(connection, definitions))
    if len(_by_definitions) >= 256:
        _by_definitions.clear()
    _by_definitions[text] = known
    return known


async def _local_row_long(
    tenant: Tenant, connection: Connection, folder: MigrationFolder | str
) -> FleetRow:
    """A local tenant's row in four statements, each failure said where it is."""
    start = time.perf_counter()
    try:
        definitions = [tuple(r) for r in (await connection.execute(DEFINITIONS_SQL)).rows]
    except LibsqlError as error:
        return FleetRow(TenantHealth(tenant, reachable=False, error=describe(error)))
    latency = (time.perf_counter() - start) * 1000
    tables = [
        (name, sql)
        for kind, name, _table, sql in definitions
        if kind == "table" and str(name).lower() in LOCAL_TABLE_NAMES
    ]
    health = await local_answers(tenant, connection, folder, read=(tables, latency))
    if not health.reachable:
        return FleetRow(health)
    comments, newest, advice, problems = await _fleet_answers(connection, tuple(definitions))
    return FleetRow(health, comments, newest, advice, "; ".join(problems) or None)


async def _fleet_answers(
    connection: Connection, definitions: tuple[tuple[Any, ...], ...] | None = None
) -> tuple[int | None, int | None, IndexAdvice | None, list[str]]:
    """Comment count, newest activity and index advice (never raises for the tenant's failures)."""
    comments = newest = None
    advice = None
    problems: list[str] = []

    async def counts() -> None:
        nonlocal comments, newest
        try:
            result = await connection.execute(ACTIVITY_SQL)
        except LibsqlError as error:
            problems.append(_short(error))
            return
        count, last_comment, last_post = result.rows[0]
        comments = int(count) if count is not None else None
        times = [int(t) for t in (last_comment, last_post) if isinstance(t, int | float)]
        newest = max(times) if times else None

    async def index_advice() -> None:
        nonlocal advice
        try:
            advice = await advise(connection)
        except LibsqlError as error:
            problems.append(f"indexes: {_short(error)}")

    if connection.url.transport == "file":
        await counts()  # on a pool thread: answers come at once, in order
        try:
            advice = await _local_advice(connection, definitions)
        except LibsqlError as error:
            problems.append(f"indexes: {_short(error)}")
    else:
        await asyncio.gather(counts(), index_advice())
    return comments, newest, advice, problems


DEFINITIONS_SQL = (
    "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('table', 'index')"
)
"""Every table's and index's definition: what the index advice depends on, read cheaply."""

_advice_by_schema: dict[tuple[tuple[Any, ...], ...], IndexAdvice] = {}
"""Index advice by the definitions it was read from (see `_local_advice`)."""


async def _local_advice(
    connection: Connection, definitions: tuple[tuple[Any, ...], ...] | None = None
) -> IndexAdvice:
    """`advise`, asked only for a schema not seen before in this process.

    Reading every index's columns (`pragma_index_info`) was the dearest question of a local
    fleet row; the definitions decide the answer, and a fleet's tenants share a few schemas.
    """
    key = definitions
    if key is None:
        key = tuple(tuple(row) for row in (await connection.execute(DEFINITIONS_SQL)).rows)
    advice = _advice_by_schema.get(key)
    if advice is None:
        advice = await advise(connection)
        if len(_advice_by_schema) >= 256:
            _advice_by_schema.clear()
        _advice_by_schema[key] = advice
    return advice


async def _activity(
    workspace: Workspace, tenant: Tenant
) -> tuple[int | None, int | None, IndexAdvice | None, list[str]]:
    """Comment count, newest activity and index advice, asked at once, with one deadline."""
    deadline = workspace.settings.timeout
    try:
        async with asyncio.timeout(deadline):
            connection = await workspace.connection(tenant, new_replica=False)
            return await _fleet_answers(connection)
    except TimeoutError:
        return None, None, None, [f"{tenant.slug}: no answer within {deadline:g} s"]
    except (LibsqlError, RegistryError) as error:
        return None, None, None, [describe(error)]


def _short(error: LibsqlError) -> str:
    text = describe(error)
    if "no such table: comments" in text:
        return "no comments table"
    if "no such table: posts" in text:
        return "no posts table"
    return text


async def overview(
    workspace: Workspace, tenants: Iterable[Tenant], concurrency: int | None = None
) -> AsyncIterator[FleetRow]:
    """The fleet overview: one row per tenant, yielded as each tenant answers.

    Args:
        workspace: The session (its cached connections are reused).
        tenants: The registry rows to look at (broken ones answer at once with their problem).
        concurrency: Most tenants in flight; default `settings.fleet_concurrency`.
    """
    limit = concurrency or workspace.settings.fleet_concurrency
    rows = list(tenants)
    for tenant in rows:
        if tenant.broken:
            yield FleetRow(TenantHealth(tenant, reachable=False, error=tenant.problem))
    remote, local = await split_local(rows)
    # In a thread: tens of milliseconds for the migrations folder, which a key typed as the
    # fleet opens must not wait for (as `health.probe_all`).
    folder = await asyncio.to_thread(_load_folder, workspace)

    async def ask(tenant: Tenant) -> FleetRow:
        try:
            return await inspect_tenant(workspace, tenant, folder=folder)
        except Exception as error:  # a bug with one tenant must not stop the fleet
            return FleetRow(TenantHealth(tenant, reachable=False, error=describe(error)))

    async def ask_local(tenant: Tenant, connection: Connection) -> FleetRow:
        return await _local_row(tenant, connection, folder)

    def failed(tenant: Tenant, error: BaseException) -> FleetRow:
        return FleetRow(TenantHealth(tenant, reachable=False, error=describe(error)))

    streams: list[AsyncIterator[FleetRow]] = []
    if remote:
        streams.append(bounded(remote, ask, limit))
    if local:  # on the shared read-only pool, one thread more than cores (`health.peek_each`)
        streams.append(peek_each(workspace, local, ask_local, failed))
    async for row in one_stream(streams):
        yield row


async def overview_sequential(workspace: Workspace, tenants: Iterable[Tenant]) -> list[FleetRow]:
    """The same rows asked one tenant after the other (the loop operators script; B8's baseline)."""
    folder = _load_folder(workspace)
    return [
        await inspect_tenant(workspace, tenant, folder=folder)
        for tenant in tenants
        if not tenant.broken
    ]


__all__ = ["FleetRow", "inspect_tenant", "overview", "overview_sequential"]
