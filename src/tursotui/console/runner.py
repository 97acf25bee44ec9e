"""Running console SQL: what may run, reads fetched a chunk at a time, writes held for a decision.

Shared by the SQL console and `tursotui sql`, so both refuse and confirm the same
statements. Nothing here knows about the UI: a write's confirmation is a callback.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple

from tursotui.db import Connection, Result
from tursotui.db import errors as db_errors
from tursotui.db.libsql import LibsqlError, Value
from tursotui.sqltext import StatementKind, StatementSpan, classify, split_statements

if TYPE_CHECKING:  # a write brings the audit log (the workspace makes it when first used)
    from tursotui.session.audit import AuditEntry, AuditLog

TRANSACTION_CONTROL_REFUSED = (
    "BEGIN, COMMIT, ROLLBACK and savepoints are handled by tursotui: "
    "each write runs in a transaction of its own"
)
AUDIT_ACTION = "sql"
"""The audit log's action for a statement run by hand."""


class PlannedStatement(NamedTuple):
    """One statement of the editor's text, classified, with why it may not run (if so).

    This and `WriteOutcome` are NamedTuples, not dataclasses: never changed once made, and a
    tenth of the cost to create (every `tursotui sql` loads this module).

    Attributes:
        span: Where it is in the text.
        kind: What it does.
        refusal: Why it is refused, else None.
    """

    span: StatementSpan
    kind: StatementKind
    refusal: str | None

    @property
    def sql(self) -> str:
        """The statement's text."""
        return self.span.sql


def refusal(kind: StatementKind, *, read_only: bool) -> str | None:
    """Why a statement may not run at all, or None.

    Args:
        kind: The classified statement.
        read_only: Read-only mode is on.
    """
    if kind.forbidden:
        return kind.forbidden
    if kind.is_transaction_control:
        return TRANSACTION_CONTROL_REFUSED
    if read_only and kind.writes:
        return f"read-only mode: {kind.verb or 'this statement'} writes and is refused"
    return None


def plan(text: str, *, read_only: bool) -> list[PlannedStatement]:
    """Split text into statements, classify each and decide which are refused."""
    planned = []
    for span in split_statements(text):
        kind = classify(span.sql)
        planned.append(PlannedStatement(span, kind, refusal(kind, read_only=read_only)))
    return planned


def what_it_touches(kind: StatementKind, tenant: str) -> str:
    """One sentence for a confirmation: the verb, the tables, the tenant, and the danger."""
    tables = ", ".join(kind.tables) if kind.tables else "no table named"
    sentence = f"{kind.verb or 'This statement'} on {tables} in tenant {tenant}"
    if kind.verb in ("DELETE", "UPDATE") and kind.destructive:
        sentence += f": there is no WHERE, so EVERY row is {kind.verb.lower()}d"
    elif kind.verb == "DROP":
        sentence += ": the object and all its data are removed"
    elif kind.verb == "ALTER":
        sentence += ": the schema changes (the app's migrations may no longer match)"
    elif kind.verb == "VACUUM":
        sentence += ": the whole database file is rewritten"
    return sentence + "."


def rows_changed(kind: StatementKind, result: Result) -> int:
    """Rows a write changed: the server's count, or its RETURNING rows where the count is 0.

    SQLite reports no change count for a statement with RETURNING, nor does tursodb at all.
    """
    if result.rows_affected or kind.verb not in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
        affected: int = result.rows_affected
        return affected
    return len(result.rows)


async def check_syntax(connection: Connection, sql: str) -> None:
    """Have the server compile (not run) `sql`: raises its syntax error, if any.

    For statements whose first word is not SQL, so that a typo gets SQLite's own message
    instead of being treated as an unknown write.

    Raises:
        LibsqlError: the server's error.
    """
    await connection.execute(f"EXPLAIN {sql}")


