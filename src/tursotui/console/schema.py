"""A tenant's schema as the console shows it: tables, columns with types, indexes, row counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from tursotui.db import Connection

_OBJECTS = (
    "SELECT name, type FROM sqlite_schema "
    "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
    "ORDER BY name"
)
_COLUMNS = (
    'SELECT m.name, p.name, p.type, p."notnull", p.pk '
    "FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS p "
    "WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
    "ORDER BY m.name, p.cid"
)
_INDEXES = "SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index' ORDER BY tbl_name, name"


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column: its name, declared type, NOT NULL and primary key."""

    name: str
    type: str
    not_null: bool
    primary_key: bool


@dataclass(slots=True)
class TableInfo:
    """A table or view with its columns and index names."""

    name: str
    kind: str
    columns: list[ColumnInfo] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Schema:
    """Every table and view of a database."""

    tables: list[TableInfo]

    def names(self) -> list[str]:
        """Table, view and column names, for completion (each once)."""
        seen: dict[str, None] = {}
        for table in self.tables:
            seen[table.name] = None
        for table in self.tables:
            for column in table.columns:
                seen[column.name] = None
        return list(seen)


async def read_schema(connection: Connection) -> Schema:
    """Read the schema in three queries (whatever the number of tables).

    Raises:
        LibsqlError: the tenant failed to answer.
    """
    objects = await connection.execute(_OBJECTS)
    tables = {str(r[0]): TableInfo(str(r[0]), str(r[1])) for r in objects.rows}
    for r in (await connection.execute(_COLUMNS)).rows:
        table = tables.get(str(r[0]))
        if table is not None:
            table.columns.append(ColumnInfo(str(r[1]), str(r[2] or ""), bool(r[3]), bool(r[4])))
    for r in (await connection.execute(_INDEXES)).rows:
        table = tables.get(str(r[1]))
        if table is not None:
            table.indexes.append(str(r[0]))
    return Schema(list(tables.values()))


def quote_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


async def count_rows(connection: Connection, table: str) -> int:
    """Rows in `table` (a full count: asked for on demand only).

    Raises:
        LibsqlError: the tenant failed to answer.
    """
    result = await connection.execute(f"SELECT count(*) FROM {quote_identifier(table)}")
    return int(result.rows[0][0])


__all__ = ["ColumnInfo", "Schema", "TableInfo", "count_rows", "quote_identifier", "read_schema"]
