"""Tenant tokens from where apps keep them: encrypted (a token command), a group token, minted.

Against the real sqld with JWT auth (one database, or one per namespace) and the Platform
API test server with a real sqld per database. Every token, every stored ciphertext and
what a misbehaving token command prints is watched: none may appear in any output.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from support.jwt_kit import JWTKeys
from support.platform_server import PlatformServer, sqld_backed
from support.secrets_watch import watch
from support.servers import ServerProcess, create_namespace, loopback_host, running, start_sqld
from tursotui.cli import main
from tursotui.db import LibsqlError, connect
from tursotui.db import errors as db_errors
from tursotui.platform import PlatformClient
from tursotui.secret import Secret
from tursotui.session.registry import Tenant
from tursotui.session.settings import Settings, load_settings
from tursotui.session.tokens import (
    TOKEN_UNAVAILABLE,
    TokenResolver,
    choose,
    database_name,
    expiration,
    explain_source,
)
from tursotui.session.workspace import Workspace
from tursotui.tenant.health import probe_all

HERE = Path(__file__).parent
VAULT = HERE / "tokens" / "vault.mjs"
MISBEHAVE = HERE / "tokens" / "misbehave.py"

pytestmark = pytest.mark.servers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `tursotui argv...` in-process: (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


def records(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, dict], str]:
    """`tenants --json` by slug, and everything it printed."""
    status, out, err = run(capsys, "tenants", "--json")
    assert status == 0, err
    return {r["slug"]: r for r in json.loads(out)}, out + err


def add_row(capsys: pytest.CaptureFixture[str], slug: str, url: str, stored: str | None) -> None:
    argv = ["tenants", "add", slug, "--url", url]
    if stored is not None:
        argv += ["--token", stored]
    status, _, err = run(capsys, *argv)
    assert status == 0, err


def registry_rows() -> list[tuple]:
    path = Path(os.environ["TURSOTUI_DATA_DIR"]) / "registry.db"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT slug, db_url, db_token FROM organizations ORDER BY slug"
        ).fetchall()
    finally:
        db.close()


def files_holding(root: Path, *secrets: str, skip: tuple[str, ...] = ()) -> list[str]:
    """Files under `root` (not named in `skip`) whose bytes contain one of `secrets`."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and path.name not in skip:
            data = path.read_bytes()
            found += [f"{path.name}" for s in secrets if s.encode() in data]
    return found


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- choosing a source (no IO) ---------------------------------------------------------------


def tenant(url: str = "libsql://acme-tenants-org.turso.io", token: str | None = None) -> Tenant:
    return Tenant("acme", "Acme", url, Secret(token) if token else None)


def settings(**values: object) -> Settings:
    return load_settings(**values)


def test_the_first_source_that_applies_is_chosen() -> None:
    platform = {"turso_org": "tenants-org", "platform_api_token": "p" * 12}
    both = settings(token_command="cat", group_auth_token="g" * 12, **platform)
    assert choose(tenant(token="stored"), both).label == "command"
    assert choose(tenant(), both).label == "group"
    assert choose(tenant(token="stored"), settings()).label == "stored"
    assert choose(tenant(), settings(**platform)).label == "minted"
    assert choose(tenant(), settings()).label == "none"
    assert choose(tenant("file:/tmp/x.db", "stored"), both).label == "none"
    pinned = settings(token_source="group", token_command="cat", group_auth_token="g" * 12)
    assert choose(tenant(token="stored"), pinned).label == "group"
    stored_pinned = choose(tenant(), settings(token_source="stored"))
    assert stored_pinned.problem == "the row holds no token"


def test_the_database_name_comes_from_the_row_or_the_turso_host() -> None:
    assert database_name(tenant(), "tenants-org")[0] == "acme"
    regional = tenant("libsql://acme-eu-tenants-org.aws-eu-west-1.turso.io")
    assert database_name(regional, "tenants-org")[0] == "acme-eu"
    named = Tenant("acme", "Acme", "http://127.0.0.1:8080", db_name="acme-prod")
    assert database_name(named, "tenants-org") == ("acme-prod", "the registry's database name")
    name, why = database_name(tenant("http://127.0.0.1:8080"), "tenants-org")
    assert name is None and "127.0.0.1 is not <db>-tenants-org" in why
    line = explain_source(tenant(), settings(turso_org="tenants-org", platform_api_token="p" * 12))
    assert line.startswith("minted: ") and "database acme" in line
    line = explain_source(
        tenant("http://127.0.0.1:8080"),
        settings(turso_org="tenants-org", platform_api_token="p" * 12),
    )
    assert "but cannot tell the database name" in line


