"""Backups of tenant databases into plain SQLite files, with a manifest that can be verified.

A local tenant is copied with SQLite's online backup API in one step, which
holds a read lock for the copy, so the file is one consistent snapshot even
while the app writes. A remote tenant is copied table by table through its
connection inside one interactive (read) transaction, so every table comes
from the same snapshot where the server keeps the transaction's stream.

Every backup directory holds `manifest.json`: per tenant the file name, the
time, the schema version, the row count of every table and the SHA-256 of the
file. `verify()` opens each file and compares it with the manifest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tursotui.db import Connection, LibsqlError
from tursotui.db import errors as db_errors
from tursotui.db.errors import describe
from tursotui.errors import TursotuiError
from tursotui.fleet.fanout import for_each
from tursotui.session.registry import RegistryError, Tenant

MANIFEST = "manifest.json"
"""The name of the manifest file in a backup directory."""

PAGE_ROWS = 2000
"""Rows fetched per request when copying a remote table, so a big table never sits in memory."""

Progress = Callable[[str, str], None]
"""Called with (tenant slug, what is happening) as a backup proceeds."""


SCHEMA_SQL = (
    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
    "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'libsql_%' AND name NOT LIKE '_litestream%' "
    "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid"
)
"""The schema to recreate: tables, then indexes, views and triggers (server internals skipped)."""


class BackupError(TursotuiError):
    """A backup or a verification cannot be made; the message names the tenant and the cause."""

    title = "Backup"


@dataclass
class BackupRecord:
    """One tenant's entry in the manifest.

    Attributes:
        tenant: The tenant's slug.
        file: The backup file's name inside the backup directory.
        time: When the snapshot was taken (seconds since the epoch).
        method: `sqlite-backup` (local) or `copy` (remote, table by table).
        consistent: True when the whole file comes from one snapshot.
        schema: The migrations recorded in the file: `applied` count and newest `created_at`.
        row_counts: Rows per table in the file.
        sha256: SHA-256 of the file, hex.
        size: The file's size in bytes.
    """

    tenant: str
    file: str
    time: float
    method: str
    consistent: bool
    schema: dict[str, Any]
    row_counts: dict[str, int]
    sha256: str
    size: int


@dataclass
class BackupFailure:
    """A tenant that could not be backed up, and why."""

    tenant: str
    error: str


@dataclass
class BackupRun:
    """What `backup_tenants` did: the records written and the tenants that failed."""

    directory: Path
    records: list[BackupRecord] = field(default_factory=list)
    failures: list[BackupFailure] = field(default_factory=list)


@dataclass
class VerifyResult:
    """The verification of one manifest entry: `problems` is empty when the file is sound."""

    tenant: str
    file: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file matches its manifest entry."""
        return not self.problems


