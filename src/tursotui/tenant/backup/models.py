"""What backups are made of: their error, the manifest's records, a run's outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tursotui.errors import TursotuiError

Progress = Callable[[str, str], None]
"""Called with (tenant slug, what is happening) as a backup proceeds."""


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
