"""The manifest of a backup directory: per tenant the file, time, schema, row counts and hash."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tursotui.tenant.backup.models import BackupError, BackupRecord

MANIFEST = "manifest.json"
"""The name of the manifest file in a backup directory."""


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, hex, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def safe_manifest(directory: Path) -> list[dict[str, Any]]:
    try:
        return read_manifest(directory)
    except BackupError:
        return []
