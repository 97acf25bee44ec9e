"""Real libSQL servers for the tests, started on 127.0.0.1, and the fixtures that hold them.

- **sqld** 0.24 (the server behind Turso), with JWT auth (`SQLD_AUTH_JWT_KEY`) and tokens
  minted by the tests (`support.jwt_kit.JWTKeys`);
- **tursodb** 0.6 `--sync-server`.

Tests use the session-scoped fixtures (`sqld`, `tursodb`); `tests/conftest.py` registers this
module as a plugin (`pytest_plugins`), so the fixtures need no import. Servers started by hand
(`start_sqld`, `start_tursodb`) must be stopped by the caller (`running()` does it); every server
also dies with the process that started it. Installing them is `support.install`; faults in
front of them are `support.faults`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.install import ServerUnavailable, machine_lock, sqld_binary, tursodb_binary
from support.jwt_kit import JWTKeys

STARTUP_TIMEOUT_S = 30.0
"""How long a server may take to answer after start; generous for a loaded CI machine."""


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
    with machine_lock():
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


# -- pytest fixtures ----------------------------------------------------------------


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
