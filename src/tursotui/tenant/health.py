"""How each tenant is doing: reachability, latency, post counts per status, schema version.

The tenants screen and `tursotui tenants` ask this for every registry row,
concurrently and bounded, and show answers as they arrive; one slow or dead
tenant never holds up the others (each probe has its own deadline).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.db.peek import peek, peek_all
from tursotui.db.urls import DatabaseURL, InvalidURL
from tursotui.fanout import LoopShare, bounded, merged
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant import STATUSES

if TYPE_CHECKING:
    from tursotui.session.workspace import Workspace
    from tursotui.tenant.migrations import MigrationFolder, SchemaState

T = TypeVar("T")

LOCAL_CONCURRENCY = 4
"""Most local (`file:`) tenants asked at once over their own connections (fleet search).

A local question waits on the CPU and the disk, not the network: beyond a few in flight,
more only adds threads (one per local connection) competing for the GIL with the UI.
The health probes do not use it: they read local tenants on the shared pool of
`db.peek`, one thread more than cores.
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

TABLES_SQL = (
    "SELECT name, sql FROM sqlite_schema "
    "WHERE type = 'table' AND name IN ('users', 'posts', 'comments')"
)
"""The needed tables' definitions: SQLite rewrites a table's `sql` on every ALTER, so the
same definitions mean the same columns, and most tenants of a fleet share them."""

_columns_by_schema: dict[tuple[tuple[str, str], ...], dict[str, set[str]]] = {}
"""The columns `COLUMNS_SQL` found, by the tables' definitions (see `_present_columns`)."""

COLUMNS_CACHE_SIZE = 256
"""Distinct schemas remembered; a fleet has a few (one per migration), rarely more."""


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
    if not tenant.is_remote:
        return await peek_local(tenant, lambda c: local_answers(tenant, c, folder), workspace)
    try:
        connection = await workspace.connection(tenant, new_replica=False)
    except (LibsqlError, RegistryError) as error:
        return TenantHealth(tenant, reachable=False, error=describe(error))
    quick = await _remote_answers(tenant, connection, folder)
    return quick if quick is not None else await answers(tenant, connection, folder)


NEWEST_MIGRATION_SQL = 'SELECT max(created_at) FROM "__drizzle_migrations"'


async def _remote_answers(
    tenant: Tenant, connection: Connection, folder: MigrationFolder | str
) -> TenantHealth | None:
    """`answers` for a remote tenant in one request (one batch), or None to ask the long way.

    Over a 100 ms link the round trips are the probe's cost: five statements in two
    round trips became one. A batch is all or nothing, so a tenant lacking a table
    answers None here and is asked the long way, which reports each missing piece.
    """
    if isinstance(folder, str):
        return None
    # A replica-backed tenant answers from its primary: reachable means the primary is.
    primary = cast(Connection, getattr(connection, "primary", connection))
    start = time.perf_counter()
    try:
        tables, counted, newest = await primary.batch(
            [LOCAL_TABLES_SQL, COUNTS_SQL, NEWEST_MIGRATION_SQL]
        )
    except LibsqlError as error:
        if error.code.startswith("SQLITE") or "no such table" in describe(error):
            return None
        return TenantHealth(tenant, reachable=False, error=describe(error))
    latency = (time.perf_counter() - start) * 1000
    counts = {status: 0 for status in STATUSES}
    for status, count in counted.rows:
        key = "NULL" if status is None else str(status)
        counts[key] = counts.get(key, 0) + int(count or 0)
    try:
        missing = _missing(await columns_of(connection, [tuple(row) for row in tables.rows]))
    except LibsqlError as error:
        missing = _short(error)
    return TenantHealth(
        tenant,
        reachable=True,
        latency_ms=latency,
        error=missing,
        counts=counts,
        schema=schema_label(folder, newest.rows[0][0] if newest.rows else None),
    )


