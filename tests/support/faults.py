"""A fault-injecting proxy to put in front of a real server, and its per-test fixture.

`FaultProxy` is a TCP proxy that understands just enough HTTP/1.1 to count requests and to
delay, drop, trickle, stall or answer them with an error status, switchable at runtime. The
`fault_proxy` fixture puts one in front of the session's sqld, reset to pass-through after every
test. `FaultProxyProcess` is the same proxy in a process of its own, with the same switches,
for benchmarks: like a real network, it adds latency without taking the CPU of the process
measured (a proxy thread would compete for its interpreter lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.install import ServerUnavailable
from support.servers import ServerProcess


@dataclass
class Fault:
    """What the proxy does to each HTTP request.

    Attributes:
        kind: `pass`, `delay`, `drop`, `trickle`, `stall` or `status`.
        delay_ms: For `delay`, how long to hold each request before forwarding it.
        status: For `status`, the HTTP status to answer with (the server never sees it).
        body: For `status`, the body of that answer (default: a short text).
        chunk: For `trickle`, bytes of the answer sent at a time.
        every_ms: For `trickle`, the pause between chunks.
        retry_after: For `status`, the `Retry-After` header to send, if any.
        times: For `status`, how many requests get it before the proxy passes them
            through (None: every request).
    """

    kind: str = "pass"
    delay_ms: float = 0.0
    status: int = 503
    body: bytes | None = None
    chunk: int = 1
    every_ms: float = 20.0
    retry_after: str | None = None
    times: int | None = None


class _Listening:
    """What both proxies answer on: 127.0.0.1 and the port they listen on."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@dataclass
