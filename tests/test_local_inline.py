"""Short reads of an idle `file:` connection run without a thread hop; nothing else does.

Which thread ran a statement is read from SQLite itself: a function registered on the
connection records the thread that calls it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tursotui.db import LibsqlError, connect
from tursotui.db.local import LocalConnection

LONG_READ = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) "
    "SELECT count(*) FROM c"
)
"""A read of a few hundred ms: far beyond the inline budget."""


@pytest.fixture
def tenant(tmp_path: Path) -> Path:
    path = tmp_path / "tenant.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(100)])
    db.close()
    return path


async def _open(path: Path, **options: object) -> tuple[LocalConnection, list[str]]:
    """A connection whose SQL function `where_am_i()` records the calling thread's name."""
    connection = await connect(f"file:{path}", name="acme", **options)  # type: ignore[arg-type]
    assert isinstance(connection, LocalConnection)
    threads: list[str] = []

    def where_am_i() -> int:
        threads.append(threading.current_thread().name)
        return 1

    assert connection._db is not None
    connection._db.create_function("where_am_i", 0, where_am_i)
    return connection, threads


async def test_a_short_read_runs_on_the_calling_thread(tenant: Path) -> None:
    connection, threads = await _open(tenant)
    try:
        result = await connection.execute(
            "SELECT id, body, where_am_i() FROM notes WHERE id <= ? ORDER BY id", [3]
        )
        assert [tuple(row) for row in result.rows] == [
            (1, "note 0", 1),
            (2, "note 1", 1),
            (3, "note 2", 1),
        ]
        assert set(threads) == {threading.current_thread().name}
    finally:
        await connection.close()


async def test_writes_always_go_to_the_connections_thread(tenant: Path) -> None:
    connection, threads = await _open(tenant)
    try:
        await connection.execute("INSERT INTO notes (body) VALUES ('x' || where_am_i())")
        await connection.execute("UPDATE notes SET body = 'y' WHERE where_am_i() = 1 AND id = 1")
        assert threads and all(name.startswith("sqlite:") for name in threads)
    finally:
        await connection.close()
    with sqlite3.connect(tenant) as db:
        assert db.execute("SELECT body FROM notes WHERE id IN (1, 101) ORDER BY id").fetchall() == [
            ("y",),
            ("x1",),
        ]  # fmt: skip
    db.close()


async def test_a_long_read_moves_to_the_thread_without_stalling_the_loop(tenant: Path) -> None:
    connection, threads = await _open(tenant)
    worst = 0.0
    running = True

    async def ticker() -> None:
        nonlocal worst
        while running:
            start = time.perf_counter()
            await asyncio.sleep(0)
            worst = max(worst, time.perf_counter() - start)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        start = time.perf_counter()
        result = await connection.execute(LONG_READ)
        took = time.perf_counter() - start
        assert tuple(result.rows[0]) == (3_000_000,)
        # Stopped at the budget and run on its thread: the loop went on meanwhile (run
        # here whole, the loop would have stalled for all of it).
        assert worst < took / 2, (worst, took)
        # Known as slow now: straight to the thread, not tried here again.
        assert LONG_READ in connection._slow
        assert not threads
    finally:
        running = False
        await task
        await connection.close()


async def test_errors_of_an_inline_read_read_as_every_other(tenant: Path) -> None:
    connection, _ = await _open(tenant)
    try:
        with pytest.raises(LibsqlError) as caught:
            await connection.execute("SELECT nope FROM notes")
        assert "no such column: nope" in str(caught.value)
        assert caught.value.code == "SQLITE_ERROR"
        with pytest.raises(LibsqlError) as caught:
            await connection.execute("SELECT * FROM other.notes")  # no ATTACH
        assert "other" in str(caught.value)
    finally:
        await connection.close()


async def test_a_read_while_the_thread_is_busy_waits_its_turn(tenant: Path) -> None:
    """A busy connection is never used from the loop (that would wait for its lock)."""
    connection, threads = await _open(tenant)
    try:
        long = asyncio.create_task(connection.execute(LONG_READ))
        while connection.idle:
            await asyncio.sleep(0.001)
        threads.clear()
        short = await connection.execute("SELECT where_am_i()")
        assert tuple(short.rows[0]) == (1,)
        assert threads == [threads[0]] and threads[0].startswith("sqlite:")
        await long
    finally:
        await connection.close()