async def peek_local(
    tenant: Tenant,
    ask: Callable[[Connection], Coroutine[Any, Any, T]],
    workspace: Workspace,
) -> T | TenantHealth:
    """`ask` a local tenant over a read-only connection of the shared pool (`db.peek`).

    The file is read without being changed (no `-wal`/`-shm` made, no journal mode set)
    and without a thread or a cached connection of its own: a fleet of thousands of
    local tenants is probed at the speed of the disk. A tenant that cannot be opened
    answers with why.
    """
    try:
        return await peek(tenant.location, tenant.slug, ask, timeout=workspace.settings.timeout)
    except LibsqlError as error:
        return TenantHealth(tenant, reachable=False, error=describe(error))


async def answers(
    tenant: Tenant, connection: Connection, folder: MigrationFolder | str
) -> TenantHealth:
    """The health questions asked over `connection` (never raises for the tenant's failures)."""

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
        # A local tenant is asked on a pool thread, where every answer comes at once.
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


LOCAL_TABLE_NAMES = frozenset({"users", "posts", "comments", "__drizzle_migrations"})
"""The tables a local probe reads the definitions of."""

LOCAL_TABLES_SQL = (
    "SELECT name, sql FROM sqlite_schema WHERE type = 'table' "
    "AND name IN ('users', 'posts', 'comments', '__drizzle_migrations')"
)
LOCAL_COUNTS = (
    "(SELECT json_group_array(json_array(status, n)) "
    "FROM (SELECT status, count(*) AS n FROM posts GROUP BY status))"
)
LOCAL_NEWEST = '(SELECT max(created_at) FROM "__drizzle_migrations")'
LOCAL_ALL_SQL = (
    "SELECT (SELECT json_group_array(json_array(name, sql)) FROM sqlite_schema "
    "WHERE type = 'table' AND name IN ('users', 'posts', 'comments', '__drizzle_migrations')), "
    f"{LOCAL_COUNTS}, {LOCAL_NEWEST}"
)
"""The tables' definitions, the post counts and the newest migration in one statement: it
fails on a tenant lacking posts or migrations, which is then asked the long way."""

_present_by_text: dict[str, dict[str, set[str]]] = {}
"""The needed tables' columns by the definitions' JSON text as SQLite wrote it: most
tenants of a fleet share it, and it is then not even parsed (see `present_columns`)."""


async def local_answers(
    tenant: Tenant,
    connection: Connection,
    folder: MigrationFolder | str,
    *,
    read: tuple[list[tuple[Any, ...]], float] | None = None,
) -> TenantHealth:
    """`answers` for a local tenant in one query (on a pool thread, see `peek_local`).

    The tables' definitions, the counts and the newest migration come in one statement
    (`LOCAL_ALL_SQL`): at 10,000 tenants the number of statements is the probe's cost.
    A tenant lacking a table fails it and is asked in two: the tables first, then the
    counts and the newest migration over the tables that exist; one failing that is
    asked the long way, which says what failed. `read`: the needed tables' (name, sql)
    rows and the time they took, when the caller read them with its own questions.
    """
    if read is not None:  # the caller read the tables already (name, sql), and how fast
        tables, latency = read
    else:
        start = time.perf_counter()
        try:
            definitions, counted, newest = (await connection.execute(LOCAL_ALL_SQL)).rows[0]
            latency = (time.perf_counter() - start) * 1000
            present = await present_columns(connection, definitions)
        except LibsqlError:
            pass  # a table is missing (or worse): the long way says which
        else:
            return local_health(tenant, latency, counts_from_json(counted), newest, present, folder)
        start = time.perf_counter()
        try:
            tables = [tuple(row) for row in (await connection.execute(LOCAL_TABLES_SQL)).rows]
        except LibsqlError as error:
            return TenantHealth(tenant, reachable=False, error=describe(error))
        latency = (time.perf_counter() - start) * 1000
    names = {str(name).lower() for name, _ in tables} & LOCAL_TABLE_NAMES
    parts = [
        sql
        for table, sql in (("posts", LOCAL_COUNTS), ("__drizzle_migrations", LOCAL_NEWEST))
        if table in names
    ]
    values: tuple[Any, ...] = ()
    if parts:
        try:
            values = tuple((await connection.execute(f"SELECT {', '.join(parts)}")).rows[0])
            present = await columns_of(connection, tables)
        except LibsqlError:
            return await answers(tenant, connection, folder)
    else:
        present = {}
    counts = counts_from_json(values[0]) if "posts" in names else None
    newest = values[-1] if "__drizzle_migrations" in names else None
    return local_health(tenant, latency, counts, newest, present, folder)


