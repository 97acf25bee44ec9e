"""The small HTTP/1.1 client Hrana pipelines go out on (`tursotui.db.wire`), against servers
that answer in each of the ways HTTP allows, and a proxy named by the environment.

The odd answers come from a scripted asyncio server here (sqld answers one way only); the
rest from the real sqld, directly or behind the tests' proxy.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from support.faults import FaultProxy
from support.jwt_kit import JWTKeys
from support.servers import ServerProcess
from tursotui.db import connect, errors, wire
from tursotui.db import http as http_module

PIPELINE_ANSWER = json.dumps(
    {
        "baton": None,
        "base_url": None,
        "results": [
            {
                "type": "ok",
                "response": {
                    "type": "execute",
                    "result": {
                        "cols": [{"name": "x"}],
                        "rows": [[{"type": "integer", "value": "7"}]],
                        "affected_row_count": 0,
                        "last_insert_rowid": None,
                    },
                },
            },
            {"type": "ok", "response": {"type": "close"}},
        ],
    }
).encode()


class Scripted:
    """An HTTP server on 127.0.0.1 whose answer to each request `answer(n)` writes."""

    def __init__(self, answer: Callable[[int], bytes], *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.requests += 1
                self.heads.append(head)
                writer.write(self.answer(self.requests))
                await writer.drain()
                if self.close_after:
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    async def start(answer: Callable[[int], bytes], **options: bool) -> Scripted:
        server = Scripted(answer, **options)
        server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    await http_module.close_shared_client()  # the servers' handlers end with their connections
    for server in servers:
        assert server.server is not None
        server.server.close()


def with_length(body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


def chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    for piece in pieces:
        out += f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\nx-trailer: yes\r\n\r\n"


async def seven(url: str) -> int:
    conn = await connect(url, name="acme", timeout=5)
    value = (await conn.execute("SELECT 7")).rows[0][0]
    assert isinstance(value, int)
    return value


async def test_answers_are_read_whatever_their_framing(scripted: Callable[..., Scripted]) -> None:
    for answer in (
        lambda _n: with_length(PIPELINE_ANSWER),
        lambda _n: chunked(PIPELINE_ANSWER),
        lambda _n: b"HTTP/1.1 100 Continue\r\n\r\n" + with_length(PIPELINE_ANSWER),
    ):
        server = await scripted(answer)
        assert [await seven(server.url) for _ in range(3)] == [7, 7, 7]
        assert server.connections == 1  # kept alive: one connection for the three


async def test_the_request_says_who_sends_it_and_asks_no_compression(
    scripted: Callable[..., Scripted],
) -> None:
    from tursotui import __version__

    server = await scripted(lambda _n: with_length(PIPELINE_ANSWER))
    conn = await connect(server.url, "tok", name="acme", timeout=5)
    assert (await conn.execute("SELECT 7")).rows[0][0] == 7
    lines = server.heads[0].decode().lower().split("\r\n")
    assert lines[0] == "post /v2/pipeline http/1.1"
    port = server.url.rsplit(":", 1)[1]
    assert f"host: 127.0.0.1:{port}" in lines
    assert "authorization: bearer tok" in lines
    assert f"user-agent: tursotui/{__version__}" in lines
    assert "content-type: application/json" in lines
    assert not any(line.startswith("accept-encoding") for line in lines)


async def test_an_answer_read_to_the_close_or_saying_close_is_not_reused(
    scripted: Callable[..., Scripted],
) -> None:
    to_the_close = await scripted(
        lambda _n: b"HTTP/1.1 200 OK\r\n\r\n" + PIPELINE_ANSWER, close_after=True
    )
    says_close = await scripted(lambda _n: with_length(PIPELINE_ANSWER, "connection: close\r\n"))
    for server in (to_the_close, says_close):
        assert [await seven(server.url) for _ in range(3)] == [7, 7, 7]
        assert server.connections == 3


async def test_a_connection_the_server_closed_while_idle_is_not_used(
    scripted: Callable[..., Scripted],
) -> None:
    server = await scripted(lambda _n: with_length(PIPELINE_ANSWER), close_after=True)
    # The answer says keep-alive, but the server closes: the next request must notice the
    # close before sending, not fail with a lost connection.
    assert await seven(server.url) == 7
    await asyncio.sleep(0.05)
    assert await seven(server.url) == 7
    assert server.connections == 2


async def test_an_answer_that_is_not_http_is_a_lost_connection(
    scripted: Callable[..., Scripted],
) -> None:
    for answer in (b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n{"):
        server = await scripted(lambda _n, a=answer: a, close_after=True)
        conn = await connect(server.url, name="acme", timeout=5)
        with pytest.raises(errors.LibsqlError) as caught:
            await conn.execute("SELECT 7")
        assert caught.value.code == errors.CONNECTION_LOST
        assert caught.value.explanation.startswith("acme: the connection to 127.0.0.1:")
        assert caught.value.__cause__ is None and caught.value.__context__ is None


async def test_requests_in_flight_are_bounded(scripted: Callable[..., Scripted]) -> None:
    in_flight = 0
    most = 0

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, most
        with_ = await reader.readuntil(b"\r\n\r\n")
        length = int(with_.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        writer.write(with_length(PIPELINE_ANSWER, "connection: close\r\n"))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        conn = await connect(url, name="acme", timeout=10)
        count = wire.MAX_IN_FLIGHT + 16
        results = await asyncio.gather(*(conn.execute("SELECT 7") for _ in range(count)))
        assert len(results) == count
        assert most == wire.MAX_IN_FLIGHT
    finally:
        server.close()


@pytest.mark.servers
async def test_a_proxy_named_by_the_environment_carries_the_requests(
    fault_proxy: FaultProxy,
    sqld: ServerProcess,
    jwt_keys: JWTKeys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The FaultProxy forwards what it reads to sqld, which takes the absolute-form target
    # a client sends a forward proxy: requests to sqld's own port pass through the proxy.
    monkeypatch.setenv("HTTP_PROXY", fault_proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert http_module.proxied(sqld.http_url)
    conn = await connect(sqld.http_url, jwt_keys.token(), name="acme", timeout=10)
    try:
        assert (await conn.execute("SELECT 40 + 2")).rows[0][0] == 42
        fault_proxy.answer(503)
        with pytest.raises(errors.LibsqlError) as caught:
            await conn.execute("SELECT 1")
        assert caught.value.code == errors.SERVER_ERROR
        assert "HTTP 503" in caught.value.explanation
    finally:
        await http_module.close_shared_client()
    assert fault_proxy.requests == 2
    assert fault_proxy.paths[0] == f"{sqld.http_url}/v2/pipeline"


async def test_no_proxy_in_the_environment_means_no_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    assert not http_module.proxied("https://db-org.turso.io/v2/pipeline")
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert http_module.proxied("https://db-org.turso.io/v2/pipeline")
    assert not http_module.proxied("http://127.0.0.1:8080/v2/pipeline")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for `localhost` and its key, signed by itself."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_trusts_what_ssl_cert_file_names_and_refuses_other_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = Scripted(lambda _n: with_length(PIPELINE_ANSWER))
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
    port = server.server.sockets[0].getsockname()[1]
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    try:
        # Not trusted (certifi's store): the connection is refused before any request.
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.setattr(wire, "_context", None)
        conn = await connect(f"https://localhost:{port}", "tok", name="acme", timeout=5)
        with pytest.raises(errors.LibsqlError) as caught:
            await conn.execute("SELECT 7")
        assert caught.value.code == errors.REFUSED
        assert caught.value.explanation.startswith(f"acme: cannot connect to localhost:{port} (")
        assert "certificate" in caught.value.explanation
        assert server.requests == 0
        # Trusted through SSL_CERT_FILE, as httpx would: the request goes over TLS.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        monkeypatch.setattr(wire, "_context", None)
        assert [await seven(f"https://localhost:{port}") for _ in range(2)] == [7, 7]
        # One kept-alive connection for both (the refused handshake never reached the server's
        # handler).
        assert server.requests == 2 and server.connections == 1
    finally:
        await http_module.close_shared_client()
        server.server.close()
        monkeypatch.setattr(wire, "_context", None)