def file_name(slug: str, taken: set[str]) -> str:
    """A safe file name for a tenant's backup: slugs come from the registry and are untrusted."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", slug).strip("._") or "tenant"
    name = f"{base}.db"
    n = 2
    while name in taken:
        name = f"{base}-{n}.db"
        n += 1
    taken.add(name)
    return name


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, hex, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _finish_file(path: Path) -> None:
    """Leave the file self-contained (no WAL) so its hash is the whole database."""
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def _backup_local(source: str, target: Path) -> None:
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
    _finish_file(target)


async def _copy_remote(connection: Connection, target: Path, report: Callable[[str], None]) -> bool:
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
    _finish_file(target)
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


async def backup_tenant(
    tenant: Tenant,
    connection: Connection | None,
    directory: Path,
    name: str,
    *,
    progress: Progress | None = None,
) -> BackupRecord:
    """Back one tenant up into `directory/name`.

    Args:
        tenant: The tenant (its URL says local or remote).
        connection: An open connection to it; needed for remote tenants only.
        directory: The backup directory (created if needed).
        name: The file name to write.
        progress: Told what is happening.

    Raises:
        BackupError: the tenant cannot be read or the file cannot be written.
    """

    def report(text: str) -> None:
        if progress:
            progress(tenant.slug, text)

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    partial = directory / f".{name}.partial"
    partial.unlink(missing_ok=True)
    taken = time.time()
    try:
        if tenant.broken:
            raise BackupError(f"{tenant.slug}: {tenant.problem}")
        location = tenant.location
        if location.transport == "file":
            if not Path(location.target).exists():
                raise BackupError(f"{tenant.slug}: no database file at {location.target}")
            report("copying with the SQLite backup API")
            await asyncio.to_thread(_backup_local, location.target, partial)
            method, consistent = "sqlite-backup", True
        else:
            if connection is None:
                raise BackupError(f"{tenant.slug}: no connection to copy through")
            consistent = await _copy_remote(connection, partial, report)
            method = "copy"
        report("counting rows and hashing")
        counts, schema = await asyncio.to_thread(describe_file, partial)
        digest = await asyncio.to_thread(sha256_of, partial)
        size = partial.stat().st_size
        os.replace(partial, target)
    except LibsqlError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(describe(error)) from None
    except (sqlite3.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{tenant.slug}: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report(f"done: {sum(counts.values())} rows, {size} bytes")
    return BackupRecord(
        tenant=tenant.slug,
        file=name,
        time=taken,
        method=method,
        consistent=consistent,
        schema=schema,
        row_counts=counts,
        sha256=digest,
        size=size,
    )


def read_manifest(directory: Path) -> list[dict[str, Any]]:
    """The entries of a backup directory's manifest (empty if there is none).

    Raises:
        BackupError: the manifest exists but cannot be read.
    """
    path = directory / MANIFEST
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["backups"]
        if not isinstance(entries, list):
            raise TypeError("backups is not a list")
        return entries
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{path}: not a tursotui backup manifest ({error})") from None


def write_manifest(directory: Path, records: list[BackupRecord]) -> Path:
    """Add `records` to the directory's manifest, replacing earlier entries of the same tenants."""
    path = directory / MANIFEST
    try:
        kept = [
            e
            for e in read_manifest(directory)
            if e.get("tenant") not in {r.tenant for r in records}
        ]
    except BackupError:
        kept = []
    entries = kept + [asdict(r) for r in records]
    entries.sort(key=lambda e: str(e.get("tenant", "")))
    temporary = directory / f".{MANIFEST}.partial"
    temporary.write_text(
        json.dumps({"format": 1, "backups": entries}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    os.replace(temporary, path)
    return path


async def backup_tenants(
    tenants: list[Tenant],
    directory: Path,
    connect: Callable[[Tenant], Any],
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> BackupRun:
    """Back up several tenants into one directory and write its manifest.

    Args:
        tenants: The tenants to back up.
        directory: Where the files and `manifest.json` go.
        connect: `async (tenant) -> Connection` (e.g. `Workspace.connection`), for remote tenants.
        concurrency: How many tenants are copied at once.
        progress: Told what is happening, per tenant.

    Returns:
        The records written (also in the manifest) and the tenants that failed, with why.
    """
    directory.mkdir(parents=True, exist_ok=True)
    existing = {e.get("tenant"): e.get("file") for e in _safe_manifest(directory)}
    taken: set[str] = {
        str(f) for t, f in existing.items() if f and t not in {x.slug for x in tenants}
    }
    names = {t.slug: file_name(t.slug, taken) for t in tenants}
    run = BackupRun(directory)

    async def one(tenant: Tenant) -> None:
        try:
            connection = None
            if not tenant.broken and tenant.is_remote:
                connection = await connect(tenant)
            record = await backup_tenant(
                tenant, connection, directory, names[tenant.slug], progress=progress
            )
        except (BackupError, RegistryError) as error:
            run.failures.append(BackupFailure(tenant.slug, str(error)))
            if progress:
                progress(tenant.slug, f"failed: {error}")
        except LibsqlError as error:
            run.failures.append(BackupFailure(tenant.slug, describe(error)))
            if progress:
                progress(tenant.slug, f"failed: {describe(error)}")
        else:
            run.records.append(record)

    await for_each(tenants, one, concurrency)
    run.records.sort(key=lambda r: r.tenant)
    run.failures.sort(key=lambda f: f.tenant)
    if run.records:
        write_manifest(directory, run.records)
    return run


def _safe_manifest(directory: Path) -> list[dict[str, Any]]:
    try:
        return read_manifest(directory)
    except BackupError:
        return []


def verify_entry(directory: Path, entry: dict[str, Any]) -> VerifyResult:
    """Check one manifest entry: the file exists, its hash, integrity and row counts match."""
    tenant = str(entry.get("tenant", "?"))
    name = str(entry.get("file", ""))
    result = VerifyResult(tenant, name)
    path = directory / name
    if not name or Path(name).name != name or not path.is_file():
        result.problems.append(f"the file {name!r} is missing")
        return result
    digest = sha256_of(path)
    if digest != entry.get("sha256"):
        result.problems.append("SHA-256 differs from the manifest (the file changed)")
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        try:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            db.close()
        if check != "ok":
            result.problems.append(f"integrity check: {check}")
        counts, _schema = describe_file(path)
    except sqlite3.Error as error:
        result.problems.append(f"cannot be opened as SQLite ({error})")
        return result
    expected = entry.get("row_counts") or {}
    for table in sorted(set(expected) | set(counts)):
        if expected.get(table) != counts.get(table):
            result.problems.append(
                f"table {table}: manifest says {expected.get(table)}, file has {counts.get(table)}"
            )
    return result


def verify(directory: Path) -> list[VerifyResult]:
    """Verify every file in a backup directory against its manifest.

    Raises:
        BackupError: there is no readable manifest in `directory`.
    """
    if not (directory / MANIFEST).exists():
        raise BackupError(f"{directory}: no {MANIFEST} (not a backup directory)")
    return [verify_entry(directory, entry) for entry in read_manifest(directory)]
