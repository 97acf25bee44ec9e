"""Copying one tenant database into a plain SQLite file: locally, or through its connection.

A local file is copied with SQLite's online backup API in one step (one read lock, so one
snapshot even while the app writes). A remote database is copied table by table inside one
read transaction, or in one batch where the server has no interactive transactions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tursotui.db import Connection, LibsqlError
from tursotui.db import errors as db_errors
from tursotui.db.errors import describe
from tursotui.tenant.backup.models import BackupError

PAGE_ROWS = 2000
"""Rows fetched per request when copying a remote table, so a big table never sits in memory."""

SCHEMA_SQL = (
    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
    "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'libsql_%' AND name NOT LIKE '_litestream%' "
    "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid"
)
"""The schema to recreate: tables, then indexes, views and triggers (server internals skipped)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _user_tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def describe_file(path: Path) -> tuple[dict[str, int], dict[str, Any]]:
    """Row count per table and the recorded migrations of an SQLite file (opened read-only)."""
    db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    try:
        counts = {
            table: int(db.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0])
            for table in _user_tables(db)
        }
        schema: dict[str, Any] = {"applied": 0, "latest": None}
        if "__drizzle_migrations" in counts:
            applied, latest = db.execute(
                "SELECT count(*), max(created_at) FROM __drizzle_migrations"
            ).fetchone()
            schema = {"applied": int(applied), "latest": latest}
        return counts, schema
    finally:
        db.close()


def finish_file(path: Path) -> None:
    """Leave the file self-contained (no WAL) so its hash is the whole database."""
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def copy_local(source: str, target: Path) -> None:
    src = sqlite3.connect(f"file:{quote(source)}?mode=ro", uri=True, timeout=30.0)
    try:
        dst = sqlite3.connect(str(target))
        try:
            # pages=-1: one step under one read lock, so the copy is one snapshot
            # (a multi-step copy restarts whenever the app writes in between).
            src.backup(dst, pages=-1)
        finally:
            dst.close()
    finally:
        src.close()
    finish_file(target)


async def copy_remote(connection: Connection, target: Path, report: Callable[[str], None]) -> bool:
    """Copy a database through its connection; returns True if it ran in one transaction."""
    dst = sqlite3.connect(str(target), isolation_level=None)
    try:
        dst.execute("PRAGMA journal_mode=OFF")
        dst.execute("BEGIN")
        try:
            transaction = connection.transaction()
            async with transaction as tx:
                await _copy_through(tx.execute, dst, report)
            consistent = True
        except LibsqlError as error:
            if dst.in_transaction:
                dst.execute("ROLLBACK")
            if not _transaction_unsupported(error):
                raise
            # Servers without interactive transactions (tursodb) still run a batch in one
            # transaction: read every table in one batch (whole tables, in memory at once).
            report("no interactive transactions on this server; reading in one batch")
            dst.execute("BEGIN")
            await _copy_in_batch(connection, dst, report)
            consistent = True
        dst.execute("COMMIT")
    finally:
        dst.close()
    finish_file(target)
    return consistent


def _transaction_unsupported(error: LibsqlError) -> bool:
    return error.code == db_errors.TRANSACTION_UNSUPPORTED


async def _copy_in_batch(
    connection: Connection, dst: sqlite3.Connection, report: Callable[[str], None]
) -> None:
    """Copy through one batch: the schema first, then every table whole, in one transaction."""
    schema = (await connection.batch([SCHEMA_SQL]))[0]
    entries = [(str(r[0]), str(r[1]), str(r[2])) for r in schema.rows]
    tables = [name for kind, name, _ in entries if kind == "table"]
    answers = await connection.batch([SCHEMA_SQL, *(f"SELECT * FROM {_quote(t)}" for t in tables)])
    if [str(r[1]) for r in answers[0].rows if str(r[0]) == "table"] != tables:
        raise BackupError(f"{connection.name}: the schema changed during the backup; try again")
    for kind, _name, sql in entries:
        if kind == "table":
            dst.execute(sql)
    for table, result in zip(tables, answers[1:], strict=True):
        report(f"copying {table}")
        _insert(dst, _quote(table), len(result.columns), [tuple(r) for r in result.rows])
    for kind, _name, sql in entries:
        if kind != "table":
            dst.execute(sql)


async def _copy_through(
    run: Callable[..., Any], dst: sqlite3.Connection, report: Callable[[str], None]
) -> None:
    schema = await run(SCHEMA_SQL)
    entries = [(str(r[0]), str(r[1]), str(r[2])) for r in schema.rows]
    tables = [name for kind, name, _ in entries if kind == "table"]
    for kind, _name, sql in entries:
        if kind == "table":
            dst.execute(sql)
    for table in tables:
        report(f"copying {table}")
        await _copy_table(run, dst, table)
    has_sequence = await run(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    )
    if has_sequence.rows[0][0]:
        sequence = await run("SELECT name, seq FROM sqlite_sequence")
        if sequence.rows:
            dst.executemany(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                [tuple(r) for r in sequence.rows],
            )
    # Indexes, views and triggers after the data: faster, and triggers must not fire on the copy.
    for kind, _name, sql in entries:
        if kind != "table":
            dst.execute(sql)


async def _copy_table(run: Callable[..., Any], dst: sqlite3.Connection, table: str) -> None:
    quoted = _quote(table)
    last: Any = None
    while True:
        try:
            if last is None:
                page = await run(
                    f"SELECT _rowid_, * FROM {quoted} ORDER BY _rowid_ LIMIT {PAGE_ROWS}"
                )
            else:
                page = await run(
                    f"SELECT _rowid_, * FROM {quoted} WHERE _rowid_ > ? "
                    f"ORDER BY _rowid_ LIMIT {PAGE_ROWS}",
                    [last],
                )
        except LibsqlError as error:
            if last is None and "rowid" in describe(error).lower():
                # WITHOUT ROWID table: no key to page by, take it whole.
                whole = await run(f"SELECT * FROM {quoted}")
                _insert(dst, quoted, len(whole.columns), [tuple(r) for r in whole.rows])
                return
            raise
        if not page.rows:
            return
        _insert(dst, quoted, len(page.columns) - 1, [tuple(r)[1:] for r in page.rows])
        if len(page.rows) < PAGE_ROWS:
            return
        last = page.rows[-1][0]


def _insert(dst: sqlite3.Connection, quoted: str, width: int, rows: list[tuple]) -> None:
    if rows:
        marks = ", ".join("?" for _ in range(width))
        dst.executemany(f"INSERT INTO {quoted} VALUES ({marks})", rows)
