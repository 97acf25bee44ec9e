"""The interface every transport implements: libsql-client's `Client`, plus what tursotui needs."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Any, Self

from tursotui.db.libsql import Client, InArgs, InStatement, InValue, Statement, Value
from tursotui.db.result import Result
from tursotui.db.urls import DatabaseURL


def to_value(value: InValue) -> Value:
    """A plain SQLite value: bool as 0/1, bytes-likes as bytes, datetime as epoch SECONDS.

    libsql-client turns datetimes into milliseconds; the tenant schema stores
    seconds, and milliseconds would corrupt the app's view of the data.
    """
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, str | int | float):
        return value
    return bytes(memoryview(value))


def to_statement(stmt: InStatement, args: InArgs = None) -> Statement:
    """A `Statement` with its arguments normalised to plain SQLite values."""
    statement = Statement.convert(stmt, args)
    if isinstance(statement.args, dict):
        statement = Statement(statement.sql, {k: to_value(v) for k, v in statement.args.items()})
    elif statement.args is not None:
        statement = Statement(statement.sql, [to_value(v) for v in statement.args])
    return statement


class Transaction:
    """An interactive transaction: statements run one at a time until commit or rollback.

    Use as `async with connection.transaction() as tx:`; leaving the block without
    `commit()` rolls back.
    """

    @abstractmethod
    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result: ...

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...

    @property
    @abstractmethod
    def closed(self) -> bool: ...

    async def close(self) -> None:
        """Roll back unless committed, and release the transaction's stream."""
        if not self.closed:
            await self.rollback()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class RemoteTransaction(Transaction):
    """What the network transports' transactions share: ending one is a statement sent once."""

    _done: bool = False

    @abstractmethod
    async def _finish(self, sql: str) -> None:
        """Send `COMMIT` or `ROLLBACK` (the first call only) and release the stream."""

    async def commit(self) -> None:
        await self._finish("COMMIT")

    async def rollback(self) -> None:
        await self._finish("ROLLBACK")

    @property
    def closed(self) -> bool:
        return self._done


# libsql-client ships no types, so its Client is Any to the checker.
class Connection(Client):  # type: ignore[misc]
    """A connection to one libSQL database, whatever its URL.

    Attributes:
        url: The parsed URL (holds no token).
        name: What messages call this database: the tenant's slug, or its host.
        read_only: Writes are refused by the connection itself.
    """

    url: DatabaseURL
    name: str
    read_only: bool

    @abstractmethod
    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result: ...

    @abstractmethod
    async def batch(self, stmts: list[InStatement]) -> list[Result]:
        """Run statements in order inside one transaction; all or nothing."""

    @abstractmethod
    def transaction(self) -> Transaction:
        """Begin an interactive transaction (on a stream of its own)."""

    @abstractmethod
    def stream(
        self, stmt: InStatement, args: InArgs = None, *, chunk_size: int = 500
    ) -> AsyncGenerator[Result, None]:
        """Yield a query's rows in chunks, so a large result never sits in memory whole.

        Each chunk is a `Result` with the query's columns. Remote transports
        fetch the result in one request and then chunk it.
        """

    def interrupt(self) -> None:
        """Stop the statement running now, where the transport can; it raises INTERRUPTED."""

    def __repr__(self) -> str:
        mode = " read-only" if self.read_only else ""
        return f"<{type(self).__name__} {self.name} {self.url.host}{mode}>"


class RemoteConnection(Connection):
    """What the network transports share: where, under which name, with which token, how long.

    Args:
        url: The parsed URL.
        name: What messages call the database (a tenant slug, or its host).
        token: The database token, or None; kept private and never shown.
        read_only: Refuse every write before sending it.
        timeout: Seconds any one call may take, end to end; None waits as long as it takes
            (the SQL console's run without a timeout, which `ctrl+g` still stops).
    """

    def __init__(
        self,
        url: DatabaseURL,
        name: str,
        token: str | None,
        *,
        read_only: bool = False,
        timeout: float | None = 10.0,
    ) -> None:
        self.url = url
        self.name = name
        self.read_only = read_only
        self.timeout = timeout
        self._token = token
        self._closed = False
        self.renew_token: Callable[[str], Awaitable[str]] | None = None
        """Called with a token the server rejected (401) to get a new one (a minted token
        that expired); the request is then sent once more. None: a rejection is final."""

    def _no_answer(self) -> str:
        """The message of a call that took longer than the timeout."""
        within = f" within {self.timeout:g} s" if self.timeout is not None else ""
        return f"{self.url.host} did not answer{within}"

    async def stream(
        self, stmt: InStatement, args: InArgs = None, *, chunk_size: int = 500
    ) -> AsyncGenerator[Result, None]:
        # Hrana sends a result whole: fetch it in one request, then cut it up.
        result = await self.execute(stmt, args)
        for chunk in chunked(result, chunk_size):
            yield chunk

    def interrupt(self) -> None:
        """Nothing to do: a remote statement cannot be interrupted.

        The caller abandons it instead by cancelling the task awaiting it; the transport
        survives that (HTTP drops only the connection the request was using).
        """


def chunked(result: Result, size: int) -> list[Result]:
    """A result cut into results of at most `size` rows each (statistics on the first)."""
    size = max(1, size)
    if not result.rows:
        return [result]  # one chunk even with no rows: it carries the columns
    chunks = []
    for start in range(0, len(result.rows), size):
        first = start == 0
        chunks.append(
            Result(
                result.columns,
                result.rows[start : start + size],
                result.rows_affected if first else 0,
                result.last_insert_rowid if first else None,
                rows_read=result.rows_read if first else None,
                rows_written=result.rows_written if first else None,
                duration_ms=result.duration_ms if first else None,
            )
        )
    return chunks
