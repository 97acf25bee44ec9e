"""Remote failures give the right code and a clear message, quickly.

A real sqld sits behind `FaultProxy`, which delays, stalls, trickles, drops or answers
requests itself; unreachable hosts and refused ports need no proxy.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from support.faults import FaultProxy
from support.jwt_kit import JWTKeys
from support.secrets_watch import watch
from support.servers import ServerProcess, free_port, start_sqld
from tursotui.db import Connection, LibsqlError, connect, errors

pytestmark = pytest.mark.servers


@pytest.fixture
def token(jwt_keys: JWTKeys) -> str:
    return watch(jwt_keys.token())


async def proxied(proxy: FaultProxy, token: str, **options: object) -> Connection:
    return await connect(proxy.url, token, name="acme", **options)  # type: ignore[arg-type]


async def failure(conn: Connection, sql: str = "SELECT 1") -> tuple[LibsqlError, float]:
    start = time.monotonic()
    with pytest.raises(LibsqlError) as caught:
        await conn.execute(sql)
    return caught.value, time.monotonic() - start


async def test_a_stalled_server_times_out_after_the_timeout(
    fault_proxy: FaultProxy, token: str
) -> None:
    conn = await proxied(fault_proxy, token, timeout=0.5)
    fault_proxy.stall()
    error, took = await failure(conn)
    assert error.code == errors.TIMEOUT
    assert error.explanation == f"acme: 127.0.0.1:{fault_proxy.port} did not answer within 0.5 s"
    assert 0.4 < took < 3
    fault_proxy.pass_through()
    assert (await conn.execute("SELECT 42")).rows[0][0] == 42  # the shared client still works


async def test_a_trickling_answer_cannot_escape_the_deadline(
    fault_proxy: FaultProxy, token: str
) -> None:
    conn = await proxied(fault_proxy, token, timeout=0.5)
    fault_proxy.trickle(chunk=1, every_ms=50)  # each byte is quick, the whole answer is not
    error, took = await failure(conn)
    assert error.code == errors.TIMEOUT
    assert took < 3


async def test_a_slow_server_within_the_timeout_answers(
    fault_proxy: FaultProxy, token: str
) -> None:
    conn = await proxied(fault_proxy, token, timeout=5)
    fault_proxy.delay(300)
    start = time.monotonic()
    assert (await conn.execute("SELECT 1")).rows[0][0] == 1
    assert time.monotonic() - start >= 0.3


async def test_a_dropped_connection_is_connection_lost(fault_proxy: FaultProxy, token: str) -> None:
    conn = await proxied(fault_proxy, token)
    assert (await conn.execute("SELECT 1")).rows[0][0] == 1  # a kept-alive connection first
    fault_proxy.drop()
    error, _ = await failure(conn)
    assert error.code == errors.CONNECTION_LOST
    assert error.__cause__ is None and error.__context__ is None
    assert error.explanation.startswith(f"acme: the connection to 127.0.0.1:{fault_proxy.port}")
    fault_proxy.pass_through()
    assert (await conn.execute("SELECT 2")).rows[0][0] == 2


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_name_the_status(
    fault_proxy: FaultProxy, token: str, status: int
) -> None:
    conn = await proxied(fault_proxy, token)
    fault_proxy.answer(status)
    error, _ = await failure(conn)
    assert error.code == errors.SERVER_ERROR
    assert f"HTTP {status}" in error.explanation


async def test_404_means_no_database_there(fault_proxy: FaultProxy, token: str) -> None:
    conn = await proxied(fault_proxy, token)
    fault_proxy.answer(404)
    error, _ = await failure(conn)
    assert error.code == errors.NOT_FOUND
    assert error.explanation == f"acme: no libSQL database at 127.0.0.1:{fault_proxy.port}"


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b'{"results": []}', b'{"results": [{"type": "ok"}]}', b"[]"],
    ids=["not-json", "no-results", "no-response", "array"],
)
async def test_a_malformed_answer_is_a_protocol_error(
    fault_proxy: FaultProxy, token: str, body: bytes
) -> None:
    conn = await proxied(fault_proxy, token)
    fault_proxy.answer(200, body)
    error, _ = await failure(conn)
    assert error.code == errors.PROTOCOL_ERROR
    assert error.explanation.startswith("acme: ")


async def test_malformed_values_are_a_protocol_error(fault_proxy: FaultProxy, token: str) -> None:
    conn = await proxied(fault_proxy, token)
    body = (
        b'{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute",'
        b'"result":{"cols":[{"name":"x"}],"rows":[[{"type":"blob","base64":"!!"}]],'
        b'"affected_row_count":0,"last_insert_rowid":null}}}]}'
    )
    fault_proxy.answer(200, body)
    error, _ = await failure(conn)
    assert error.code == errors.PROTOCOL_ERROR


async def test_refused_port(token: str) -> None:
    port = free_port()
    for url in (f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"):
        with pytest.raises(LibsqlError) as caught:
            conn = await connect(url, token, name="acme", timeout=5)
            await conn.execute("SELECT 1")
        assert caught.value.code == errors.REFUSED
        assert caught.value.explanation == f"acme: 127.0.0.1:{port} refused the connection"


async def test_unresolvable_host(token: str) -> None:
    for url in ("https://no-such-tenant.invalid", "wss://no-such-tenant.invalid"):
        with pytest.raises(LibsqlError) as caught:
            conn = await connect(url, token, name="acme", timeout=10)
            await conn.execute("SELECT 1")
        assert caught.value.code == errors.DNS
        assert "no-such-tenant.invalid" in caught.value.explanation
        assert token not in str(caught.value)
        # No httpx/aiohttp exception (holding the request and its headers) rides along.
        assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_cancelling_a_request_leaves_the_client_usable(
    fault_proxy: FaultProxy, token: str
) -> None:
    conn = await proxied(fault_proxy, token, timeout=30)
    fault_proxy.stall()
    task = asyncio.create_task(conn.execute("SELECT 1"))
    while fault_proxy.requests == 0:  # the request is in flight, held by the proxy
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    fault_proxy.pass_through()
    results = await asyncio.gather(*(conn.execute("SELECT ?", [i]) for i in range(5)))
    assert [r.rows[0][0] for r in results] == list(range(5))


async def test_one_request_per_execute_and_per_batch(fault_proxy: FaultProxy, token: str) -> None:
    conn = await proxied(fault_proxy, token)
    await conn.execute("SELECT 1")
    assert fault_proxy.requests == 1
    await conn.batch(["SELECT 1", "SELECT 2", ("SELECT ?", [3])])
    assert fault_proxy.requests == 2
    assert fault_proxy.paths == ["/v2/pipeline", "/v2/pipeline"]


async def test_read_only_refuses_before_sending(fault_proxy: FaultProxy, token: str) -> None:
    conn = await proxied(fault_proxy, token, read_only=True)
    for sql in ("DELETE FROM posts", "ATTACH 'x.db' AS x"):
        with pytest.raises(LibsqlError):
            await conn.execute(sql)
    with pytest.raises(LibsqlError):
        await conn.batch(["SELECT 1", "DROP TABLE posts"])
    assert fault_proxy.requests == 0


async def test_transactions_hold_the_stream_and_close_it(
    fault_proxy: FaultProxy, token: str, sqld: ServerProcess
) -> None:
    conn = await proxied(fault_proxy, token)
    await conn.execute("CREATE TABLE IF NOT EXISTS tx_probe (v)")
    fault_proxy.reset_count()
    async with conn.transaction() as tx:
        await tx.execute("INSERT INTO tx_probe VALUES (1)")
        await tx.execute("INSERT INTO tx_probe VALUES (2)")
        await tx.commit()
    # BEGIN rides with the first statement, COMMIT with the close.
    assert fault_proxy.requests == 3


async def test_ws_timeout_and_recovery(jwt_keys: JWTKeys, token: str, sqld: ServerProcess) -> None:
    proxy = FaultProxy(("127.0.0.1", sqld.port)).start()
    try:
        conn = await connect(proxy.ws_url, token, name="acme", timeout=0.5)
        assert (await conn.execute("SELECT 1")).rows[0][0] == 1
        proxy.stall()  # applies to new connections only: the WebSocket is piped raw
        await conn.close()
        start = time.monotonic()
        with pytest.raises(LibsqlError) as caught:
            await connect(proxy.ws_url, token, name="acme", timeout=0.5)
        assert caught.value.code == errors.TIMEOUT
        assert time.monotonic() - start < 3
    finally:
        proxy.stop()


async def test_a_transaction_follows_the_base_url_the_server_gives() -> None:
    # sqld hands out `base_url` (its --http-self-url) for sticky sessions: every request of
    # the stream after the first must go there. Here it points at a proxy that counts.
    proxy = FaultProxy(("127.0.0.1", 0)).start()
    server = start_sqld(extra_args=("--http-self-url", proxy.url))
    proxy.upstream = ("127.0.0.1", server.port)
    try:
        conn = await connect(server.http_url, name="acme")
        await conn.execute("CREATE TABLE sticky (v)")
        proxy.reset_count()
        async with conn.transaction() as tx:
            await tx.execute("INSERT INTO sticky VALUES (1)")  # direct: BEGIN + INSERT
            await tx.execute("INSERT INTO sticky VALUES (2)")  # through base_url
            await tx.commit()  # through base_url
        assert proxy.requests == 2
        assert (await conn.execute("SELECT count(*) FROM sticky")).rows[0][0] == 2
        assert proxy.requests == 2  # one-shot calls go to the tenant's own URL
    finally:
        proxy.stop()
        server.stop()


async def test_tursodb_is_sent_close_once_then_never(tursodb: ServerProcess) -> None:
    # sqld needs `close` (else it runs out of streams); tursodb rejects the whole request
    # for it without running anything: learnt once per server, then left out.
    proxy = FaultProxy(("127.0.0.1", tursodb.port)).start()
    try:
        conn = await connect(proxy.url, name="acme")
        await conn.execute("CREATE TABLE IF NOT EXISTS once (v)")
        await conn.execute("DELETE FROM once")
        proxy.reset_count()
        await conn.execute("INSERT INTO once VALUES (1)")
        await conn.batch(["INSERT INTO once VALUES (2)"])
        assert proxy.requests == 2
        assert (await conn.execute("SELECT count(*) FROM once")).rows[0][0] == 2
    finally:
        proxy.stop()


async def test_sqld_streams_are_closed(fault_proxy: FaultProxy, token: str) -> None:
    # Without `close`, sqld holds every stream until it expires and soon answers 429.
    conn = await proxied(fault_proxy, token)
    for i in range(300):
        assert (await conn.execute("SELECT ?", [i])).rows[0][0] == i
    assert fault_proxy.requests == 300


async def test_the_proxy_in_a_process_of_its_own_delays_and_counts(
    sqld: ServerProcess, token: str
) -> None:
    from support.faults import FaultProxyProcess

    with FaultProxyProcess(("127.0.0.1", sqld.port)) as proxy:
        conn = await connect(proxy.url, token, name="acme")
        assert (await conn.execute("SELECT 1")).rows[0][0] == 1
        proxy.delay(300)
        start = time.monotonic()
        assert (await conn.execute("SELECT 2")).rows[0][0] == 2
        assert time.monotonic() - start >= 0.3
        assert proxy.requests == 2
        proxy.answer(503)
        error, _ = await failure(conn)
        assert error.code == errors.SERVER_ERROR
        assert proxy.paths == ["/v2/pipeline"] * 3
