"""Verifying a backup directory: every file against its manifest entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tursotui.tenant.backup.copy import describe_file
from tursotui.tenant.backup.manifest import MANIFEST, read_manifest, sha256_of
from tursotui.tenant.backup.models import BackupError, VerifyResult


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
