"""The audit log: every write tursotui makes, appended to a JSON-lines file before it is reported.

Each write is two lines: `pending` (written and fsynced before the write is sent,
so a write is on record even if the process dies right after it) and then `ok` or
`failed`. If the log cannot be written, the write is refused (AuditError).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tursotui.errors import TursotuiError

CANCELLED = "the write was stopped before it was committed"
"""What a write cut short (its task cancelled) is recorded as, unless told a reason."""
APP_CLOSED = "the app was closed before the write was committed"
"""The reason recorded for writes cut short because the app was closing."""


class AuditError(TursotuiError):
    """The audit log cannot be written, so the write it guards must not happen."""

    title = "Audit log"


@dataclass
class AuditEntry:
    """One line of the audit log.

    Attributes:
        action: What was done, e.g. `publish`, `delete-comment`, `sql`, `migrate`, `create-tenant`.
        tenant: The tenant's slug.
        row_ids: Ids of the rows the action meant to touch.
        before: The state the screen showed (e.g. a status), if any.
        after: The state asked for, if any.
        status: `pending`, then `ok` or `failed`.
        detail: SQL text, a count, or the failure's message.
    """

    action: str
    tenant: str
    row_ids: list[str] = field(default_factory=list)
    before: Any = None
    after: Any = None
    status: str = "pending"
    detail: str | None = None
    operator: str = ""
    time: float = 0.0
    id: str = ""
    reason: str | None = None
    """Why the operator did it, as they typed it (optional)."""
    group: str | None = None
    """One id shared by the entries of one action across several tenants."""
    rows: dict[str, list[dict[str, Any]]] | None = None
    """Full rows the action deleted, by table ({"comments": [{column: value, ...}]}), read in the
    same transaction before the delete, so an undo can put them back verbatim."""
    undoes: str | None = None
    """The id of the entry this entry undoes."""


class AuditLog:
    """Appends entries to `<data dir>/audit.jsonl` and reads them back."""

    def __init__(self, path: Path, operator: str) -> None:
        self.path = path
        self.operator = operator
        self.cancelled_because = CANCELLED
        """Why a write whose task is cancelled did not finish (the app sets `APP_CLOSED`
        as it exits): a cancellation carries no message of its own."""
        self._generations: dict[str, int] = {}
        self._generation = 0

    def generation(self, tenant: str | None = None) -> int:
        """How many writes this session has finished on `tenant` (on any tenant if None).

        Every write the app makes is recorded here, whichever screen or command made it,
        so this is where anything showing a tenant's data learns that it may be stale:
        remember the number when you read, compare it when you are shown again.
        """
        if tenant is None:
            return self._generation
        return self._generations.get(tenant, 0)

    def _changed(self, tenant: str) -> None:
        self._generations[tenant] = self._generations.get(tenant, 0) + 1
        self._generation += 1

    def _append(self, entry: AuditEntry) -> None:
        # Field by field, not `asdict`: that deep-copies every value first, and an entry
        # holding 10,000 deleted rows took seconds to copy; json.dumps walks them as they are.
        data = {f.name: getattr(entry, f.name) for f in fields(entry)}
        line = json.dumps(data, ensure_ascii=False, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            raise AuditError(
                f"the audit log {self.path} cannot be written ({error.strerror or error}); "
                "the write was not made"
            ) from None

    def record(self, entry: AuditEntry) -> AuditEntry:
        """Append one entry as it is (stamping operator, time and id)."""
        entry.operator = entry.operator or self.operator
        entry.time = entry.time or time.time()
        entry.id = entry.id or str(uuid.uuid4())
        self._append(entry)
        return entry

    @asynccontextmanager
    async def recording(
        self,
        action: str,
        tenant: str,
        row_ids: list[str] | None = None,
        *,
        before: Any = None,
        after: Any = None,
        detail: str | None = None,
    ) -> AsyncIterator[AuditEntry]:
        """Record a write around the block: `pending` first, then `ok` or `failed`.

        The block may set `entry.row_ids`/`entry.detail` to what really happened
        (e.g. the ids a guarded update returned).

        Raises:
            AuditError: before the block runs, if the log cannot be written.
        """
        pending = self.record(
            AuditEntry(action, tenant, list(row_ids or []), before, after, detail=detail)
        )
        outcome = AuditEntry(
            action,
            tenant,
            list(pending.row_ids),
            before,
            after,
            status="ok",
            detail=detail,
            id=pending.id,
        )
        try:
            yield outcome
        except asyncio.CancelledError as error:
            outcome.status = "failed"
            outcome.detail = str(error) or self.cancelled_because
            self._changed(tenant)  # cut short after sending, it may have been applied
            self.record(outcome)
            raise
        except BaseException as error:
            outcome.status = "failed"
            outcome.detail = str(error) or type(error).__name__
            self._changed(tenant)  # a failed write may still have been applied, say, by a server
            self.record(outcome)
            raise
        self._changed(tenant)
        self.record(outcome)

    def entries(self) -> list[AuditEntry]:
        """Every entry in the log, oldest first; unreadable lines are skipped."""
        if not self.path.exists():
            return []
        entries = []
        known = set(AuditEntry.__dataclass_fields__)
        with self.path.open(encoding="utf-8", errors="replace") as file:
            for line in file:
                try:
                    data = json.loads(line)
                    entries.append(AuditEntry(**{k: v for k, v in data.items() if k in known}))
                except (ValueError, TypeError):
                    continue
        return entries


def describe_change(before: Any, after: Any) -> str:
    """`before → after` on one line, for lists.

    `before` may be one status, per-row statuses (`{id: status}`), or a status with the
    dates a move back to draft cleared (`{"status": …, "published_at": {id: date}}`).
    """

    def brief(value: Any) -> Any:
        if isinstance(value, dict) and "status" in value:
            value = value["status"]
        if isinstance(value, dict):
            return "/".join(sorted({str(v) for v in value.values()}))
        return value

    text = " → ".join(str(p) for p in (brief(before), brief(after)) if p is not None)
    if isinstance(before, dict) and before.get("published_at"):
        text += " (published_at cleared)"
    return text
