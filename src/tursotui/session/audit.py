"""The audit log: every write tursotui makes, appended to a JSON-lines file before it is reported.

Each write is two lines: `pending` (written and fsynced before the write is sent,
so a write is on record even if the process dies right after it) and then `ok` or
`failed`. If the log cannot be written, the write is refused (AuditError).

The log keeps the full rows a moderation action deleted (so that an undo can put them
back), which makes it as sensitive as the tenants' data: it is created readable by its
owner only (mode 0600), and a log found readable by others is narrowed to 0600 before
anything more is written to it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import stat
import time
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
        reason: Why the operator did it, as they typed it (optional).
        group: One id shared by the entries of one action across several tenants.
        rows: Full rows the action deleted, by table.
        undoes: The id of the entry this entry undoes.
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
        self._mode_checked = False
        self.finished: list[str] = []
        """Ids of the writes this session finished (`ok`), oldest first: what `ctrl+z` undoes."""
        self.broken_lines: list[int] = []
        """Numbers (from 1) of the lines the last read could not understand."""
        self._reported: set[tuple[int, str]] = set()
        self._broken_text: dict[int, str] = {}
        self._mode_problem: str | None = None

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
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                self._narrow(fd)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # The last line was cut short (a crash mid-write, a hand edit): end it,
                    # so that this entry is a line of its own and stays readable.
                    line = "\n" + line
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            raise AuditError(
                f"the audit log {self.path} cannot be written ({error.strerror or error}); "
                "the write was not made"
            ) from None

    def _narrow(self, fd: int) -> None:
        """Make the log readable by its owner only, once per session (it holds deleted rows).

        A log made by an older version, or copied with a wider mode, is narrowed rather
        than refused: refusing would block every write over a mode only the owner can fix.
        """
        if self._mode_checked:
            return
        self._mode_checked = True
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            try:
                os.fchmod(fd, 0o600)
            except OSError as error:  # another user's file: say so, once, and go on
                self._mode_problem = (
                    f"the audit log {self.path} is readable by others (mode {mode:o}) and "
                    f"cannot be narrowed to 600 ({error.strerror or error}); it holds deleted rows"
                )

    def record(self, entry: AuditEntry) -> AuditEntry:
        """Append one entry as it is (stamping operator, time and id)."""
        entry.operator = entry.operator or self.operator
        entry.time = entry.time or time.time()
        if not entry.id:
            import uuid  # here: `tursotui audit`, which only reads, starts without it

            entry.id = str(uuid.uuid4())
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
        reason: str | None = None,
        group: str | None = None,
        undoes: str | None = None,
    ) -> AsyncIterator[AuditEntry]:
        """Record a write around the block: `pending` first, then `ok` or `failed`.

        The block may set `entry.row_ids`/`entry.detail`/`entry.rows` to what really
        happened (e.g. the ids a guarded update returned, the rows a delete removed).

        Raises:
            AuditError: before the block runs, if the log cannot be written.
        """
        pending = self.record(
            AuditEntry(
                action,
                tenant,
                list(row_ids or []),
                before,
                after,
                detail=detail,
                reason=reason or None,
                group=group,
                undoes=undoes,
            )
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
            reason=pending.reason,
            group=group,
            undoes=undoes,
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
        self.finished.append(outcome.id)

    def entries(self) -> list[AuditEntry]:
        """Every entry in the log, oldest first; unreadable lines are skipped.

        The numbers of the skipped lines are left in `broken_lines`; `problems()` says
        what was wrong with them, once each.
        """
        self.broken_lines = []
        self._broken_text = {}
        if not self.path.exists():
            return []
        entries = []
        known = set(AuditEntry.__dataclass_fields__)
        with self.path.open(encoding="utf-8", errors="replace") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    entry = AuditEntry(**{k: v for k, v in data.items() if k in known})
                    if not isinstance(entry.action, str) or not isinstance(entry.id, str):
                        raise TypeError("not an entry")
                    if not isinstance(entry.row_ids, list):
                        entry.row_ids = []
                    entry.row_ids = [str(row_id) for row_id in entry.row_ids]
                    if not isinstance(entry.rows, dict):
                        entry.rows = None
                    entries.append(entry)
                except (ValueError, TypeError, AttributeError):
                    self.broken_lines.append(number)
                    self._broken_text[number] = line.rstrip("\r\n")[:80]
        return entries

    def problems(self) -> list[str]:
        """What the last read skipped, each line said once per session (not on every read),
        and a mode that could not be narrowed."""
        said = []
        if self._mode_problem is not None:
            said.append(self._mode_problem)
            self._mode_problem = None
        for number in self.broken_lines:
            key = (number, self._broken_text.get(number, ""))
            if key in self._reported:
                continue
            self._reported.add(key)
            said.append(
                f"the audit log {self.path} line {number} cannot be read (cut short or edited "
                "by hand); it was skipped, the other entries are shown"
            )
        return said


def encode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A database row as the log keeps it: JSON values as they are, a blob as `{"base64": …}`.

    Floats that JSON cannot hold (NaN, infinity) are kept as `{"float": "inf"}`, so an undo
    writes back the very value that was deleted.
    """
    out: dict[str, Any] = {}
    for column, value in row.items():
        if isinstance(value, bytes | bytearray | memoryview):
            value = {"base64": base64.b64encode(bytes(value)).decode("ascii")}
        elif isinstance(value, float) and not math.isfinite(value):
            value = {"float": repr(value)}
        out[str(column)] = value
    return out


def decode_value(value: Any) -> Any:
    """The database value `encode_row` kept."""
    if isinstance(value, dict):
        if set(value) == {"base64"}:
            return base64.b64decode(value["base64"])
        if set(value) == {"float"}:
            return float(value["float"])
    return value


def describe_change(before: Any, after: Any) -> str:
    """`before → after` on one line, for lists.

    `before` may be one status, per-row statuses (`{id: status}`), or a status with the
    dates a move back to draft cleared (`{"status": …, "published_at": {id: date}}`).
    """

    def brief(value: Any) -> Any:
        if isinstance(value, dict) and "status" in value:
            value = value["status"]
        if isinstance(value, dict):
            scalars = {str(v) for k, v in value.items() if k != "published_at" and _scalar(v)}
            return "/".join(sorted(scalars)) or None
        return value

    text = " → ".join(str(p) for p in (brief(before), brief(after)) if p is not None)
    dates = after.get("published_at") if isinstance(after, dict) else None
    if isinstance(before, dict) and before.get("published_at") and not dates:
        text += " (published_at cleared)"
    elif isinstance(dates, dict) and dates:
        text += " (published_at set)"
    return text


def _scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)
