"""A tenant on a real sqld of the test module's own, behind a `FaultProxy`, in a local registry.

The sqld can be killed, restarted on the same data and restarted with a new JWT key (a
token rotation); the proxy keeps its port through all of it, so the registry's URL for
the tenant never changes, exactly as for a real tenant whose server restarts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.faults import FaultProxy
from support.install import ServerUnavailable
from support.jwt_kit import JWTKeys
from support.moderation_fixtures import fill_remote
from support.secrets_watch import leaks, watch
from support.servers import ServerProcess, start_sqld
from tursotui.db import connect

SLUG = "acme"


@dataclass
class ProxiedTenant:
    """The tenant `acme`: its sqld, the proxy in front, the key its tokens are signed with."""

    workdir: Path
    keys: JWTKeys
    proxy: FaultProxy
    server: ServerProcess
    token: str = field(repr=False)

    @property
    def url(self) -> str:
        return self.proxy.url

    def kill(self) -> None:
        """SIGKILL the server (its data stays)."""
        self.server.stop()

    def restart(self, keys: JWTKeys | None = None) -> None:
        """Start the server again on the same data (with another key for a rotation)."""
        self.server.stop()
        if keys is not None:
            self.keys = keys
        try:
            self.server = start_sqld(self.keys.public_key, workdir=self.workdir)
        except ServerUnavailable as error:
            pytest.fail(str(error))
        self.proxy.upstream = ("127.0.0.1", self.server.port)

    def rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Read the database straight from the server (not through the proxy)."""

        async def read() -> list[tuple]:
            conn = await connect(self.server.http_url, self.keys.token(), name="check")
            try:
                return [tuple(r) for r in (await conn.execute(sql, list(args))).rows]
            finally:
                await conn.close()

        return _run(read())

    def execute(self, sql: str) -> None:
        """Write straight to the server (test set-up)."""

        async def write() -> None:
            conn = await connect(self.server.http_url, self.keys.token(), name="setup")
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        _run(write())


def _run(coro):
    """Run `coro` to the end on a loop of its own (callable from sync or async tests)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxiedTenant]:
    workdir = tmp_path_factory.mktemp("sqld-faults")
    keys = JWTKeys()
    try:
        server = start_sqld(keys.public_key, workdir=workdir)
    except ServerUnavailable as error:
        pytest.fail(str(error))
    proxy = FaultProxy(("127.0.0.1", server.port)).start()
    tenant = ProxiedTenant(workdir, keys, proxy, server, watch(keys.token()))
    try:
        yield tenant
    finally:
        proxy.stop()
        tenant.server.stop()


@pytest.fixture
def tenant(proxied_server: ProxiedTenant, monkeypatch: pytest.MonkeyPatch) -> ProxiedTenant:
    """`acme` with 5 drafts, 3 published posts and comments, registered in a local registry.

    Every test starts with the server up, passing through, the module's first key.
    """
    t = proxied_server
    t.proxy.pass_through()
    if t.server.process.poll() is not None:
        t.restart()
    t.token = watch(t.keys.token())
    monkeypatch.setenv("TURSOTUI_TIMEOUT", "1.5")
    t.ids = asyncio.run(  # type: ignore[attr-defined]
        fill_remote(t.server.http_url, t.token, drafts=5, published=3, comments_per_post=2)
    )
    asyncio.run(_register(t.url, t.token))
    t.proxy.reset_count()
    return t


async def _register(url: str, token: str) -> None:
    from tursotui.session.registry import Registry
    from tursotui.session.settings import load_settings

    registry = await Registry.open(load_settings())
    try:
        with contextlib.suppress(Exception):
            await registry.remove(SLUG)
        await registry.add(SLUG, url, token, "Acme Corp")
    finally:
        await registry.close()


async def set_token(token: str) -> None:
    """Rotate `acme`'s token in the registry, as `tenants rotate-token` would."""
    from tursotui.session.registry import Registry
    from tursotui.session.settings import load_settings

    registry = await Registry.open(load_settings())
    try:
        await registry.set_token(SLUG, token)
    finally:
        await registry.close()


@dataclass
class Ran:
    """What one in-process run of the command line did."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def cli(*argv: str) -> Ran:
    """Run `tursotui ARGV` in-process, capturing its stdout and stderr."""
    from tursotui.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse
            code = int(exit.code or 0)
    finally:
        sys.stdout, sys.stderr = old
    ran = Ran(code, out.getvalue(), err.getvalue())
    # This output bypasses pytest's capture, so the secrets plugin cannot see it: check here.
    assert not leaks(ran.out + ran.err), "a token appeared in the command's output"
    return ran
