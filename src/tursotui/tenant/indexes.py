"""Index advice: which indexes the screens rely on a tenant lacks, and creating them.

The indexes wanted are the `CREATE INDEX` statements of the built-in migrations
folder. Tenants created by the app before tursotui existed often lack
them, and then every page of the posts screen scans the whole table. An index
counts as present when any index on the same table starts with the same columns,
whatever its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.errors import TursotuiError
from tursotui.session.audit import AuditLog
from tursotui.tenant.migrations import Migration, MigrationFolder, load_folder, schema_state


class IndexAdviceError(TursotuiError):
    """The missing indexes cannot be created; the message names the tenant and the cause."""

    title = "Indexes"


_CREATE_INDEX = re.compile(
    r"CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?[`\"\[]?(\w+)[`\"\]]?\s+"
    r"ON\s+[`\"\[]?(\w+)[`\"\]]?\s*\(([^)]*)\)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class WantedIndex:
    """An index the screens need.

    Attributes:
        name: Its name in the built-in migrations.
        table: The table it indexes.
        columns: Its columns, in order.
        unique: Whether it is a UNIQUE index.
    """

    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool = False

    @property
    def sql(self) -> str:
        """The statement that creates it (a no-op if an index of that name exists)."""
        columns = ", ".join(f'"{c}"' for c in self.columns)
        unique = "UNIQUE " if self.unique else ""
        return f'CREATE {unique}INDEX IF NOT EXISTS "{self.name}" ON "{self.table}" ({columns})'

    @property
    def label(self) -> str:
        """`posts(status, published_at)`, for people."""
        return f"{self.table}({', '.join(self.columns)})"


@dataclass(frozen=True)
class IndexAdvice:
    """One tenant's missing indexes.

    Attributes:
        missing: Wanted indexes the tenant lacks (on tables it has).
        no_table: Tables a wanted index is on that the tenant does not have.
    """

    missing: tuple[WantedIndex, ...]
    no_table: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """`ok`, or `2 missing`, for a table cell."""
        if not self.missing and not self.no_table:
            return "ok"
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing")
        if self.no_table:
            parts.append(f"no {self.no_table[0]}" if len(self.no_table) == 1 else "no tables")
        return "; ".join(parts)


def parse_indexes(sql: str) -> list[WantedIndex]:
    """The `CREATE INDEX` statements found in a migration's text."""
    found = []
    for match in _CREATE_INDEX.finditer(sql):
        unique, name, table, columns = match.groups()
        names = tuple(c.strip().strip('`"[]').split()[0] for c in columns.split(",") if c.strip())
        found.append(WantedIndex(name, table, names, unique=bool(unique)))
    return found


@cache
def wanted_indexes() -> tuple[WantedIndex, ...]:
    """The non-unique indexes the built-in migrations create (unique ones are the app's schema)."""
    folder = load_folder(None)
    wanted: list[WantedIndex] = []
    for migration in folder.migrations:
        wanted.extend(i for i in parse_indexes(migration.sql) if not i.unique)
    return tuple(wanted)


SCHEMA_SQL = (
    "SELECT m.type, m.tbl_name, m.name, ii.seqno, ii.name FROM sqlite_master AS m "
    "LEFT JOIN pragma_index_info(m.name) AS ii ON m.type = 'index' "
    "WHERE m.type IN ('table', 'index') ORDER BY m.tbl_name, m.name, ii.seqno"
)
"""Tables and every index's columns in one query: one round trip on a remote tenant."""


async def advise(
    connection: Connection, wanted: tuple[WantedIndex, ...] | None = None
) -> IndexAdvice:
    """Which wanted indexes a tenant lacks (raises LibsqlError if it cannot be read)."""
    return advice_from_schema((await connection.execute(SCHEMA_SQL)).rows, wanted)


