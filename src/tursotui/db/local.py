"""`file:` databases: one persistent sqlite3 connection on a thread of its own.

libsql-client's own `file:` client runs sqlite3 on the event loop and opens a
connection per statement; here every call hops to the connection's
single worker thread, so SQLite never blocks the UI and the connection (and its
statement cache) lives as long as the `LocalConnection`.

One exception, for speed: a read on an idle connection is first tried on the calling
thread with a budget of `INLINE_BUDGET_S` (SQLite's progress handler stops it there), so a
page query (a fraction of a millisecond) costs no thread hop, which would add about half
its time again. A read that outruns the budget is stopped and run on the thread; the loop
then lost at most the budget, and that statement is not tried inline again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from tursotui.db import errors
from tursotui.db.base import Connection, Transaction, to_statement
from tursotui.db.libsql import InArgs, InStatement, LibsqlError
from tursotui.db.result import Result, make_rows
from tursotui.db.urls import DatabaseURL
from tursotui.sqltext import classify

T = TypeVar("T")

BUSY_TIMEOUT_S = 5.0
"""How long a write waits for another process's lock (the app owning the tenant) before failing."""

_FORBIDDEN_FUNCTIONS = {"load_extension"}

INLINE_BUDGET_S = 0.002
"""How much CPU time a read may take on the calling thread (the event loop) before it moves
to the connection's thread: well under a frame, so no key or repaint waits for it."""
_PROGRESS_STEPS = 1000
"""SQLite virtual machine steps between two looks at the clock (a few microseconds)."""
_SLOW_KEPT = 256
"""Statements remembered as too slow to try inline, per connection (then forgotten)."""


@functools.lru_cache(maxsize=512)
def _reads_only(sql: str) -> bool:
    """Whether `sql` only reads (cached: the page queries are the same few strings)."""
    kind = classify(sql)
    return kind.is_known and not kind.writes


class _Worker:
    """The one thread a database's sqlite3 connection lives on.

    A bare thread fed by a queue, answering through `call_soon_threadsafe`: half
    the cost per call of `run_in_executor` (measured 31 vs 62 µs), which matters
    when a page query itself takes 0.2 ms. Daemonic, so a runaway query never
    holds up the process's exit.
    """

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._serve, name=f"sqlite:{name}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, future = job
            try:
                outcome: tuple[bool, Any] = (True, fn())
            except BaseException as error:  # handed to the awaiting task
                outcome = (False, error)
            with contextlib.suppress(RuntimeError):  # the event loop is gone; nobody waits
                future.get_loop().call_soon_threadsafe(_settle, future, *outcome)

    def submit(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Run `fn` on the thread; the future settles on the calling event loop."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((fn, future))
        return future

    def stop(self) -> None:
        """Let the thread end once the jobs already queued are done."""
        self._jobs.put(None)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class _Guard:
    """The SQLite authorizer: refuses ATTACH, DETACH and load_extension, remembers why."""

    def __init__(self) -> None:
        self.refused: str | None = None

    def __call__(self, action: int, arg1: Any, arg2: Any, _db: Any, _trigger: Any) -> int:
        if action == sqlite3.SQLITE_ATTACH:
            self.refused = "ATTACH"
        elif action == sqlite3.SQLITE_DETACH:
            self.refused = "DETACH"
        elif action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in _FORBIDDEN_FUNCTIONS:
            self.refused = str(arg2)
        else:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY


def _open(path: str, *, read_only: bool, create: bool) -> tuple[sqlite3.Connection, _Guard]:
    """Open the file; only a file this call creates is switched to WAL.

    The journal mode is a persistent setting of the file: an app's registry or tenant
    is opened as it is (its own journal mode, rows untouched), and WAL is chosen only
    for files tursotui makes itself (its own registry, its local tenants).
    """
    mode = "ro" if read_only else ("rwc" if create else "rw")
    new = create and not read_only and not Path(path).exists()
    if create:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        f"file:{quote(path)}?mode={mode}",
        uri=True,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,
        cached_statements=256,
    )
    try:
        if new:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA schema_version").fetchone()  # fails here, not later, on a non-database
    except BaseException:
        db.close()
        raise
    guard = _Guard()
    db.set_authorizer(guard)
    return db, guard