def test_minted_lifetimes_are_written_as_the_api_wants() -> None:
    assert expiration(3600) == "1h"
    assert expiration(90) == "2m"
    assert expiration(15 * 86400 + 1800) == "2w1d30m"
    assert settings(minted_token_ttl="2h").minted_token_ttl == 7200


def test_a_pinned_source_without_its_setting_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TURSOTUI_TOKEN_SOURCE", "group")
    status, out, err = run(capsys, "tenants")
    assert status == 1 and out == ""
    assert err.strip() == (
        "error: setting token_source (from environment variable TURSOTUI_TOKEN_SOURCE): "
        "'group' needs TURSO_GROUP_AUTH_TOKEN set"
    )


# -- encrypted tokens and a token command ----------------------------------------------------


@pytest.fixture
def vault(monkeypatch: pytest.MonkeyPatch) -> str:
    """A vault key in the environment, as the app and its token command would have it."""
    key = os.urandom(32).hex()
    monkeypatch.setenv("VAULT_KEY", key)
    return key


def encrypt(*tokens: str) -> list[str]:
    """The stored values the app would write: each token through Node's AES-256-GCM."""
    done = subprocess.run(
        ["node", str(VAULT), "encrypt"],
        input="".join(f"{t}\n" for t in tokens),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return [watch(line) for line in done.stdout.splitlines()]


def test_encrypted_tokens_open_through_the_token_command(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    sqld: ServerProcess,
    jwt_keys: JWTKeys,
    vault: str,
    isolated_env: Path,
) -> None:
    tokens = [watch(jwt_keys.token("rw")), watch(jwt_keys.token("ro"))]
    acme, beta, wrong = encrypt(tokens[0], tokens[1], tokens[0])
    # The tag of another value: AES-GCM refuses it, and the vault echoes its input to stderr.
    version, iv, _, body = wrong.split(".")
    tampered = ".".join([version, iv, acme.split(".")[2], body])
    add_row(capsys, "acme", sqld.http_url, acme)
    add_row(capsys, "beta", sqld.http_url, beta)
    add_row(capsys, "tampered", sqld.http_url, tampered)
    before = registry_rows()
    monkeypatch.setenv("TURSOTUI_TOKEN_COMMAND", f"node {VAULT} decrypt")

    found, printed = records(capsys)
    assert found["acme"]["reachable"] and found["beta"]["reachable"]
    assert found["acme"]["token_source"] == "command"
    assert not found["tampered"]["reachable"]
    assert found["tampered"]["error"] == (
        "tampered: the token command (TURSOTUI_TOKEN_COMMAND) failed with exit status 1"
    )
    status, out, err = run(capsys, "sql", "acme", "SELECT 40 + 2 AS answer", "--format", "json")
    assert status == 0, err
    assert json.loads(out) == [{"answer": 42}]
    printed += out + err
    # A write through a decrypted token lands in the audit log, which names no token.
    status, out, err = run(
        capsys, "sql", "acme", "CREATE TABLE IF NOT EXISTS vaulted (x)", "--write"
    )
    assert status == 0, err
    printed += out + err

    everything = printed + caplog.text
    for secret in (*tokens, acme, beta, tampered, "cannot decrypt"):
        assert secret not in everything
    assert registry_rows() == before
    # Decrypted tokens live in memory only: no file of tursotui's holds one.
    assert files_holding(isolated_env / "data", *tokens) == []
    audit = (isolated_env / "data" / "audit.jsonl").read_text()
    assert "vaulted" in audit
    assert not any(s in audit for s in (*tokens, acme, beta, tampered))


def test_failing_token_commands_are_that_tenants_error_only(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    sqld: ServerProcess,
    jwt_keys: JWTKeys,
    tmp_path: Path,
) -> None:
    token = watch(jwt_keys.token("rw"))
    stored = {
        "good": token[::-1],  # the misbehaving command "decrypts" by reversing
        "hangs": "hang-tursotui-canary-7f3a",
        "crashes": "crash-tursotui-canary-7f3a",
        "silent": "silent-tursotui-canary-7f3a",
        "twolines": "twolines-tursotui-canary-7f3a",
    }
    for slug, value in stored.items():
        add_row(capsys, slug, sqld.http_url, value)
    before = registry_rows()
    pid_file = tmp_path / "hang.pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    monkeypatch.setenv("TURSOTUI_TOKEN_COMMAND", f"{sys.executable} {MISBEHAVE}")
    # Long enough for a Python command to start on a loaded machine; the hanging one still
    # has to be stopped at it.
    monkeypatch.setenv("TURSOTUI_TOKEN_COMMAND_TIMEOUT", "3")

    start = time.monotonic()
    found, printed = records(capsys)
    took = time.monotonic() - start
    assert found["good"]["reachable"] and found["good"]["token_source"] == "command"
    command = "the token command (TURSOTUI_TOKEN_COMMAND)"
    assert {slug: found[slug]["error"] for slug in stored if slug != "good"} == {
        "hangs": f"hangs: {command} did not finish within 3 s and was stopped",
        "crashes": f"crashes: {command} failed with exit status 3",
        "silent": f"silent: {command} printed no token",
        "twolines": f"twolines: {command} printed more than one line (expected the token)",
    }
    assert not any(found[slug]["reachable"] for slug in stored if slug != "good")
    assert took < 12, f"a hanging command held the list for {took:.1f} s"
    assert "oops" not in printed + caplog.text
    assert registry_rows() == before
    # The hanging command was killed, not left behind.
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


async def test_the_command_runs_once_per_tenant_and_session(
    sqld: ServerProcess, jwt_keys: JWTKeys, tmp_path: Path
) -> None:
    token = watch(jwt_keys.token("rw"))
    counter = tmp_path / "runs"
    script = tmp_path / "count.sh"
    script.write_text(f"echo x >> {counter}\nrev\n")
    opened = await Workspace.open(load_settings(token_command=f"sh {script}", timeout=5.0))
    try:
        await opened.registry.add("acme", sqld.http_url, token[::-1])
        (acme,) = await opened.registry.tenants()
        for _ in range(3):
            connection = await opened.open_tenant(acme)
            assert (await connection.execute("SELECT 1")).rows[0][0] == 1
            await connection.close()
        assert counter.read_text().count("x") == 1
        assert opened.tokens.command_runs == 1
        # A new stored value (the app re-encrypted it) is passed through the command again.
        await opened.registry.set_token("acme", " " + token[::-1])
        (acme,) = await opened.registry.tenants()
        connection = await opened.open_tenant(acme)
        assert (await connection.execute("SELECT 1")).rows[0][0] == 1
        await connection.close()
        assert counter.read_text().count("x") == 2
    finally:
        await opened.close()


# -- one group token, one database per namespace ---------------------------------------------


@pytest.fixture(scope="module")
def group_keys() -> JWTKeys:
    return JWTKeys()


@pytest.fixture(scope="module")
def namespaced_sqld(group_keys: JWTKeys) -> Iterator[ServerProcess]:
    """sqld with namespaces and JWT auth: the first label of the Host picks the database."""
    with running(lambda: start_sqld(group_keys.public_key, namespaces=True)) as server:
        for name in ("alpha", "bravo"):
            create_namespace(server, name)
        yield server


async def seed_marker(url: str, token: str, name: str) -> None:
    """One row naming the database, written straight to it."""
    seed = await connect(url, token, name=name)
    try:
        await seed.batch(
            [
                "CREATE TABLE IF NOT EXISTS marker (v TEXT)",
                "DELETE FROM marker",
                f"INSERT INTO marker VALUES ('{name}')",
            ]
        )
    finally:
        await seed.close()


def test_one_group_token_opens_each_tenant_on_its_own_database(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    namespaced_sqld: ServerProcess,
    group_keys: JWTKeys,
) -> None:
    group = watch(group_keys.token("rw"))
    urls = {}
    for name in ("alpha", "bravo"):
        host = loopback_host(f"{name}.tursotui.test")
        urls[name] = f"http://{host}:{namespaced_sqld.port}"
        asyncio.run(seed_marker(urls[name], group, name))
    for name, url in urls.items():
        add_row(capsys, name, url, None)

    # Without the group token nothing opens; with it, both do.
    found, _ = records(capsys)
    assert not found["alpha"]["reachable"] and found["alpha"]["token_source"] == "none"
    assert "asks for a token" in found["alpha"]["error"]
    monkeypatch.setenv("TURSO_GROUP_AUTH_TOKEN", group)
    found, printed = records(capsys)
    assert all(found[name]["reachable"] for name in urls), found
    assert {found[name]["token_source"] for name in urls} == {"group"}
    for name in urls:
        status, out, err = run(capsys, "sql", name, "SELECT v FROM marker", "--format", "json")
        assert status == 0, err
        assert json.loads(out) == [{"v": name}]
    assert group not in printed


# -- tokens minted through the Platform API --------------------------------------------------

ORG = "tenants-org"
DOMAIN = "tursotui.test"


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[PlatformServer]:
    """The Platform API test server with a real sqld (JWT auth) per database."""
    async with sqld_backed(tmp_path / "platform") as server:
        server.domain = DOMAIN
        yield server


async def make_database(server: PlatformServer, name: str) -> str:
    """Create database `name` through the API; its URL, by a host of the Turso shape."""
    async with PlatformClient(ORG, server.token, base_url=server.url) as api:
        database = await api.create_database(name, "default")
    host = loopback_host(database.hostname)
    port = server.backend.proxy(name).port  # type: ignore[attr-defined]
    return f"http://{host}:{port}"


def mint_settings(server: PlatformServer, **values: object) -> Settings:
    return load_settings(
        turso_org=ORG,
        platform_api_token=server.token,
        platform_url=server.url,
        timeout=5.0,
        **values,
    )


async def registered(server: PlatformServer, rows: dict[str, str | None]) -> None:
    """Add registry rows `slug -> stored token` for databases `slug` of the server."""
    writer = await Workspace.open(mint_settings(server))
    try:
        for slug, token in rows.items():
            await writer.registry.add(slug, await make_database(server, slug), token)
    finally:
        await writer.close()


async def test_a_read_only_session_mints_read_only_tokens_once(platform: PlatformServer) -> None:
    await registered(platform, {"acme": None})
    session = await Workspace.open(mint_settings(platform, read_only=True))
    try:
        (acme,) = await session.registry.tenants()
        assert session.tokens.choose(acme).label == "minted"
        for _ in range(2):
            connection = await session.open_tenant(acme)
            assert (await connection.execute("SELECT 1")).rows[0][0] == 1
            await connection.close()
        assert platform.calls("createDatabaseToken") == 1
        ((_, minted),) = session.tokens._minted.items()
        token = watch(minted.token.get_secret_value())
        assert claims(token)["a"] == "ro"
        # The server enforces it too: a client that does not refuse writes itself is refused.
        direct = await connect(acme.url, token, name="acme")
        try:
            with pytest.raises(LibsqlError) as refused:
                await direct.execute("CREATE TABLE t (x)")
            assert refused.value.code == db_errors.READ_ONLY_TOKEN
        finally:
            await direct.close()
    finally:
        await session.close()


async def test_a_rejected_minted_token_is_minted_again(platform: PlatformServer) -> None:
    await registered(platform, {"acme": None})
    session = await Workspace.open(mint_settings(platform))
    try:
        (acme,) = await session.registry.tenants()
        connection = await session.connection(acme)
        await connection.execute("CREATE TABLE kept (x)")
        # New signing keys: every token minted so far is rejected (401).
        await platform.backend.rotate("acme")
        await connection.execute("INSERT INTO kept VALUES (1)")
        assert (await connection.execute("SELECT count(*) FROM kept")).rows[0][0] == 1
        assert platform.calls("createDatabaseToken") == 2
        # A new connection starts with the cached, now stale token: re-minted on its first request.
        await platform.backend.rotate("acme")
        fresh = await session.open_tenant(acme)
        assert (await fresh.execute("SELECT count(*) FROM kept")).rows[0][0] == 1
        await fresh.close()
        assert platform.calls("createDatabaseToken") == 3
    finally:
        await session.close()


async def test_a_websocket_tenant_rejecting_a_minted_token_is_opened_with_a_new_one(
    platform: PlatformServer,
) -> None:
    await registered(platform, {"acme": None})
    session = await Workspace.open(mint_settings(platform))
    try:
        (acme,) = await session.registry.tenants()
        over_ws = Tenant("acme", "Acme", acme.url.replace("http://", "ws://"))
        first = await session.open_tenant(over_ws)
        assert (await first.execute("SELECT 1")).rows[0][0] == 1
        await first.close()
        await platform.backend.rotate("acme")
        # The handshake refuses the cached token (401): minted again, opened again.
        second = await session.open_tenant(over_ws)
        assert (await second.execute("SELECT 2")).rows[0][0] == 2
        await second.close()
        assert platform.calls("createDatabaseToken") == 2
    finally:
        await session.close()


async def test_an_expired_minted_token_is_minted_again(platform: PlatformServer) -> None:
    await registered(platform, {"acme": None})
    settings = mint_settings(platform, minted_token_ttl="10m")
    session = await Workspace.open(settings)
    now = [1000.0]
    session.tokens = TokenResolver(settings, clock=lambda: now[0])
    try:
        (acme,) = await session.registry.tenants()
        for step in (0, 60, 600):
            now[0] += step
            connection = await session.open_tenant(acme)
            await connection.execute("SELECT 1")
            await connection.close()
        # Minted at 1000; still good at 1060; at 1660 past its 10 minutes (less a margin).
        assert platform.calls("createDatabaseToken") == 2
    finally:
        await session.close()


@pytest.mark.parametrize(
    ("status", "said"),
    [(403, "the token does not have the db:mint-token permission"), (429, "rate limited")],
)
async def test_a_refused_mint_is_one_line_naming_the_tenant(
    platform: PlatformServer, status: int, said: str
) -> None:
    async with PlatformClient(ORG, platform.token, base_url=platform.url) as api:
        await registered(platform, {"acme": None, "beta": None})
        stored = watch((await api.create_token("beta")).get_secret_value())
    writer = await Workspace.open(mint_settings(platform))
    await writer.registry.set_token("beta", stored)
    await writer.close()
    platform.fail("createDatabaseToken", status, error=said, times=10, retry_after="0")
    session = await Workspace.open(mint_settings(platform))
    try:
        tenants = await session.registry.tenants()
        answers = {h.tenant.slug: h async for h in probe_all(session, tenants)}
        assert answers["beta"].reachable  # its stored token needs no minting
        assert not answers["acme"].reachable
        assert answers["acme"].error == (
            f"acme: cannot mint a token: Turso Platform API: minting a token for database "
            f"acme: {said} (HTTP {status})"
        )
        with pytest.raises(LibsqlError) as failed:
            await session.open_tenant(tenants[0])
        assert failed.value.code == TOKEN_UNAVAILABLE
    finally:
        await session.close()


# -- the tenants screen --------------------------------------------------------------------


async def test_the_tenants_screen_says_where_each_token_comes_from(
    sqld: ServerProcess, jwt_keys: JWTKeys
) -> None:
    from support.moderation_fixtures import settle
    from support.screen import screen_text
    from support.shell_fixtures import build_fleet
    from tursotui.session.registry import Registry
    from tursotui.ui.app import make_app

    token = watch(jwt_keys.token("rw"))
    fleet = await build_fleet(slugs=("acme",), broken=False, token_command="rev")
    registry = await Registry.open(fleet.settings)
    try:
        await registry.add("vault", sqld.http_url, token[::-1], "Vault")
    finally:
        await registry.close()
    app = make_app(fleet.settings)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down")
        await pilot.pause()
        text = screen_text(app)
    vault_row = next(line for line in text.splitlines() if " vault " in line)
    assert "down" not in vault_row
    detail = next(line for line in text.splitlines() if "│ Vault" in line)
    assert "token command" in detail
    assert token not in text and token[::-1] not in text


def test_rotating_a_token_the_command_decrypts_is_refused_before_anything_changes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    add_row(capsys, "acme", "libsql://acme-tenants-org.turso.invalid", "v1.aaaa.bbbb.cccc")
    before = registry_rows()
    monkeypatch.setenv("TURSOTUI_TOKEN_COMMAND", "rev")
    monkeypatch.setenv("TURSO_ORG", "tenants-org")
    monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", "platform-token-plain-xyz")
    monkeypatch.setenv("TURSOTUI_PLATFORM_URL", "http://127.0.0.1:9")  # never asked
    status, out, err = run(capsys, "tenants", "rotate-token", "acme")
    assert (status, out) == (1, "")
    assert err.strip().splitlines()[-1] == (
        "error: cannot rotate the token of acme: its stored token goes through "
        "TURSOTUI_TOKEN_COMMAND (kept encrypted by the app); rotate it with the app's tools"
    )
    assert registry_rows() == before
