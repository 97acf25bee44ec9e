"""Drizzle-compatible migrations.

Applies a drizzle-kit migrations folder exactly as drizzle-orm's libsql migrator
does, so that a tenant migrated by tursotui and one migrated by drizzle are
indistinguishable and either tool can continue where the other stopped:

- a migration's statements are its file's text split on `--> statement-breakpoint`;
- its hash is the SHA-256 hex of the file's text; its `created_at` is the journal's `when`;
- `__drizzle_migrations` is created with drizzle's own DDL (`id SERIAL PRIMARY KEY`, which
  in SQLite leaves `id` NULL, as drizzle's rows have it);
- every journal entry whose `when` is greater than the newest recorded `created_at` is
  applied, all in one transaction, each followed by its `__drizzle_migrations` row.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import NamedTuple, cast

from tursotui.db import Connection, LibsqlError
from tursotui.db.errors import describe
from tursotui.errors import TursotuiError

BUILTIN_DIR = Path(__file__).parent / "migrations_builtin"
"""The app's tenant schema (drizzle-kit's own 0000 file) plus the screens' indexes."""

BREAKPOINT = "--> statement-breakpoint"
MIGRATIONS_TABLE = "__drizzle_migrations"
CREATE_MIGRATIONS_TABLE = (
    f'CREATE TABLE IF NOT EXISTS "{MIGRATIONS_TABLE}" (\n'
    "\t\t\tid SERIAL PRIMARY KEY,\n"
    "\t\t\thash text NOT NULL,\n"
    "\t\t\tcreated_at numeric\n"
    "\t\t)"
)


_SINGLE_INDEX = re.compile(
    r"\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?([`\"\[]?)(\w+)[`\"\]]?\s+"
    r"ON\s+[`\"\[]?(\w+)[`\"\]]?\s*\(([^()]*)\)\s*;?\s*",
    re.IGNORECASE,
)
"""One whole `CREATE INDEX` statement on plain columns (no WHERE clause, no expressions)."""


def index_definition(sql: str) -> tuple[bool, str, str, tuple[str, ...]] | None:
    """What a lone `CREATE INDEX` statement defines, normalised for comparison, or None.

    Returns (unique, name, table, columns) with names unquoted and lower-cased and each
    column's own words (`DESC`, `COLLATE nocase`) kept, so two statements that build the
    same index compare equal however they quote names or spell `IF NOT EXISTS`.
    """
    match = _SINGLE_INDEX.fullmatch(sql)
    if match is None:
        return None
    unique, _quote, name, table, columns = match.groups()
    parts = []
    for column in columns.split(","):
        words = column.split()
        if not words:
            return None
        words[0] = words[0].strip('`"[]')
        parts.append(" ".join(words).lower())
    return bool(unique), name.lower(), table.lower(), tuple(parts)


class MigrationError(TursotuiError):
    """A migrations folder that cannot be read, or a tenant that cannot be migrated."""

    title = "Migrations"


# The records below are made once and never changed: NamedTuples, which cost a tenth of what a
# frozen dataclass costs to create (each command that shows a schema version loads this module).


class Migration(NamedTuple):
    """One journal entry with its SQL.

    Attributes:
        idx: Position in the journal.
        tag: File name without `.sql`, e.g. `0000_cold_wendigo`.
        when: The journal's `when` (milliseconds); drizzle's `created_at`.
        sql: The file's text.
        hash: SHA-256 hex of the file's text, as drizzle records it.
        statements: The statements drizzle would run.
    """

    idx: int
    tag: str
    when: int
    sql: str
    hash: str
    statements: tuple[str, ...]


class MigrationFolder(NamedTuple):
    """A drizzle-kit migrations folder."""

    path: Path
    migrations: list[Migration]

    @property
    def latest(self) -> Migration | None:
        """The newest migration, or None for an empty journal."""
        return self.migrations[-1] if self.migrations else None


class SchemaState(NamedTuple):
    """Where a tenant stands against a migrations folder.

    Attributes:
        applied: How many of the folder's migrations the tenant has.
        pending: The folder's migrations it lacks, oldest first.
        ahead: The tenant records a migration newer than the folder's newest.
        current_tag: Tag of the newest applied migration of the folder, or None.
    """

    applied: int
    pending: list[Migration]
    ahead: bool = False
    current_tag: str | None = None

    @property
    def label(self) -> str:
        """`current`, `behind by N`, `ahead` or `not migrated`, for people."""
        if self.ahead:
            return "ahead"
        if self.applied == 0:
            return "not migrated"
        if self.pending:
            return f"behind by {len(self.pending)}"
        return "current"