def _decode_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


class _Scan:
    """A query read in chunks on the connection's thread (see `LocalConnection.stream`)."""

    def __init__(self, connection: LocalConnection, sql: str, args: Any) -> None:
        self.connection = connection
        self.sql = sql
        self.args = args
        self.cursor: sqlite3.Cursor | None = None
        self.columns: tuple[str, ...] = ()
        self.delivered = 0

    def start(self) -> Result | None:
        """Run the statement; a statement without rows is answered here, whole."""
        db = self.connection._db
        if db is None:
            raise sqlite3.ProgrammingError("the connection is closed")
        self.cursor = db.execute(self.sql, self.args)
        if self.cursor.description is None:
            cursor, self.cursor = self.cursor, None
            return Result((), [], max(cursor.rowcount, 0), cursor.lastrowid or None)
        self.columns = tuple(d[0] for d in self.cursor.description)
        return None

    def fetch(self, size: int) -> list[tuple[Any, ...]]:
        """The next rows; on undecodable text, the read starts again past the rows delivered."""
        assert self.cursor is not None
        try:
            rows = self.cursor.fetchmany(size)
        except sqlite3.OperationalError as error:
            if not self.connection._undecodable(error, self.sql):
                raise
            self.close()
            self.start()
            assert self.cursor is not None
            skipped = 0
            while skipped < self.delivered and self.cursor.fetchmany(
                min(size, self.delivered - skipped)
            ):
                skipped += min(size, self.delivered - skipped)
            rows = self.cursor.fetchmany(size)
        self.delivered += len(rows)
        return rows

    def close(self) -> None:
        if self.cursor is not None:
            self.cursor.close()
            self.cursor = None


def _bind(args: Any) -> Any:
    """sqlite3's parameters: named ones keyed without their `:`/`@`/`$` prefix."""
    if args is None:
        return ()
    if isinstance(args, dict):
        return {str(k).lstrip(":@$"): v for k, v in args.items()}
    return args