def counts_from_json(counted: str) -> dict[str, int]:
    """Posts per status from `LOCAL_COUNTS`'s JSON (every known status, zero or more)."""
    counts = {status: 0 for status in STATUSES}
    for status, count in json.loads(counted):
        key = "NULL" if status is None else str(status)
        counts[key] = counts.get(key, 0) + int(count or 0)
    return counts


async def present_columns(connection: Connection, definitions: str) -> dict[str, set[str]]:
    """The needed tables' columns, from their definitions as a JSON array of (name, sql)."""
    present = _present_by_text.get(definitions)
    if present is None:
        tables = [tuple(pair) for pair in json.loads(definitions)]
        present = await columns_of(connection, tables)
        if len(_present_by_text) >= COLUMNS_CACHE_SIZE:
            _present_by_text.clear()
        _present_by_text[definitions] = present
    return present


def local_health(
    tenant: Tenant,
    latency: float,
    counts: dict[str, int] | None,
    newest: Any,
    present: dict[str, set[str]],
    folder: MigrationFolder | str,
) -> TenantHealth:
    """A local tenant's health from what it answered (`counts` None: it has no posts table)."""
    problems: list[str] = []
    if counts is None:
        problems.append("no posts table")
    if isinstance(folder, str):
        problems.append(folder)
        schema = "unknown"
    else:
        schema = schema_label(folder, newest)
    missing = _missing(present)
    if missing:
        problems.append(missing)
    return TenantHealth(
        tenant,
        reachable=True,
        latency_ms=latency,
        error="; ".join(dict.fromkeys(problems)) or None,
        counts=counts,
        schema=schema,
    )


_labels: dict[tuple[int, float | str | bytes | None], tuple[MigrationFolder, str]] = {}
"""`schema_label`'s answers by folder and newest migration: a fleet has a handful of them."""


def schema_label(folder: MigrationFolder, newest: float | str | bytes | None) -> str:
    """The label `migrations.schema_state` gives, from the newest recorded `created_at`."""
    known = _labels.get((id(folder), newest))
    if known is not None and known[0] is folder:
        return known[1]
    label = _schema_label(folder, newest)
    if len(_labels) >= COLUMNS_CACHE_SIZE:
        _labels.clear()
    _labels[(id(folder), newest)] = (folder, label)  # the folder kept: its id stays its own
    return label


def _schema_label(folder: MigrationFolder, newest: float | str | bytes | None) -> str:
    from tursotui.tenant.migrations import SchemaState

    if newest is None:
        return SchemaState(applied=0, pending=list(folder.migrations)).label
    when = float(newest)
    applied = [m for m in folder.migrations if m.when <= when]
    latest = folder.latest
    return SchemaState(
        applied=len(applied),
        pending=[m for m in folder.migrations if m.when > when],
        ahead=latest is not None and when > latest.when,
        current_tag=applied[-1].tag if applied else None,
    ).label


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
    """What the screens need and the tenant lacks (`posts lacks title`), or None."""
    return _missing(await _present_columns(connection))


def _missing(present: dict[str, set[str]]) -> str | None:
    """What the screens need and `present` lacks, or None.

    A tenant with none of the tables is left to the counts (`no posts table`) and the
    migrations label (`not migrated`), which already say so.
    """
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


async def _present_columns(connection: Connection) -> dict[str, set[str]]:
    """The needed tables' columns, by lower-cased table name."""
    return await columns_of(connection, (await connection.execute(TABLES_SQL)).rows)


