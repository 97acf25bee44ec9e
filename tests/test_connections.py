"""One connection suite, run against every transport.

`file:` (the local thread-backed connection), a real sqld over HTTP and over WebSocket
with JWT auth on, and a real tursodb sync server. Each test asserts what the database
holds or returns; where the servers really differ (tursodb has no interactive
transactions and reports no affected rows), the test says so and checks that too.
"""

from __future__ import annotations

import math
import sqlite3
import traceback
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.jwt_kit import JWTKeys
from support.secrets_watch import watch
from tursotui.db import Connection, LibsqlError, connect, errors
from tursotui.db.http import NO_INTERACTIVE_TRANSACTIONS

REMOTE = pytest.mark.servers
TRANSPORTS = [
    "file",
    pytest.param("sqld-http", marks=REMOTE),
    pytest.param("sqld-ws", marks=REMOTE),
    pytest.param("tursodb", marks=REMOTE),
]


@dataclass
class Target:
    """Where the suite's database lives and how to reach it."""

    kind: str
    url: str
    token: str | None = None
    keys: JWTKeys | None = None

    async def connect(self, token: str | None = "default", **options: object) -> Connection:
        chosen = self.token if token == "default" else token
        return await connect(self.url, chosen, name="acme", **options)  # type: ignore[arg-type]