class LocalConnection(Connection):
    """A `file:` database served by a persistent sqlite3 connection on its own thread."""

    def __init__(self, url: DatabaseURL, name: str, *, read_only: bool, create: bool) -> None:
        self.url = url
        self.name = name
        self.read_only = read_only
        self._create = create
        self._worker = _Worker(name)
        self._db: sqlite3.Connection | None = None
        self._guard = _Guard()
        self._closed = False
        self._busy = 0
        """Calls and streams in flight (see `idle`)."""
        self._slow: set[str] = set()
        """Reads that outran the inline budget: they go to the thread straight away."""

    async def open(self) -> LocalConnection:
        """Open the database file; a missing file is an error unless `create` was asked for."""
        path = self.url.target
        if not self._create and not Path(path).exists():
            self._worker.stop()
            self._closed = True
            raise errors.database_error(
                self.name, f"no database file at {path}", errors.NO_SUCH_DATABASE
            )
        try:
            self._db, self._guard = await self._call(
                _open, path, read_only=self.read_only, create=self._create
            )
        except BaseException:
            self._worker.stop()
            self._closed = True
            raise
        return self

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._closed:
            raise errors.database_error(self.name, "the connection is closed", errors.CLOSED)
        self._busy += 1
        try:
            with self._translating():
                return await self._worker.submit(lambda: fn(*args, **kwargs))
        finally:
            self._busy -= 1

    @contextlib.contextmanager
    def _translating(self) -> Iterator[None]:
        """sqlite3's errors as the connection layer's (`DatabaseError`)."""
        try:
            yield
        except sqlite3.Error as error:
            raise self._translate(error) from None
        except OverflowError:
            # sqlite3 raises a bare OverflowError for an int beyond 64 bits; the remote
            # transports refuse it with this code too (hrana.encode_value).
            raise errors.database_error(
                self.name, "an integer does not fit in 64 bits", "UNSUPPORTED_VALUE"
            ) from None

    def _run_inline(self, sql: str, args: Any) -> Result | None:
        """A read run here and now if it finishes within the budget; None: use the thread.

        Only on an idle connection (nothing runs on its thread, so nothing waits for its
        lock), outside a transaction, and for a statement that only reads (stopping it
        half way and running it again changes nothing).
        """
        db = self._db
        if (
            db is None
            or self._closed
            or self._busy
            or db.in_transaction
            or sql in self._slow
            or not _reads_only(sql)
        ):
            return None
        # The thread's CPU time, not the wall clock: a busy machine that preempts the loop
        # in the middle of a short read must not make it look long.
        deadline = time.thread_time() + INLINE_BUDGET_S
        over = False

        def check_clock() -> int:
            nonlocal over
            over = time.thread_time() > deadline
            return over  # non-zero stops the statement (SQLITE_INTERRUPT)

        db.set_progress_handler(check_clock, _PROGRESS_STEPS)
        try:
            with self._translating():
                try:
                    return self._run(sql, args)
                except sqlite3.OperationalError:
                    if not over:
                        raise
        finally:
            db.set_progress_handler(None, 0)
        if len(self._slow) >= _SLOW_KEPT:
            self._slow.clear()
        self._slow.add(sql)
        return None

    def _translate(self, error: sqlite3.Error) -> LibsqlError:
        code = getattr(error, "sqlite_errorname", None) or "SQLITE_ERROR"
        message = str(error)
        if self._guard.refused:
            refused, self._guard.refused = self._guard.refused, None
            return errors.database_error(
                self.name,
                f"{refused} is not allowed: the console cannot reach other databases or load code",
                errors.FORBIDDEN_STATEMENT,
            )
        if code.startswith("SQLITE_READONLY") and self.read_only:
            return errors.database_error(
                self.name, "read-only mode: writes are refused", errors.READ_ONLY
            )
        if code == "SQLITE_INTERRUPT":
            return errors.database_error(self.name, "the query was cancelled", errors.INTERRUPTED)
        return errors.database_error(self.name, message, code)

    # -- running statements (these run on the connection's thread) -----------------

    def _undecodable(self, error: sqlite3.Error, sql: str) -> bool:
        """Whether `error` is undecodable text in a read, now worth running again.

        Tenant text may hold invalid UTF-8 (a CAST of a blob). sqlite3's own decoder
        is fast but fails the whole query over one such value; the replacing decoder
        (U+FFFD, as the remote servers do) costs a Python call per value, so it is
        switched on only for a connection that has met such text, and only a read is
        ever run twice.
        """
        assert self._db is not None
        if "decode" not in str(error) or self._db.text_factory is _decode_text:
            return False
        if classify(sql).writes:
            return False
        self._db.text_factory = _decode_text
        return True

    def _run(self, sql: str, args: Any) -> Result:
        try:
            return self._run_once(sql, args)
        except sqlite3.OperationalError as error:
            if not self._undecodable(error, sql):
                raise
            return self._run_once(sql, args)

    def _run_once(self, sql: str, args: Any) -> Result:
        assert self._db is not None
        cursor = self._db.execute(sql, _bind(args))
        try:
            if cursor.description is None:
                return Result((), [], max(cursor.rowcount, 0), cursor.lastrowid or None)
            columns = tuple(d[0] for d in cursor.description)
            values = cursor.fetchall()
            # sqlite3 knows the count of an UPDATE ... RETURNING only once its rows are read.
            return Result(columns, make_rows(columns, values), max(cursor.rowcount, 0), None)
        finally:
            cursor.close()

    def _run_batch(self, statements: list[tuple[str, Any]]) -> list[Result]:
        assert self._db is not None
        self._db.execute("BEGIN" if self.read_only else "BEGIN IMMEDIATE")
        try:
            results = [self._run(sql, args) for sql, args in statements]
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return results

    # -- the Client interface -----------------------------------------------------

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        statement = to_statement(stmt, args)
        inline = self._run_inline(statement.sql, statement.args)
        if inline is not None:
            return inline
        if statement.sql in self._slow:
            return await self._call(self._run_timed, statement.sql, statement.args)
        return await self._call(self._run, statement.sql, statement.args)

    def _run_timed(self, sql: str, args: Any) -> Result:
        """`_run` of a read that outran the inline budget once: if it is quick this time
        (the first run of a statement reads its pages from disk), it may be tried inline
        again."""
        start = time.thread_time()
        result = self._run(sql, args)
        if time.thread_time() - start < INLINE_BUDGET_S:
            self._slow.discard(sql)  # a set's discard is atomic: the loop may read it
        return result

    async def batch(self, stmts: list[InStatement]) -> list[Result]:
        statements = [to_statement(s) for s in stmts]
        return await self._call(self._run_batch, [(s.sql, s.args) for s in statements])

    def transaction(self) -> LocalTransaction:
        return LocalTransaction(self)

    async def stream(
        self, stmt: InStatement, args: InArgs = None, *, chunk_size: int = 500
    ) -> AsyncGenerator[Result, None]:
        statement = to_statement(stmt, args)
        scan = _Scan(self, statement.sql, _bind(statement.args))
        self._busy += 1  # between chunks too: the scan holds the database open
        try:
            first = await self._call(scan.start)
            if first is not None:
                yield first
                return
            try:
                delivered = False
                while values := await self._call(scan.fetch, chunk_size):
                    delivered = True
                    yield Result(scan.columns, make_rows(scan.columns, values))
                if not delivered:
                    yield Result(scan.columns, [])  # no rows, but the columns
            finally:
                if not self._closed:
                    await self._call(scan.close)
        finally:
            self._busy -= 1

    def interrupt(self) -> None:
        if self._db is not None and not self._closed:
            self._db.interrupt()

    async def close(self) -> None:
        if self._closed:
            return
        db, self._db = self._db, None
        if db is not None:
            await self._worker.submit(db.close)
        self._closed = True
        self._worker.stop()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def idle(self) -> bool:
        """No call or stream is in flight: closing it now interrupts nobody."""
        return self._busy == 0