async def columns_of(connection: Connection, tables: Iterable[Any]) -> dict[str, set[str]]:
    """The columns of the needed tables whose (name, sql) rows are `tables`.

    Reading every column of three tables (`pragma_table_info`) was most of a local
    probe's cost; their definitions are read instead, and the columns asked only for
    definitions not seen before in this process.
    """
    definitions = tuple(
        sorted(
            (str(name).lower(), str(sql))
            for name, sql in tables
            if str(name).lower() in NEEDED_COLUMNS
        )
    )
    present = _columns_by_schema.get(definitions)
    if present is None:
        present = {}
        for table, column in (await connection.execute(COLUMNS_SQL)).rows:
            present.setdefault(str(table).lower(), set()).add(str(column).lower())
        if len(_columns_by_schema) >= COLUMNS_CACHE_SIZE:
            _columns_by_schema.clear()
        _columns_by_schema[definitions] = present
    return present


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

    At most `concurrency` remote tenants are asked at once; local ones are read on the
    shared read-only pool (`peek_each`), one thread more than cores.

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
    remote, local = await split_local(rows)
    if not remote and not local:
        return
    # In a thread: the migrations module's import and the folder's files are tens of
    # milliseconds the loop (and the keys typed as the list appears) need not wait for.
    folder = await asyncio.to_thread(_folder, workspace)

    async def one(tenant: Tenant) -> TenantHealth:
        try:
            return await probe(workspace, tenant, folder=folder)
        except Exception as error:  # a bug in one probe must not stop the others
            return TenantHealth(tenant, reachable=False, error=describe(error))

    async def ask(tenant: Tenant, connection: Connection) -> TenantHealth:
        return await local_answers(tenant, connection, folder)

    streams: list[AsyncIterator[TenantHealth]] = []
    if remote:
        streams.append(bounded(remote, one, limit))
    if local:
        streams.append(peek_each(workspace, local, ask, _unreachable))
    async for health in one_stream(streams):
        yield health


async def split_local(
    tenants: Iterable[Tenant],
) -> tuple[list[Tenant], list[tuple[Tenant, DatabaseURL]]]:
    """The remote tenants, and the local ones with their parsed URL (parsed once each); the
    broken ones are left out.

    In slices of the event loop: for 10,000 tenants this is tens of milliseconds, which a
    key typed meanwhile must not wait for. A URL that cannot be parsed goes with the remote
    ones, asked one by one, whose answer says what is wrong with it.
    """
    share = LoopShare()
    remote: list[Tenant] = []
    local: list[tuple[Tenant, DatabaseURL]] = []
    for tenant in tenants:
        if share.due():
            await share.turn()
        if tenant.broken:
            continue
        try:
            location = tenant.location
        except InvalidURL:
            remote.append(tenant)
            continue
        if location.is_remote:
            remote.append(tenant)
        else:
            local.append((tenant, location))
    return remote, local


async def one_stream(streams: list[AsyncIterator[T]]) -> AsyncIterator[T]:
    """The items of `streams` as they come: `merged`, without its hand-off for a lone stream
    (a fleet of local tenants: 10,000 hand-offs less). Leaving early closes them."""
    if len(streams) != 1:
        async for item in merged(*streams):
            yield item
        return
    stream = streams[0]
    try:
        async for item in stream:
            yield item
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _unreachable(tenant: Tenant, error: BaseException) -> TenantHealth:
    return TenantHealth(tenant, reachable=False, error=describe(error))


async def peek_each(
    workspace: Workspace,
    tenants: list[tuple[Tenant, DatabaseURL]],
    ask: Callable[[Tenant, Connection], Coroutine[Any, Any, T]],
    failed: Callable[[Tenant, BaseException], T],
) -> AsyncIterator[T]:
    """`ask` every local tenant (with its parsed URL, see `split_local`) on the shared
    read-only pool; yield answers as they come.

    Each tenant has the session's timeout as its deadline; one that cannot be opened,
    or whose questions fail, answers `failed(tenant, error)`.
    """
    jobs = []
    share = LoopShare()
    for tenant, location in tenants:
        if share.due():
            await share.turn()  # thousands of tenants: keys typed meanwhile go first

        async def question(connection: Connection, tenant: Tenant = tenant) -> T:
            return await ask(tenant, connection)

        jobs.append((location, tenant.slug, question))
    answers = peek_all(jobs, timeout=workspace.settings.timeout)
    try:
        async for index, answer in answers:
            if isinstance(answer, Exception):
                yield failed(tenants[index][0], answer)
            else:
                yield answer
    finally:
        await answers.aclose()  # leaving early stops the pool's threads at once


__all__ = [
    "STATUSES",
    "TenantHealth",
    "one_stream",
    "peek_each",
    "probe",
    "probe_all",
    "split_local",
]