class FaultProxy(_Listening):
    """A TCP proxy on 127.0.0.1 in front of a server, injecting faults per HTTP request.

    It runs its own event loop on a thread, so it outlives pytest's per-test loops and
    works from synchronous code (benchmarks). It reads each HTTP/1.1 request (head and
    `Content-Length` body), counts it, then applies the current `Fault`; a WebSocket
    upgrade is passed through and piped raw from then on.

    Use:
        proxy = FaultProxy(("127.0.0.1", server.port)).start()
        proxy.delay(500)      # every request waits 0.5 s
        proxy.drop()          # every request's connection is reset
        proxy.trickle()       # answers arrive a byte at a time
        proxy.stall()         # requests are read and never answered
        proxy.answer(503)     # the proxy answers 503 itself (`body=` to choose what it says)
        proxy.rate_limit(1, times=3)  # the next 3 requests: 429 with `Retry-After: 1`, then pass
        proxy.pass_through()  # back to normal
        proxy.requests        # HTTP requests seen since the last `reset_count()`
        proxy.stop()

    Attributes:
        upstream: `(host, port)` of the server behind it.
        port: The proxy's own port, once started.
    """

    upstream: tuple[str, int]
    port: int = 0
    fault: Fault = field(default_factory=Fault)
    requests: int = 0
    paths: list[str] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # the switches
    def pass_through(self) -> None:
        self.fault = Fault("pass")

    def delay(self, ms: float) -> None:
        self.fault = Fault("delay", delay_ms=ms)

    def drop(self) -> None:
        self.fault = Fault("drop")

    def trickle(self, chunk: int = 1, every_ms: float = 20.0) -> None:
        self.fault = Fault("trickle", chunk=chunk, every_ms=every_ms)

    def stall(self) -> None:
        self.fault = Fault("stall")

    def answer(self, status: int, body: bytes | None = None) -> None:
        self.fault = Fault("status", status=status, body=body)

    def rate_limit(self, retry_after: float | str | None, *, times: int | None = None) -> None:
        """Answer 429 (with `Retry-After` unless None) to the next `times` requests, then pass."""
        after = None if retry_after is None else str(retry_after)
        self.fault = Fault("status", status=429, retry_after=after, times=times)

    def reset_count(self) -> None:
        with self._lock:
            self.requests = 0
            self.paths.clear()

    # lifecycle
    def start(self) -> FaultProxy:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
            loop.run_forever()

        self._thread = threading.Thread(target=main, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise ServerUnavailable("the fault proxy did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # the proxying
    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        server_w: asyncio.StreamWriter | None = None
        pump: asyncio.Task[None] | None = None
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
            answers: asyncio.Queue[None] = asyncio.Queue()
            pump = asyncio.create_task(self._pump_answers(server_r, client_w, answers))
            while True:
                head = await client_r.readuntil(b"\r\n\r\n")
                headers = _parse_head(head)
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    body = await _read_chunked(client_r)  # libsql's replication requests
                else:
                    body = await client_r.readexactly(int(headers.get("content-length", "0") or 0))
                with self._lock:
                    self.requests += 1
                    self.paths.append(head.split(b" ", 2)[1].decode("latin-1"))
                fault = self.fault
                if fault.kind == "status" and fault.times is not None:
                    with self._lock:
                        if fault.times <= 0:
                            fault = Fault("pass")
                        else:
                            fault.times -= 1
                if fault.kind == "drop":
                    _reset(client_w)
                    return
                if fault.kind == "stall":
                    # Read and never answer: hold the connection until the client gives up.
                    while await client_r.read(65536):
                        pass
                    return
                if fault.kind == "status":
                    await self._answer_status(client_w, fault.status, fault.body, fault.retry_after)
                    continue
                if fault.kind == "delay":
                    await asyncio.sleep(fault.delay_ms / 1000)
                server_w.write(head + body)
                await server_w.drain()
                if "upgrade" in headers.get("connection", "").lower():
                    # A WebSocket: from now on bytes flow unparsed both ways.
                    await self._pipe(client_r, server_w)
                    return
                answers.put_nowait(None)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            if pump is not None:
                pump.cancel()
            for writer in (client_w, server_w):
                if writer is not None:
                    with contextlib.suppress(Exception):
                        writer.close()
            self._tasks.discard(task)

    async def _pump_answers(
        self, server_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, _answers: object
    ) -> None:
        # Answers are forwarded as they come; trickling slows them down, dropping is per request.
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while data := await server_r.read(65536):
                fault = self.fault
                if fault.kind == "trickle":
                    for i in range(0, len(data), fault.chunk):
                        client_w.write(data[i : i + fault.chunk])
                        await client_w.drain()
                        await asyncio.sleep(fault.every_ms / 1000)
                else:
                    client_w.write(data)
                    await client_w.drain()
            client_w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _answer_status(
        self,
        client_w: asyncio.StreamWriter,
        status: int,
        body: bytes | None,
        retry_after: str | None = None,
    ) -> None:
        body = f"injected {status}".encode() if body is None else body
        extra = f"retry-after: {retry_after}\r\n" if retry_after is not None else ""
        client_w.write(
            f"HTTP/1.1 {status} Injected\r\ncontent-type: text/plain\r\n{extra}"
            f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await client_w.drain()


class FaultProxyProcess(_Listening):
    """A `FaultProxy` run by a child process, switched over a pipe; the same switches.

    Use:
        proxy = FaultProxyProcess(("127.0.0.1", server.port)).start()
        proxy.delay(100)
        proxy.requests        # asked of the child
        proxy.stop()
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._child: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id (a benchmark reads its CPU time), while it runs."""
        return None if self._child is None else self._child.pid

    def start(self) -> FaultProxyProcess:
        tests = str(Path(__file__).resolve().parents[1])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": tests + (os.pathsep + path if path else "")}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "support.faults", self.upstream[0], str(self.upstream[1])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            self.stop()
            raise ServerUnavailable("the fault proxy process did not start")
        self.port = int(json.loads(line)["port"])
        return self

    def _order(self, op: str, **args: object) -> dict[str, object]:
        child = self._child
        if child is None or child.stdin is None or child.stdout is None:
            raise RuntimeError("the fault proxy process is not running")
        child.stdin.write(json.dumps({"op": op, **args}) + "\n")
        child.stdin.flush()
        answer: dict[str, object] = json.loads(child.stdout.readline())
        return answer

    # the switches, as FaultProxy's
    def pass_through(self) -> None:
        self._order("pass_through")

    def delay(self, ms: float) -> None:
        self._order("delay", ms=ms)

    def drop(self) -> None:
        self._order("drop")

    def trickle(self, chunk: int = 1, every_ms: float = 20.0) -> None:
        self._order("trickle", chunk=chunk, every_ms=every_ms)

    def stall(self) -> None:
        self._order("stall")

    def answer(self, status: int, body: bytes | None = None) -> None:
        self._order("answer", status=status, body=None if body is None else body.decode("latin-1"))

    def rate_limit(self, retry_after: float | str | None, *, times: int | None = None) -> None:
        self._order("rate_limit", retry_after=retry_after, times=times)

    def reset_count(self) -> None:
        self._order("reset_count")

    @property
    def requests(self) -> int:
        return int(self._order("count")["requests"])  # type: ignore[call-overload]

    @property
    def paths(self) -> list[str]:
        return list(self._order("count")["paths"])  # type: ignore[call-overload]

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(Exception):
            assert child.stdin is not None
            child.stdin.close()  # the child stops at the end of its orders
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)

    def __enter__(self) -> FaultProxyProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve_orders(host: str, port: int) -> None:
    """The child of `FaultProxyProcess`: a proxy, and its switches read from stdin."""
    proxy = FaultProxy((host, port)).start()
    print(json.dumps({"port": proxy.port}), flush=True)
    try:
        for line in sys.stdin:
            order = json.loads(line)
            op = order.pop("op")
            answer: dict[str, object] = {}
            if op == "count":
                with proxy._lock:
                    answer = {"requests": proxy.requests, "paths": list(proxy.paths)}
            elif op == "answer":
                body = order["body"]
                proxy.answer(order["status"], None if body is None else body.encode("latin-1"))
            else:
                getattr(proxy, op)(**order)
            print(json.dumps(answer), flush=True)
    finally:
        proxy.stop()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked request body, as sent (size lines, data, the last chunk and trailers)."""
    raw = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        raw += line
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                raw += trailer
            raw += b"\r\n"
            return bytes(raw)
        raw += await reader.readexactly(size + 2)


def _parse_head(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN, like a crashed server or a middlebox."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        import struct

        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@pytest.fixture(scope="session")
def _session_proxy(sqld: ServerProcess) -> Iterator[FaultProxy]:
    proxy = FaultProxy(("127.0.0.1", sqld.port)).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def fault_proxy(_session_proxy: FaultProxy) -> Iterator[FaultProxy]:
    """A `FaultProxy` in front of the session's sqld, passing through and counting from zero."""
    _session_proxy.pass_through()
    _session_proxy.reset_count()
    try:
        yield _session_proxy
    finally:
        _session_proxy.pass_through()


if __name__ == "__main__":
    _serve_orders(sys.argv[1], int(sys.argv[2]))