class LocalTransaction(Transaction):
    """An interactive transaction on a connection of its own, so it never mixes with other work."""

    def __init__(self, parent: LocalConnection) -> None:
        self._parent = parent
        self._own: LocalConnection | None = None
        self._done = False

    async def _connection(self) -> LocalConnection:
        if self._own is None:
            parent = self._parent
            own = LocalConnection(parent.url, parent.name, read_only=parent.read_only, create=False)
            self._own = await own.open()
            await self._own.execute("BEGIN" if parent.read_only else "BEGIN IMMEDIATE")
        return self._own

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        if self._done:
            raise errors.database_error(
                self._parent.name, "the transaction has ended", errors.CLOSED
            )
        return await (await self._connection()).execute(stmt, args)

    async def _finish(self, sql: str) -> None:
        if self._done:
            return
        self._done = True
        if self._own is not None:
            try:
                if self._own._db is not None and self._own._db.in_transaction:
                    await self._own.execute(sql)
            finally:
                await self._own.close()

    async def commit(self) -> None:
        await self._finish("COMMIT")

    async def rollback(self) -> None:
        await self._finish("ROLLBACK")

    def interrupt(self) -> None:
        """Stop the transaction's running statement."""
        if self._own is not None:
            self._own.interrupt()

    @property
    def closed(self) -> bool:
        return self._done