def load_folder(path: Path | None = None) -> MigrationFolder:
    """Read a drizzle-kit migrations folder (`None`: the built-in one).

    Raises:
        MigrationError: the journal is missing or malformed, or a migration file is missing.
    """
    folder = Path(path) if path is not None else BUILTIN_DIR
    journal_path = folder / "meta" / "_journal.json"
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        entries = journal["entries"]
        if not isinstance(entries, list):
            raise TypeError("entries is not a list")
    except FileNotFoundError:
        raise MigrationError(f"migrations folder {folder}: no meta/_journal.json") from None
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise MigrationError(
            f"migrations folder {folder}: meta/_journal.json is malformed ({error})"
        ) from None
    migrations: list[Migration] = []
    for position, entry in enumerate(entries):
        try:
            tag, when = str(entry["tag"]), int(entry["when"])
            breakpoints = bool(entry.get("breakpoints", True))
        except (KeyError, TypeError, ValueError) as error:
            raise MigrationError(
                f"migrations folder {folder}: journal entry {position} is malformed ({error})"
            ) from None
        if migrations and when <= migrations[-1].when:
            raise MigrationError(
                f"migrations folder {folder}: journal entry {tag} is not newer than the one before"
            )
        try:
            text = (folder / f"{tag}.sql").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise MigrationError(
                f"migrations folder {folder}: cannot read {tag}.sql ({error})"
            ) from None
        migrations.append(
            Migration(
                idx=int(entry.get("idx", position)),
                tag=tag,
                when=when,
                sql=text,
                hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                statements=_statements(text, breakpoints),
            )
        )
    return MigrationFolder(folder, migrations)


def _statements(text: str, breakpoints: bool) -> tuple[str, ...]:
    pieces = text.split(BREAKPOINT)
    if not breakpoints:
        # Without breakpoints drizzle hands the whole file to the driver; sqlite3 runs
        # one statement per call, so split it properly to run every statement.
        from tursotui.sqltext import split_statements

        pieces = [span.sql for piece in pieces for span in split_statements(piece)]
    return tuple(piece for piece in pieces if piece.strip())


async def _newest_recorded(connection: Connection) -> float | None:
    exists = await connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    )
    if not exists.rows:
        return None
    result = await connection.execute(
        f'SELECT created_at FROM "{MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 1'
    )
    if not result.rows or result.rows[0][0] is None:
        return None
    return float(result.rows[0][0])


async def schema_state(connection: Connection, folder: MigrationFolder) -> SchemaState:
    """Compare a tenant's `__drizzle_migrations` with the folder (raises LibsqlError)."""
    newest = await _newest_recorded(connection)
    if newest is None:
        return SchemaState(applied=0, pending=list(folder.migrations))
    applied = [m for m in folder.migrations if m.when <= newest]
    pending = [m for m in folder.migrations if m.when > newest]
    latest = folder.latest
    return SchemaState(
        applied=len(applied),
        pending=pending,
        ahead=latest is not None and newest > latest.when,
        current_tag=applied[-1].tag if applied else None,
    )


async def _present_indexes(connection: Connection) -> dict[str, str]:
    """The tenant's indexes by lower-cased name, with the SQL that built each."""
    result = await connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    )
    return {str(name).lower(): str(sql) for name, sql in result.rows}


def _already_built(statement: str, present: dict[str, str]) -> bool:
    """Whether `statement` creates an index the tenant already has, defined identically."""
    wanted = index_definition(statement)
    if wanted is None:
        return False
    existing = present.get(wanted[1])
    return existing is not None and index_definition(existing) == wanted


async def migrate(
    connection: Connection, folder: MigrationFolder, *, dry_run: bool = False
) -> list[Migration]:
    """Apply the pending migrations in one transaction; return those applied (or due, dry run).

    Raises:
        MigrationError: the tenant is ahead of the folder, or a statement failed
            (then nothing of this run is applied).
    """
    name = connection.name
    # What is applied is decided on the primary: a replica that is behind would have a
    # migration applied twice. (The writes below go to the primary whatever the connection.)
    primary = cast(Connection, getattr(connection, "primary", connection))
    try:
        state = await schema_state(primary, folder)
    except LibsqlError as error:
        raise MigrationError(f"{name}: cannot read its migrations ({describe(error)})") from None
    if state.ahead:
        raise MigrationError(
            f"{name}: it has a migration newer than {folder.path} knows; refusing to migrate"
        )
    if dry_run or not state.pending:
        return state.pending
    try:
        present = await _present_indexes(primary)
    except LibsqlError as error:
        raise MigrationError(f"{name}: cannot read its indexes ({describe(error)})") from None
    statements: list[str | tuple[str, list[object]]] = []
    for migration in state.pending:
        # A plain `CREATE INDEX` whose index is already there, built exactly the same way
        # (by an older tursotui's index advice, or by hand), would fail the migration on
        # every run, forever. Skipping that one statement leaves the schema the migration
        # wants; the `__drizzle_migrations` row below is still the file's hash and `when`,
        # byte for byte what drizzle's migrator writes. An index of that name built
        # differently is not skipped: the migration fails and says so.
        statements.extend(
            statement
            for statement in migration.statements
            if not _already_built(statement, present)
        )
        statements.append(
            (
                f'INSERT INTO "{MIGRATIONS_TABLE}" ("hash", "created_at") VALUES(?, ?)',
                [migration.hash, migration.when],
            )
        )
    try:
        await connection.execute(CREATE_MIGRATIONS_TABLE)
        await connection.batch(statements)
    except LibsqlError as error:
        cause = describe(error).removeprefix(f"{name}: ")
        raise MigrationError(f"{name}: migration failed, nothing applied ({cause})") from None
    return state.pending
