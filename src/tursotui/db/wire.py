"""A small HTTP/1.1 client for Hrana's one request: POST a JSON pipeline, read the JSON answer.

Why not httpx here: tursotui sends databases a single kind of HTTP request, and through httpx
each one cost about 4 ms of CPU at 32 requests in flight (B8 at 1,000 remote tenants), most
of it in its connection pool, which looks at every open connection (a system call each)
whenever a request starts or ends. Here idle connections wait in a list per origin and a
request is one write and a few reads: about a tenth of that (see docs/benchmarks.md).

What it does: HTTP/1.1 with keep-alive; answers with `Content-Length`, chunked, or read to
the close; TLS with the certificates httpx would use (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else
certifi's). What it does not: redirects (a 3xx is an answer), compression (none asked for:
sqld compresses in 64-byte chunks, which cost more to read than they save on a LAN),
proxies (`db.http` sends through httpx when the environment names one).

Failures are `WireError`s: `connecting` says whether the connection was never made (DNS,
refused, TLS) or broke after (reset, closed early, an answer that is not HTTP); `cause` is
the `OSError` behind it, if any. Neither carries the request or its headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tursotui.errors import TursotuiError

KEEPALIVE_S = 30.0
"""How long an idle connection is kept for the next request."""

MAX_IDLE = 32
"""Idle connections kept per origin; more are closed when their request ends."""

MAX_IN_FLIGHT = 64
"""Requests in flight at once per event loop (each holds a connection); more wait their turn."""


class WireError(TursotuiError):
    """A request that got no HTTP answer (`db.http` turns it into the connection's error)."""

    title = "Connection"

    def __init__(self, reason: str, *, connecting: bool, cause: OSError | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.connecting = connecting
        self.cause = cause


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, headers (lower-case names) and the whole body."""

    status: int
    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True, slots=True)
class _Origin:
    tls: bool
    host: str
    port: int
    authority: str  # the Host header


_origins: dict[str, tuple[_Origin, str]] = {}


def _split(url: str) -> tuple[_Origin, str]:
    """The origin and request path of an `http(s)://` URL (cached: a fleet has few bases)."""
    known = _origins.get(url)
    if known is not None:
        return known
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host = parts.hostname
    if not host.isascii():  # an internationalised name, as DNS and the Host header spell it
        host = host.encode("idna").decode("ascii")
    authority = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        authority += f":{parts.port}"
    found = (_Origin(tls, host, port, authority), path)
    if len(_origins) >= 4096:
        _origins.clear()
    _origins[url] = found
    return found


_context: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    """One TLS context for the process, trusting what httpx would trust."""
    global _context
    if _context is None:
        if os.environ.get("SSL_CERT_FILE"):
            context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
        elif os.environ.get("SSL_CERT_DIR"):
            context = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
        else:
            try:
                import certifi
            except ImportError:  # the system's store, then
                context = ssl.create_default_context()
            else:
                context = ssl.create_default_context(cafile=certifi.where())
        context.set_alpn_protocols(["http/1.1"])
        _context = context
    return _context


class _Conn:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def reusable(self, now: float) -> bool:
        # A server that closed an idle connection has fed its EOF (or a last answer, such as
        # a 408) into the reader by now: such a connection must not carry a request.
        reader = self.reader
        return (
            now - self.idle_since < KEEPALIVE_S
            and not self.writer.is_closing()
            and not reader.at_eof()
            and not getattr(reader, "_buffer", b"")
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a broken transport may complain; it is closed
            self.writer.close()


class Pool:
    """Kept-alive HTTP/1.1 connections of one event loop, by origin."""

    def __init__(self) -> None:
        self._idle: dict[_Origin, list[_Conn]] = {}
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.closed = False

    async def post(self, url: str, body: bytes, headers: str) -> Answer:
        """POST `body` to `url` with `headers` (`name: value\\r\\n` lines) and read the answer.

        Raises:
            WireError: no HTTP answer (cannot connect, connection lost, not HTTP).
            ValueError: `url` is not an http(s) URL.
        """
        origin, path = _split(url)
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {origin.authority}\r\n{headers}"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        async with self._gate:
            conn = await self._connection(origin)
            try:
                conn.writer.write(head + body)
                await conn.writer.drain()
                answer, keep = await _read_answer(conn.reader)
            except BaseException as error:
                # Cancelled or broken halfway: the connection's state is unknown, drop it.
                conn.close()
                if isinstance(error, OSError | EOFError | asyncio.LimitOverrunError | ValueError):
                    raise _lost(error) from None
                raise
            if keep and not self.closed:
                self._release(origin, conn)
            else:
                conn.close()
            return answer

    async def _connection(self, origin: _Origin) -> _Conn:
        idle = self._idle.get(origin)
        if idle:
            now = time.monotonic()
            while idle:
                conn = idle.pop()
                if conn.reusable(now):
                    return conn
                conn.close()
        try:
            if origin.tls:
                reader, writer = await asyncio.open_connection(
                    origin.host, origin.port, ssl=_ssl_context(), server_hostname=origin.host
                )
            else:
                reader, writer = await asyncio.open_connection(origin.host, origin.port)
        except OSError as error:  # DNS (gaierror), refused, unreachable, TLS (SSLError)
            raise WireError(_reason(error), connecting=True, cause=error) from None
        return _Conn(reader, writer)

    def _release(self, origin: _Origin, conn: _Conn) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) >= MAX_IDLE:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    async def close(self) -> None:
        """Close every idle connection; requests in flight close theirs when they end."""
        self.closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One answer (1xx skipped) and whether the connection may carry another request."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
            raise ValueError("the answer is not HTTP")
        status = int(status_line[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                name = name.strip().lower()
                value = value.strip()
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if not 100 <= status < 200:
            break
    keep = status_line[0] == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        content = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        content = await _read_chunked(reader)
    elif "content-length" in headers:
        content = await reader.readexactly(int(headers["content-length"]))
    else:
        content = await reader.read()  # to the close: the connection ends with the answer
        keep = False
    return Answer(status, headers, content), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    pieces: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers, ignored
            return b"".join(pieces)
        pieces.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("a chunk without its line end")


def _lost(error: BaseException) -> WireError:
    if isinstance(error, asyncio.IncompleteReadError):
        return WireError("the server closed the connection before answering", connecting=False)
    if isinstance(error, OSError):
        return WireError(_reason(error), connecting=False, cause=error)
    if isinstance(error, asyncio.LimitOverrunError):
        return WireError("an answer head too long", connecting=False)
    return WireError(f"not an HTTP answer ({error})", connecting=False)


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


__all__ = ["KEEPALIVE_S", "MAX_IDLE", "MAX_IN_FLIGHT", "Answer", "Pool", "WireError"]