def advice_from_schema(
    rows: Iterable[Any], wanted: tuple[WantedIndex, ...] | None = None
) -> IndexAdvice:
    """The advice from the rows of `SCHEMA_SQL` (for callers batching it with other questions)."""
    wanted = wanted_indexes() if wanted is None else wanted
    tables: set[str] = set()
    existing: dict[tuple[str, str], list[str]] = {}
    for kind, table, name, _seqno, column in rows:
        if kind == "table":
            tables.add(str(table).lower())
        else:
            existing.setdefault((str(table).lower(), str(name)), []).append(
                str(column or "").lower()
            )
    missing = []
    no_table: list[str] = []
    for index in wanted:
        table = index.table.lower()
        if table not in tables:
            if index.table not in no_table:
                no_table.append(index.table)
            continue
        columns = [c.lower() for c in index.columns]
        covered = any(
            t == table and cols[: len(columns)] == columns for (t, _n), cols in existing.items()
        )
        if not covered:
            missing.append(index)
    return IndexAdvice(tuple(missing), tuple(no_table))


@dataclass(frozen=True)
class IndexPlan:
    """How to give one tenant its missing indexes without ever conflicting with its migrations.

    Attributes:
        migrations: Pending migrations to apply first (all of them, in order, as drizzle
            would): at least one of them creates some of the missing indexes.
        covered: The missing indexes those migrations create.
        create: The missing indexes no pending migration creates, made with
            `CREATE INDEX IF NOT EXISTS`.
    """

    migrations: tuple[Migration, ...]
    covered: tuple[WantedIndex, ...]
    create: tuple[WantedIndex, ...]


def plan_missing(missing: tuple[WantedIndex, ...], pending: Iterable[Migration]) -> IndexPlan:
    """Split a tenant's missing indexes between its pending migrations and plain creation.

    Creating an index that a pending migration creates with a plain `CREATE INDEX` (the
    same name) would make that migration fail; one on the same columns under another
    name would be built twice. Either way, the migration is the way to get it.

    Args:
        missing: What the advice says the tenant lacks.
        pending: The tenant's pending migrations (`SchemaState.pending`), oldest first.
    """
    pending = tuple(pending)
    from_migrations = [index for m in pending for index in parse_indexes(m.sql)]
    names = {index.name.lower() for index in from_migrations}
    shapes = {
        (index.table.lower(), tuple(c.lower() for c in index.columns)) for index in from_migrations
    }
    covered = tuple(
        index
        for index in missing
        if index.name.lower() in names
        or (index.table.lower(), tuple(c.lower() for c in index.columns)) in shapes
    )
    create = tuple(index for index in missing if index not in covered)
    return IndexPlan(pending if covered else (), covered, create)


async def plan(
    connection: Connection, missing: tuple[WantedIndex, ...], folder: MigrationFolder
) -> IndexPlan:
    """`plan_missing` for one tenant against the session's migrations folder.

    Raises:
        LibsqlError: the tenant's migrations cannot be read.
    """
    return plan_missing(missing, (await schema_state(connection, folder)).pending)


async def create_missing(
    connection: Connection, audit: AuditLog, tenant_slug: str, indexes: tuple[WantedIndex, ...]
) -> list[str]:
    """Create the given indexes on one tenant, in one transaction, recorded in the audit log.

    Returns:
        The names of the indexes created.

    Raises:
        IndexAdviceError: the tenant refused (read-only mode, locked, table gone...);
            nothing was created.
        AuditError: the audit log cannot be written; nothing was sent.
    """
    if not indexes:
        return []
    statements = [index.sql for index in indexes]
    names = [index.name for index in indexes]
    async with audit.recording(
        "create-indexes", tenant_slug, names, after="created", detail="; ".join(statements)
    ):
        try:
            await connection.batch(statements)
        except LibsqlError as error:
            raise IndexAdviceError(describe(error)) from None
    return names


__all__ = [
    "IndexAdvice",
    "IndexAdviceError",
    "IndexPlan",
    "WantedIndex",
    "advice_from_schema",
    "advise",
    "create_missing",
    "parse_indexes",
    "plan",
    "plan_missing",
    "wanted_indexes",
]
