"""Asking a local database file a few quick questions without changing it, on a shared pool.

The health probes and the fleet overview ask thousands of local tenants a handful of
small queries each. A `LocalConnection` per tenant costs a thread of its own and a
cached connection, and opening a WAL file, even read-only, creates its `-wal` and
`-shm` files (a read-only connection then leaves them behind): with 10,000 tenants
that was most of the time and memory spent. Here each tenant is one job on a small
pool of threads shared by the process (one more than cores): open read-only, ask, close.

How a file is opened so that reading it changes nothing on disk:

- with no `-wal` and no `-journal` file beside it, no other process is writing it: it
  is opened `immutable=1` (no locks, no `-shm`), and once read it is checked again; if
  a writer came meanwhile (one of those files now exists, or the file's size or
  modification time changed), it is read again the second way;
- otherwise `mode=ro`, with SQLite's locking, through the `-wal` and `-shm` that the
  writer already made.

The questions are the same async functions that run over any `Connection`: they are
given a `PeekConnection` whose `execute` answers at once, so the coroutine finishes in
one step on the pool's thread without an event loop.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import AsyncGenerator, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote

from tursotui.db import errors
from tursotui.db.base import Connection, Transaction, to_statement
from tursotui.db.libsql import InArgs, InStatement, LibsqlError
from tursotui.db.result import Result
from tursotui.db.urls import DatabaseURL

T = TypeVar("T")

MAX_THREADS = 8
"""Most threads of the pool, whatever the cores: beyond, they only wait on the GIL."""

_pool: ThreadPoolExecutor | None = None


def pool_size() -> int:
    """Threads of the shared pool: one more than cores (at least 3, at most MAX_THREADS).

    SQLite reads without the GIL, but each file also takes some Python (opening, the
    answer's objects) under it: with a thread per core, a core sat idle while its thread
    waited for the GIL. One thread more keeps every core reading (at 10,000 tenants on
    2 cores: 1.24x-1.34x of the raw floor against 1.70x-2.39x with two threads).
    """
    return max(3, min(MAX_THREADS, (os.cpu_count() or 2) + 1))


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(pool_size(), thread_name_prefix="sqlite-peek")
    return _pool


def _decode_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _signature(path: str, name: str) -> tuple[int, int] | None:
    """The file's (size, mtime) when no writer's journal is beside it, else None.

    Raises:
        LibsqlError: there is no file at `path` (NO_SUCH_DATABASE).
    """
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise errors.database_error(
            name, f"no database file at {path}", errors.NO_SUCH_DATABASE
        ) from None
    except OSError:
        return None  # sqlite3 says what is wrong with it
    # `access` rather than `lexists`: a missing file is the common case, and `lexists`
    # pays for an exception each time (twice per file, thousands of files).
    if os.access(path + "-wal", os.F_OK) or os.access(path + "-journal", os.F_OK):
        return None
    return stat.st_size, stat.st_mtime_ns


class PeekConnection(Connection):
    """One read-only sqlite3 connection, used on the pool thread that opened it.

    Only `execute` is offered: what a probe asks. Its coroutine never suspends, and the
    rows it answers are plain tuples (read by position, not by column name).
    """

    def __init__(self, url: DatabaseURL, name: str, db: sqlite3.Connection) -> None:
        self.url = url
        self.name = name
        self.read_only = True
        self._db = db

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        bound: Any
        if isinstance(stmt, str) and args is None:
            sql, bound = stmt, ()  # a probe's own query: no arguments to convert
        else:
            statement = to_statement(stmt, args)
            sql, bound = statement.sql, () if statement.args is None else statement.args
            if isinstance(bound, dict):
                bound = {str(k).lstrip(":@$"): v for k, v in bound.items()}
        try:
            return self._run(sql, bound)
        except sqlite3.OperationalError as error:
            # Tenant text may hold invalid UTF-8: sqlite3's own decoder is fast but fails
            # the query over one such value; read it again decoding as servers do (U+FFFD).
            if "decode" not in str(error) or self._db.text_factory is _decode_text:
                raise _translate(self.name, error) from None
            self._db.text_factory = _decode_text
            try:
                return self._run(sql, bound)
            except sqlite3.Error as again:
                raise _translate(self.name, again) from None
        except sqlite3.Error as error:
            raise _translate(self.name, error) from None

    def _run(self, sql: str, bound: Any) -> Result:
        cursor = self._db.execute(sql, bound)
        try:
            if cursor.description is None:
                return Result((), [], 0, None)
            columns = tuple(d[0] for d in cursor.description)
            # Plain tuples, not `Row`s: a probe reads its rows by position, and wrapping
            # each in a `Row` was a fair share of a probe's time at thousands of tenants.
            return Result(columns, cursor.fetchall())
        finally:
            cursor.close()

    def _refuse(self) -> NoReturn:
        raise errors.database_error(self.name, "a probe only reads", errors.READ_ONLY)

    async def batch(self, stmts: list[InStatement]) -> list[Result]:
        self._refuse()

    def transaction(self) -> Transaction:
        self._refuse()

    async def stream(
        self, stmt: InStatement, args: InArgs = None, *, chunk_size: int = 500
    ) -> AsyncGenerator[Result, None]:
        self._refuse()
        yield  # pragma: no cover - makes this an async generator, as the interface wants

    async def close(self) -> None:
        """Nothing: the job that opened the connection closes it."""

    @property
    def closed(self) -> bool:
        return False


def _translate(name: str, error: sqlite3.Error) -> LibsqlError:
    code = getattr(error, "sqlite_errorname", None) or "SQLITE_ERROR"
    if code == "SQLITE_INTERRUPT":
        return errors.database_error(name, "no answer in time", errors.TIMEOUT)
    return errors.database_error(name, str(error), code)


def _drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (its awaits answer at once) to its end."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a peek question waited on something other than its database")


def _ask_once(
    uri: str,
    url: DatabaseURL,
    name: str,
    ask: Callable[[Connection], Coroutine[Any, Any, T]],
    deadline: float,
) -> T:
    try:
        db = sqlite3.connect(
            uri,
            uri=True,
            timeout=max(0.0, deadline - time.monotonic()),
            isolation_level=None,
            check_same_thread=False,
            cached_statements=0,
        )
    except sqlite3.Error as error:
        raise _translate(name, error) from None
    try:
        # A query running past the deadline is stopped (checked every few thousand steps).
        db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
        return _drive(ask(PeekConnection(url, name, db)))
    finally:
        db.close()


def _job(
    url: DatabaseURL,
    name: str,
    ask: Callable[[Connection], Coroutine[Any, Any, T]],
    deadline: float,
) -> T:
    path = url.target
    quoted = quote(path)
    before = _signature(path, name)
    if before is not None:
        answer = _ask_once(f"file:{quoted}?mode=ro&immutable=1", url, name, ask, deadline)
        if _signature(path, name) == before:
            return answer
    return _ask_once(f"file:{quoted}?mode=ro", url, name, ask, deadline)


async def peek(
    url: DatabaseURL,
    name: str,
    ask: Callable[[Connection], Coroutine[Any, Any, T]],
    *,
    timeout: float,
) -> T:
    """`await ask(connection)` on a read-only connection to a local file, on the shared pool.

    Args:
        url: A `file:` URL.
        name: What messages call the database (a tenant slug).
        ask: The questions; they may only await the connection's `execute`.
        timeout: Seconds the whole job may take; a query still running then is stopped.

    Raises:
        LibsqlError: the file is missing or not a database, a query failed, or the
            deadline passed (TIMEOUT); whatever `ask` raises.
    """
    deadline = time.monotonic() + timeout
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_shared_pool(), _job, url, name, ask, deadline)


CHUNK = 16
"""Files a pool thread reads one after the other before it hands their answers over.

A hand-off per file cost, on a busy machine, about as much as reading the file; a chunk
pays it once for sixteen, and its answers still arrive a few milliseconds apart.
"""

SLICE = 4
"""Chunks a pool thread reads in a row before it goes to the back of the pool's queue, so
that a single `peek` (a tenant opened meanwhile) waits for four chunks at most."""

Ask = Callable[[Connection], Coroutine[Any, Any, T]]


async def peek_all(
    jobs: Sequence[tuple[DatabaseURL, str, Ask[T]]], *, timeout: float
) -> AsyncGenerator[tuple[int, T | Exception], None]:
    """`peek` for many files on the shared pool; yield (index in `jobs`, answer) as they come.

    Each file has its own deadline of `timeout` seconds, counted from when its turn
    comes. A failure is yielded as the exception it raised (LibsqlError for the file's
    own failures). Leaving the loop early lets the threads finish their current file only.

    The pool's threads take the next chunk of files themselves and hand the answers to the
    event loop as they go: they never wait on the loop between chunks (when they did,
    a loop busy painting, or a machine busy elsewhere, left them idle), and the loop only
    takes the answers. The answers waiting to be taken are at most a few chunks per thread
    ahead of the loop, as a thread waits for the loop to take them before going on.
    """
    if not jobs:
        return
    loop = asyncio.get_running_loop()
    pool = _shared_pool()
    stop = threading.Event()
    starts = iter(range(0, len(jobs), CHUNK))
    take = threading.Lock()  # `next(starts)` from several threads
    answers: asyncio.Queue[list[tuple[int, T | Exception]] | BaseException | None] = asyncio.Queue()
    ahead = threading.BoundedSemaphore(4 * pool_size())
    """Chunks handed over and not yet taken by the loop: a thread waits beyond."""

    def hand(item: list[tuple[int, T | Exception]] | BaseException | None) -> None:
        try:
            loop.call_soon_threadsafe(answers.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is waiting for the answers
            stop.set()

    def work() -> None:
        try:
            for _ in range(SLICE):
                if stop.is_set():
                    hand(None)
                    return
                with take:
                    start = next(starts, None)
                if start is None:
                    hand(None)
                    return
                chunk: list[tuple[int, T | Exception]] = []
                for index in range(start, min(start + CHUNK, len(jobs))):
                    if stop.is_set():
                        break
                    url, name, ask = jobs[index]
                    try:
                        chunk.append((index, _job(url, name, ask, time.monotonic() + timeout)))
                    except Exception as error:  # the caller turns it into that file's answer
                        chunk.append((index, error))
                while not ahead.acquire(timeout=0.1):
                    if stop.is_set():
                        hand(None)
                        return
                hand(chunk)
            pool.submit(work)  # the back of the queue: others' jobs get their turn
        except BaseException as error:  # a bug: the loop raises it, no thread hangs
            hand(error)

    workers = min(pool_size(), -(-len(jobs) // CHUNK))
    for _ in range(workers):
        pool.submit(work)
    finished = 0
    try:
        while finished < workers:
            item = await answers.get()
            if item is None:
                finished += 1
                continue
            if isinstance(item, BaseException):
                raise item
            ahead.release()
            for answer in item:
                yield answer
    finally:
        stop.set()


__all__ = ["PeekConnection", "peek", "peek_all", "pool_size"]