@pytest.fixture(params=TRANSPORTS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    kind = request.param
    if kind == "file":
        path = tmp_path / "tenant.db"
        sqlite3.connect(path).close()
        return Target(kind, f"file:{path}")
    if kind.startswith("sqld"):
        server = request.getfixturevalue("sqld")
        keys = request.getfixturevalue("jwt_keys")
        url = server.http_url if kind == "sqld-http" else server.ws_url
        return Target(kind, url, watch(keys.token()), keys)
    server = request.getfixturevalue("tursodb")
    return Target(kind, server.http_url)


@pytest.fixture
async def db(target: Target) -> AsyncIterator[Connection]:
    conn = await target.connect()
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def table(db: Connection) -> str:
    """A fresh table of its own (the servers' databases are shared by the session)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v)")
    return name


async def roundtrip(db: Connection, table: str, value: object) -> tuple[object, str]:
    """Store `value` and read it back with its SQLite type."""
    inserted = await db.execute(f"INSERT INTO {table} (v) VALUES (?) RETURNING id", [value])
    row_id = inserted.rows[0][0]
    result = await db.execute(f"SELECT v, typeof(v) FROM {table} WHERE id = ?", [row_id])
    return result.rows[0][0], result.rows[0][1]


# -- values ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63 - 1), -(2**63), 0, 1, -1, 2**53 + 1])
async def test_integers_round_trip_exactly(db: Connection, table: str, value: int) -> None:
    assert await roundtrip(db, table, value) == (value, "integer")


@pytest.mark.parametrize("value", [1.5, -2.25, 1e308, -1e308, 5e-324, 0.1])
async def test_floats_round_trip_exactly(db: Connection, table: str, value: float) -> None:
    got, kind = await roundtrip(db, table, value)
    assert kind == "real"
    assert got == value


async def test_negative_zero_keeps_its_sign(db: Connection, table: str) -> None:
    got, kind = await roundtrip(db, table, -0.0)
    assert kind == "real"
    assert got == 0.0 and math.copysign(1, got) == -1  # type: ignore[arg-type]


async def test_nan_is_stored_as_null_like_sqlite_does(db: Connection, table: str) -> None:
    # SQLite binds NaN as NULL; the remote transports send NULL for it and get the same.
    assert await roundtrip(db, table, float("nan")) == (None, "null")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "héllo wörld",
        "emoji 🎉👩‍👩‍👧 ok",
        "مرحبا بالعالم",
        "[bold red]x[/]",
        "\x1b[31mred\t\r\n",
        "x" * 100_000,
    ],
    ids=["empty", "ascii", "accents", "emoji", "rtl", "markup", "control", "100k"],
)
async def test_text_round_trips(db: Connection, table: str, value: str) -> None:
    assert await roundtrip(db, table, value) == (value, "text")


@pytest.mark.parametrize(
    "value",
    [b"", bytes(range(256)), bytearray(b"\x00\x01"), memoryview(b"\xff\xfe\xfd"), b"a", b"ab"],
    ids=["empty", "all-256", "bytearray", "memoryview", "pad2", "pad1"],
)
async def test_blobs_round_trip(db: Connection, table: str, value: bytes) -> None:
    assert await roundtrip(db, table, value) == (bytes(value), "blob")


async def test_null_and_bool(db: Connection, table: str) -> None:
    assert await roundtrip(db, table, None) == (None, "null")
    assert await roundtrip(db, table, True) == (1, "integer")
    assert await roundtrip(db, table, False) == (0, "integer")


async def test_literal_values_from_sql_come_back_typed(db: Connection) -> None:
    result = await db.execute(
        "SELECT 9223372036854775807, -9223372036854775807, x'', x'00ff', '', NULL, 2.5"
    )
    assert tuple(result.rows[0]) == (2**63 - 1, -(2**63 - 1), b"", b"\x00\xff", "", None, 2.5)


# -- arguments ---------------------------------------------------------------------


async def test_positional_arguments(db: Connection) -> None:
    result = await db.execute("SELECT ?, ?, ?2, ?1", [1, "two"])
    assert tuple(result.rows[0]) == (1, "two", "two", 1)


async def test_named_arguments_with_every_prefix(db: Connection) -> None:
    result = await db.execute("SELECT :a, @b, $c, :a || 'again'", {"a": "A", "b": 2, "c": b"\x01"})
    assert tuple(result.rows[0]) == ("A", 2, b"\x01", "Aagain")


async def test_named_argument_keys_may_carry_the_prefix(db: Connection) -> None:
    result = await db.execute("SELECT :a, @b, $c", {":a": "A", "@b": 2, "c": 3})
    assert tuple(result.rows[0]) == ("A", 2, 3)


async def test_named_arguments_in_a_write(db: Connection, table: str) -> None:
    # tursodb ignores Hrana named_args; this would insert NULLs if they were sent that way.
    await db.execute(f"INSERT INTO {table} (id, v) VALUES (:id, :v)", {"id": 7, "v": "seven"})
    result = await db.execute(f"SELECT id, v FROM {table}")
    assert [tuple(r) for r in result.rows] == [(7, "seven")]


async def test_a_named_argument_without_a_value_is_an_error(db: Connection) -> None:
    with pytest.raises(LibsqlError):
        await db.execute("SELECT :missing", {"other": 1})


# -- results -----------------------------------------------------------------------


async def test_result_carries_rowid_and_affected_rows(
    target: Target, db: Connection, table: str
) -> None:
    inserted = await db.execute(f"INSERT INTO {table} (id, v) VALUES (41, 'x')")
    await db.execute(f"INSERT INTO {table} (id, v) VALUES (42, 'y')")
    returned = await db.execute(f"UPDATE {table} SET v = 'w' RETURNING id")
    assert sorted(r[0] for r in returned.rows) == [41, 42]
    assert returned.columns == ("id",)
    updated = await db.execute(f"UPDATE {table} SET v = 'z'")
    if target.kind == "tursodb":
        # tursodb 0.6 always reports 0 affected rows: RETURNING is how to learn what changed.
        assert updated.rows_affected == 0
    else:
        assert inserted.last_insert_rowid == 41
        assert updated.rows_affected == 2
    if target.kind.startswith("sqld"):
        # The server's own statistics come along (Hrana StmtResult).
        assert updated.rows_written is not None and updated.rows_written >= 2
        assert updated.rows_read is not None and updated.duration_ms is not None


async def test_stream_yields_chunks(db: Connection, table: str) -> None:
    # One multi-row INSERT: tursodb 0.6 has no recursive CTEs to generate rows with.
    values = ", ".join("(?)" for _ in range(1200))
    await db.execute(f"INSERT INTO {table} (v) VALUES {values}", list(range(1, 1201)))
    sizes = []
    seen = []
    async for chunk in db.stream(f"SELECT v FROM {table} ORDER BY id", chunk_size=500):
        assert chunk.columns == ("v",)
        sizes.append(len(chunk.rows))
        seen.extend(r[0] for r in chunk.rows)
    assert sizes == [500, 500, 200]
    assert seen == list(range(1, 1201))


async def test_a_closed_connection_says_so(target: Target) -> None:
    conn = await target.connect()
    await conn.close()
    assert conn.closed
    with pytest.raises(LibsqlError) as caught:
        await conn.execute("SELECT 1")
    assert caught.value.code == errors.CLOSED


async def test_sql_error_names_the_database_and_keeps_a_code(db: Connection) -> None:
    with pytest.raises(LibsqlError) as caught:
        await db.execute("SELEC 1")
    assert caught.value.explanation.startswith("acme: ")
    assert caught.value.code


# -- batches and transactions ------------------------------------------------------


async def test_batch_is_all_or_nothing(db: Connection, table: str) -> None:
    with pytest.raises(LibsqlError) as caught:
        await db.batch(
            [
                (f"INSERT INTO {table} (id, v) VALUES (?, ?)", [1, "a"]),
                (f"INSERT INTO {table} (id, v) VALUES (?, ?)", [2, "b"]),
                (f"INSERT INTO {table} (id, v) VALUES (?, ?)", [1, "duplicate"]),
            ]
        )
    assert "UNIQUE" in caught.value.explanation
    assert (await db.execute(f"SELECT count(*) FROM {table}")).rows[0][0] == 0


async def test_batch_returns_every_result(db: Connection, table: str) -> None:
    results = await db.batch(
        [
            (f"INSERT INTO {table} (id, v) VALUES (1, 'a') RETURNING id", None),
            (f"INSERT INTO {table} (id, v) VALUES (:id, :v) RETURNING v", {"id": 2, "v": "b"}),
            f"SELECT count(*) FROM {table}",
        ]
    )
    assert [tuple(r.rows[0]) for r in results] == [(1,), ("b",), (2,)]


async def test_transaction_commit_and_rollback(target: Target, db: Connection, table: str) -> None:
    if target.kind == "tursodb":
        # tursodb keeps no streams: it must refuse, and leave nothing behind.
        with pytest.raises(LibsqlError) as caught:
            async with db.transaction() as tx:
                await tx.execute(f"INSERT INTO {table} (id, v) VALUES (1, 'x')")
        assert caught.value.code == NO_INTERACTIVE_TRANSACTIONS
        assert (await db.execute(f"SELECT count(*) FROM {table}")).rows[0][0] == 0
        await db.execute(f"INSERT INTO {table} (id, v) VALUES (2, 'y')")  # not stuck in a BEGIN
        assert (await db.batch([f"SELECT count(*) FROM {table}"]))[0].rows[0][0] == 1
        return
    async with db.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} (id, v) VALUES (1, 'kept')")
        seen = await tx.execute(f"SELECT count(*) FROM {table}")
        assert seen.rows[0][0] == 1
        await tx.commit()
    async with db.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} (id, v) VALUES (2, 'undone')")
        await tx.rollback()
    async with db.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} (id, v) VALUES (3, 'left without commit')")
    rows = await db.execute(f"SELECT id, v FROM {table}")
    assert [tuple(r) for r in rows.rows] == [(1, "kept")]


# -- safety ------------------------------------------------------------------------


async def test_read_only_refuses_writes(target: Target, db: Connection, table: str) -> None:
    await db.execute(f"INSERT INTO {table} (id, v) VALUES (1, 'x')")
    ro = await target.connect(read_only=True)
    try:
        assert (await ro.execute(f"SELECT v FROM {table}")).rows[0][0] == "x"
        for sql in (
            f"INSERT INTO {table} (id, v) VALUES (2, 'y')",
            f"/* harmless */ DELETE FROM {table}",
            f"WITH x AS (SELECT 1) UPDATE {table} SET v = 'z'",
        ):
            with pytest.raises(LibsqlError) as caught:
                await ro.execute(sql)
            assert caught.value.code == errors.READ_ONLY
        with pytest.raises(LibsqlError) as caught:
            await ro.batch(["SELECT 1", f"DELETE FROM {table}"])
        assert caught.value.code == errors.READ_ONLY
    finally:
        await ro.close()
    rows = await db.execute(f"SELECT id, v FROM {table}")
    assert [tuple(r) for r in rows.rows] == [(1, "x")]


@pytest.mark.parametrize(
    "sql",
    ["ATTACH DATABASE 'other.db' AS other", "DETACH DATABASE other", "SELECT load_extension('x')"],
)
async def test_statements_reaching_outside_are_refused(db: Connection, sql: str) -> None:
    with pytest.raises(LibsqlError) as caught:
        await db.execute(sql)
    assert caught.value.code == errors.FORBIDDEN_STATEMENT
    assert caught.value.explanation.startswith("acme: ")


# -- tokens (sqld with JWT auth) ---------------------------------------------------

SQLD = [pytest.param("sqld-http", marks=REMOTE), pytest.param("sqld-ws", marks=REMOTE)]


async def attempt(target: Target, token: str | None, sql: str) -> LibsqlError | None:
    """Connect with `token` and run `sql`; the error, if any, checked to never show the token."""
    conn: Connection | None = None
    try:
        conn = await target.connect(token)
        assert token is None or token not in repr(conn)
        await conn.execute(sql)
    except LibsqlError as error:
        if token:
            shown = "".join(traceback.format_exception(error)) + repr(error) + str(error)
            assert token not in shown
        return error
    finally:
        if conn is not None:
            await conn.close()
    return None


@pytest.fixture
def sqld_target(request: pytest.FixtureRequest) -> Target:
    server = request.getfixturevalue("sqld")
    keys = request.getfixturevalue("jwt_keys")
    url = server.http_url if request.param == "sqld-http" else server.ws_url
    return Target(request.param, url, watch(keys.token()), keys)


@pytest.mark.parametrize("sqld_target", SQLD, indirect=True)
async def test_a_valid_token_works(sqld_target: Target) -> None:
    assert await attempt(sqld_target, sqld_target.token, "SELECT 1") is None


@pytest.mark.parametrize("sqld_target", SQLD, indirect=True)
@pytest.mark.parametrize("which", ["expired", "garbage", "none"])
async def test_bad_tokens_are_unauthorized(sqld_target: Target, which: str) -> None:
    keys = sqld_target.keys
    assert keys is not None
    token = {"expired": keys.expired(), "garbage": keys.garbage(), "none": None}[which]
    error = await attempt(sqld_target, watch(token) if token else None, "SELECT 1")
    assert error is not None
    assert error.code == errors.UNAUTHORIZED
    assert error.explanation.startswith("acme: ")
    if which == "none":
        assert "no" in error.explanation and "token" in error.explanation
    else:
        assert "token was rejected" in error.explanation


@pytest.mark.parametrize("sqld_target", SQLD, indirect=True)
async def test_a_read_only_token_reads_but_cannot_write(sqld_target: Target) -> None:
    keys = sqld_target.keys
    assert keys is not None
    table = f"t_{uuid.uuid4().hex[:12]}"
    assert await attempt(sqld_target, sqld_target.token, f"CREATE TABLE {table} (v)") is None
    read_only = watch(keys.token("ro"))
    assert await attempt(sqld_target, read_only, f"SELECT * FROM {table}") is None
    error = await attempt(sqld_target, read_only, f"INSERT INTO {table} VALUES (1)")
    assert error is not None and error.code == errors.READ_ONLY_TOKEN
    assert "read-only" in error.explanation
    conn = await sqld_target.connect()
    try:
        assert (await conn.execute(f"SELECT count(*) FROM {table}")).rows[0][0] == 0
    finally:
        await conn.close()