def plural(count: int, noun: str) -> str:
    """`1 row`, `2 rows`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def holds_transactions(connection: Connection) -> bool:
    """Whether a write can be run first and committed later (file: always; remote: tried)."""
    return not getattr(connection, "no_interactive_transactions", False)


# -- reads ------------------------------------------------------------------------------


class ResultCursor:
    """A statement's result, fetched as it is wanted.

    `open()` runs the statement and fetches the first chunk; `fetch(n)` returns the next rows,
    keeping one row in hand so `has_more` is honest. (A plain class rather than a dataclass:
    making one cost a millisecond of every `tursotui sql`.)

    Attributes:
        connection: Where the statement runs.
        sql: The statement.
        chunk_size: Rows asked of the connection at a time.
        columns: Column names (empty for a statement that returns no rows).
        rows_affected: Rows changed, where the statement changes any.
        rows_read: Rows the server says it read, where it reports it.
        rows_written: Rows the server says it wrote, where it reports it.
        first_rows_ms: Time until the first chunk arrived.
        loaded: Rows handed out by `fetch` so far.
    """

    def __init__(self, connection: Connection, sql: str, chunk_size: int = 500) -> None:
        self.connection = connection
        self.sql = sql
        self.chunk_size = chunk_size
        self.columns: tuple[str, ...] = ()
        self.rows_affected = 0
        self.rows_read: int | None = None
        self.rows_written: int | None = None
        self.first_rows_ms = 0.0
        self.loaded = 0
        self._stream: AsyncIterator[Result] | None = None
        self._buffer: list[tuple[Value, ...]] = []
        self._exhausted = False

    async def open(self) -> ResultCursor:
        """Run the statement and wait for its first chunk.

        Raises:
            LibsqlError: the statement failed (or was interrupted: INTERRUPTED).
        """
        started = time.perf_counter()
        self._stream = aiter(self.connection.stream(self.sql, chunk_size=self.chunk_size))
        await self._pull()
        self.first_rows_ms = (time.perf_counter() - started) * 1000
        return self

    async def _pull(self) -> bool:
        if self._exhausted or self._stream is None:
            return False
        try:
            chunk = await anext(self._stream)
        except StopAsyncIteration:
            self._exhausted = True
            return False
        if not self.columns and chunk.columns:
            self.columns = tuple(chunk.columns)
        if chunk.rows_affected:
            self.rows_affected += chunk.rows_affected
        read: int | None = getattr(chunk, "rows_read", None)
        if read is not None:
            self.rows_read = (self.rows_read or 0) + read
        written: int | None = getattr(chunk, "rows_written", None)
        if written is not None:
            self.rows_written = (self.rows_written or 0) + written
        self._buffer.extend(row.astuple() for row in chunk.rows)
        return True

    async def fetch(self, n: int) -> list[tuple[Value, ...]]:
        """The next `n` rows (fewer at the end).

        Raises:
            LibsqlError: the server failed while sending the rest.
        """
        while len(self._buffer) <= n and await self._pull():
            pass
        rows, self._buffer = self._buffer[:n], self._buffer[n:]
        self.loaded += len(rows)
        return rows

    @property
    def has_more(self) -> bool:
        """True when at least one more row is known to exist."""
        return bool(self._buffer)

    @property
    def returns_rows(self) -> bool:
        """True when the statement returned a result table (even an empty one)."""
        return bool(self.columns)

    async def close(self) -> None:
        """Stop reading: the rest of the result is dropped."""
        self._buffer.clear()
        self._exhausted = True
        stream, self._stream = self._stream, None
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            # The connection may be gone; there is nothing left to release then.
            with contextlib.suppress(LibsqlError):
                await aclose()


# -- writes -----------------------------------------------------------------------------


class WriteOutcome(NamedTuple):
    """What became of a write.

    Attributes:
        result: What the statement returned (RETURNING rows, rows changed).
        committed: True if it was committed (or ran without a transaction), False if rolled back.
        in_transaction: True if it ran inside a transaction before the decision.
        elapsed_ms: Time the statement took (not counting the decision).
    """

    result: Result
    committed: bool
    in_transaction: bool
    elapsed_ms: float


Decide = Callable[[Result | None], Awaitable[bool]]
"""Given what a write did inside its transaction, commit (True) or roll back (False).

Called with None, before anything is sent, where the server cannot hold a transaction.
"""


async def run_write(
    connection: Connection,
    audit: AuditLog,
    tenant: str,
    sql: str,
    *,
    decide: Decide | None,
    on_transaction: Callable[[object], None] | None = None,
) -> WriteOutcome:
    """Run one write, audited; inside a transaction and decided on, where the server can.

    The audit log gets `pending` before the statement is sent and `ok`/`failed` after, with
    the SQL and the rows changed and whether it was committed or rolled back.

    Args:
        connection: The tenant's connection.
        audit: The audit log.
        tenant: The tenant's slug.
        sql: One statement.
        decide: Called with the result inside the transaction (or with None before sending,
            where the server holds no transactions); None runs and commits at once.
        on_transaction: Told the open transaction (so that a cancel can interrupt it).

    Raises:
        AuditError: the audit log cannot be written (nothing was sent).
        LibsqlError: the statement failed; nothing was committed.
    """
    async with audit.recording(AUDIT_ACTION, tenant, detail=sql) as entry:
        if decide is not None and holds_transactions(connection):
            try:
                return await _run_in_transaction(connection, sql, entry, decide, on_transaction)
            except LibsqlError as error:
                if error.code != db_errors.TRANSACTION_UNSUPPORTED:
                    raise
        if decide is not None and not await decide(None):
            # No transaction to preview in (tursodb): the decision comes before sending.
            entry.after = {"outcome": "not run"}
            return WriteOutcome(Result((), []), False, False, 0.0)
        started = time.perf_counter()
        result = await connection.execute(sql)
        elapsed = (time.perf_counter() - started) * 1000
        entry.after = {"rows_changed": rows_changed(classify(sql), result), "outcome": "committed"}
        return WriteOutcome(result, True, False, elapsed)


async def _run_in_transaction(
    connection: Connection,
    sql: str,
    entry: AuditEntry,
    decide: Decide,
    on_transaction: Callable[[object], None] | None,
) -> WriteOutcome:
    async with connection.transaction() as tx:
        if on_transaction is not None:
            on_transaction(tx)
        started = time.perf_counter()
        result = await tx.execute(sql)
        elapsed = (time.perf_counter() - started) * 1000
        commit = await decide(result)
        if commit:
            await tx.commit()
        else:
            await tx.rollback()
        entry.after = {
            "rows_changed": rows_changed(classify(sql), result),
            "outcome": "committed" if commit else "rolled back",
        }
        return WriteOutcome(result, commit, True, elapsed)


__all__ = [
    "AUDIT_ACTION",
    "TRANSACTION_CONTROL_REFUSED",
    "Decide",
    "PlannedStatement",
    "ResultCursor",
    "WriteOutcome",
    "check_syntax",
    "holds_transactions",
    "plan",
    "plural",
    "refusal",
    "rows_changed",
    "run_write",
    "what_it_touches",
]
