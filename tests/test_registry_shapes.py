"""Registries as real apps make them, through drizzle-orm itself, open as they are.

Each registry here is made by drizzle-kit's own schema push and filled by
drizzle-orm's own insert (Node, installed from npm into `.cache/drizzle-registry`
on first use), in the three shapes apps use: explicit snake_case names, Drizzle's
default camelCase names, and a table that keeps only each tenant's database name.
What tursotui writes into them is read back by drizzle-orm.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from support.jwt_kit import JWTKeys
from support.secrets_watch import CANARY
from support.servers import ServerProcess
from tursotui.cli import main
from tursotui.db import LibsqlError
from tursotui.session.registry import Registry, RegistryError
from tursotui.session.settings import SettingsError, load_settings

HERE = Path(__file__).parent / "drizzle"
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "drizzle-registry"
TOKEN = f"{CANARY}-registry-shape-token"


@pytest.fixture(scope="module")
def drizzle() -> Path:
    """A folder with drizzle-orm, drizzle-kit and @libsql/client, and the registry script."""
    if shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("npm is needed for the drizzle registry tests")
        pytest.skip("npm is not installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.copy(HERE / "registry.package.json", CACHE / "package.json")
        shutil.copy(HERE / "registry.mjs", CACHE / "registry.mjs")
        if not (CACHE / "node_modules" / "drizzle-kit").exists():
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE)],
                check=True,
                capture_output=True,
                timeout=600,
            )
    return CACHE


def drizzle_run(runner: Path, db: Path, shape: str, command: str, rows: Any = None) -> str:
    done = subprocess.run(
        ["node", str(runner / "registry.mjs"), f"file:{db}", shape, command, json.dumps(rows)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def drizzle_registry(runner: Path, db: Path, shape: str, rows: list[dict[str, Any]]) -> None:
    """The registry table made by drizzle-kit's push and `rows` inserted by drizzle-orm."""
    drizzle_run(runner, db, shape, "create", rows)


def drizzle_rows(runner: Path, db: Path, shape: str) -> dict[str, dict[str, Any]]:
    """Every row as drizzle-orm reads it (createdAt in milliseconds), by slug."""
    return {row["slug"]: row for row in json.loads(drizzle_run(runner, db, shape, "read"))}


def files_of(path: Path) -> dict[str, str]:
    """The database file and any journal beside it, each with its SHA-256."""
    found = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            found[file.name] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`tursotui argv...` in-process: (exit status, stdout, stderr); no token in either."""
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return status, out, err


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0].removeprefix("error: ")


def tenant_file(path: Path) -> Path:
    """A tenant database made the way the app makes it (rollback journal, a posts table)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, status TEXT)")
        db.execute("INSERT INTO posts (status) VALUES ('draft')")
    db.close()
    return path


@pytest.fixture
def registry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The path of the registry file, named by TURSOTUI_REGISTRY_URL."""
    path = tmp_path / "meta.db"
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", f"file:{path}")
    return path


# -- the three shapes ---------------------------------------------------------------------


@pytest.mark.servers
@pytest.mark.parametrize(
    ("shape", "url_column", "token_column", "created_column"),
    [("snake", "db_url", "db_token", "created_at"), ("camel", "dbUrl", "dbToken", "createdAt")],
)
def test_drizzle_made_url_registries_open_as_they_are(
    drizzle: Path,
    registry_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sqld: ServerProcess,
    jwt_keys: JWTKeys,
    shape: str,
    url_column: str,
    token_column: str,
    created_column: str,
) -> None:
    token = jwt_keys.token()
    local = tenant_file(tmp_path / "local.db")
    rows = [
        {"id": "a1", "name": "Acme", "slug": "acme", "dbUrl": sqld.http_url, "dbToken": token,
         "createdAt": 1_790_000_000},
        {"id": "l1", "name": "Local", "slug": "local", "dbUrl": f"file:{local}", "dbToken": "",
         "createdAt": 1_790_000_001},
    ]  # fmt: skip
    drizzle_registry(drizzle, registry_env, shape, rows)

    status, out, _ = run(capsys, "tenants", "--json")
    assert status == 0
    listed = {r["slug"]: r for r in json.loads(out)}
    assert set(listed) == {"acme", "local"}
    assert listed["acme"]["reachable"] and listed["acme"]["has_token"], listed["acme"]["error"]
    assert listed["local"]["reachable"] and listed["local"]["posts"]["draft"] == 1
    assert token not in out

    status, out, _ = run(capsys, "tenants", "--explain")
    assert status == 0
    assert f"  url         {url_column:<24} (by name)" in out
    assert f"  token       {token_column:<24} (by name)" in out
    assert f"  created_at  {created_column:<24} (by name)" in out
    assert f"urls     from column {url_column}" in out
    assert "  acme: url from column · token stored: the registry row holds a token" in out
    assert token not in out

    # what tursotui writes, drizzle-orm reads: the registry's own columns and units
    status, _, err = run(
        capsys, "tenants", "add", "beta", "--url", sqld.http_url, "--token", TOKEN, "--name", "B"
    )
    assert status == 0, err
    assert run(capsys, "tenants", "remove", "local")[0] == 0
    read = drizzle_rows(drizzle, registry_env, shape)
    assert set(read) == {"acme", "beta"}
    beta = read["beta"]
    assert (beta["name"], beta["dbUrl"], beta["dbToken"]) == ("B", sqld.http_url, TOKEN)
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", beta["id"]
    )
    assert abs(beta["createdAt"] / 1000 - time.time()) < 60  # seconds were written, not ms
    assert read["acme"]["createdAt"] == 1_790_000_000_000  # untouched


def test_a_names_only_registry_with_a_url_template(
    drizzle: Path,
    registry_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`tenants(id, name, slug, dbName, plan, createdAt)`: URLs come from the template."""
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    for name in ("acme-db", "globex-db"):
        tenant_file(tenants / f"{name}.db")
    drizzle_registry(
        drizzle,
        registry_env,
        "names",
        [
            {"name": "Acme", "slug": "acme", "dbName": "acme-db", "plan": "pro"},
            {"name": "Globex", "slug": "globex", "dbName": "globex-db"},
            {"name": "Spaced", "slug": "spaced", "dbName": "bad name"},
        ],
    )
    monkeypatch.setenv("TURSOTUI_REGISTRY_TABLE", "tenants")

    # without a way to find URLs, the rows are broken with the reason, not hidden
    status, out, _ = run(capsys, "tenants", "--json")
    assert status == 0
    problems = {r["slug"]: r["error"] for r in json.loads(out)}
    assert problems["acme"] == (
        "the row has only a database name ('acme-db'); set TURSOTUI_TENANT_URL_TEMPLATE, "
        "or TURSO_ORG and TURSO_PLATFORM_API_TOKEN, to find its URL"
    )

    monkeypatch.setenv("TURSOTUI_TENANT_URL_TEMPLATE", "http://{db_name}.invalid:1/{slug}")
    status, out, _ = run(capsys, "tenants", "--json")
    listed = {r["slug"]: r for r in json.loads(out)}
    assert listed["acme"]["url"] == "http://acme-db.invalid:1/acme"
    assert "bad name" in listed["spaced"]["error"]  # a malformed URL: that row only
    assert listed["spaced"]["error"].startswith(
        "the URL template (tenant_url_template) makes 'http://bad name.invalid:1/spaced'"
    )

    monkeypatch.setenv("TURSOTUI_TENANT_URL_TEMPLATE", f"file:{tenants}/{{db_name}}.db")
    status, out, _ = run(capsys, "tenants", "--json")
    assert status == 0
    listed = {r["slug"]: r for r in json.loads(out)}
    assert listed["acme"]["url"] == f"file:{tenants}/acme-db.db"
    assert listed["acme"]["db_name"] == "acme-db"
    assert listed["acme"]["reachable"] and listed["acme"]["posts"]["draft"] == 1
    assert listed["globex"]["reachable"]

    status, out, _ = run(capsys, "tenants", "--explain")
    assert "  url         -                        (not found)" in out
    assert "  db_name     dbName                   (by name)" in out
    assert "  token       -                        (not found)" in out
    assert (
        f"urls     rows with only a database name (dbName): from the template "
        f"file:{tenants}/{{db_name}}.db"
    ) in out
    assert "  acme: url from template · token none: a local file needs no token" in out

    # writes fit the shape: no URL and no token where there is no column for them
    status, _, err = run(capsys, "tenants", "add", "new", "--url", f"file:{tenants}/new.db")
    assert status == 1
    assert one_error(err) == (
        f"registry {registry_env}: table 'tenants' keeps database names (dbName), not URLs: "
        "give the database name (--db-name) instead"
    )
    status, _, err = run(capsys, "tenants", "add", "new", "--db-name", "new-db", "--token", TOKEN)
    assert status == 1
    assert one_error(err) == (
        f"registry {registry_env}: table 'tenants' has no token column, so it cannot keep a "
        "token for new"
    )
    tenant_file(tenants / "new-db.db")
    status, _, err = run(capsys, "tenants", "add", "new", "--db-name", "new-db", "--name", "New")
    assert status == 0, err
    assert f"added new (file:{tenants}/new-db.db)" in err
    read = drizzle_rows(drizzle, registry_env, "names")
    assert set(read) == {"acme", "globex", "spaced", "new"}
    new = read["new"]
    assert (new["name"], new["dbName"], new["plan"]) == ("New", "new-db", "free")
    assert new["id"] == max(r["id"] for r in read.values() if r["slug"] != "new") + 1
    assert abs(new["createdAt"] / 1000 - time.time()) < 60
    assert run(capsys, "tenants", "remove", "new")[0] == 0
    assert "new" not in drizzle_rows(drizzle, registry_env, "names")


async def test_listing_a_drizzle_made_registry_changes_no_byte(
    drizzle: Path, registry_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Neither `tenants --json` nor the TUI's tenants screen changes the registry or a tenant."""
    from support.moderation_fixtures import settle
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.tenants import TenantsScreen

    tenant = tenant_file(tmp_path / "acme.db")
    drizzle_registry(
        drizzle,
        registry_env,
        "camel",
        [{"id": "1", "name": "Acme", "slug": "acme", "dbUrl": f"file:{tenant}", "dbToken": "",
          "createdAt": 1_790_000_000}],
    )  # fmt: skip
    before = files_of(registry_env), files_of(tenant)
    assert list(before[0]) == ["meta.db"] and list(before[1]) == ["acme.db"]

    status, out, _ = await asyncio.to_thread(run, capsys, "tenants", "--json")
    assert status == 0 and json.loads(out)[0]["reachable"]
    assert (files_of(registry_env), files_of(tenant)) == before

    app = make_app(load_settings())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TenantsScreen)
        deadline = time.monotonic() + 10
        while screen.health_of("acme") is None:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        assert screen.health_of("acme").reachable
        app.exit()
    assert (files_of(registry_env), files_of(tenant)) == before
    with sqlite3.connect(registry_env) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


async def test_the_registry_tursotui_creates_is_wal_and_files_it_opens_keep_their_mode(
    isolated_env: Path, tmp_path: Path
) -> None:
    registry = await Registry.open(load_settings())
    try:
        tenant = tenant_file(tmp_path / "app.db")
        await registry.add("app", f"file:{tenant}")
        connection = await (await registry.get("app")).connect()
        await connection.execute("INSERT INTO posts (status) VALUES ('published')")
        await connection.close()
    finally:
        await registry.close()
    with sqlite3.connect(isolated_env / "data" / "registry.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with sqlite3.connect(tenant) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert db.execute("SELECT count(*) FROM posts").fetchone() == (2,)


# -- bad input ------------------------------------------------------------------------------


def make_table(path: Path, sql: str, *rows: tuple) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql)
        for row in rows:
            db.execute(f"INSERT INTO organizations VALUES ({', '.join('?' * len(row))})", row)
    db.close()


async def test_two_columns_that_both_look_like_the_url_ask_for_the_mapping(
    registry_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = tenant_file(tmp_path / "acme.db")
    make_table(
        registry_env,
        "CREATE TABLE organizations (slug TEXT, db_url TEXT, dbUrl TEXT, secretBlob TEXT)",
        ("acme", "file:old.db", f"file:{tenant}", TOKEN),
    )
    with pytest.raises(RegistryError) as caught:
        await Registry.open(load_settings())
    assert str(caught.value) == (
        f"registry {registry_env}: table 'organizations': columns 'db_url' and 'dbUrl' both look "
        "like the url column; say which with TURSOTUI_REGISTRY_COLUMNS=url=<column>"
    )
    monkeypatch.setenv("TURSOTUI_REGISTRY_COLUMNS", "url=dbUrl, token=secretBlob")
    registry = await Registry.open(load_settings())
    try:
        (acme,) = await registry.tenants()
        assert acme.url == f"file:{tenant}" and acme.token.get_secret_value() == TOKEN
        shape = await registry.shape()
        assert shape.found["url"] == shape.found["token"] == "explicit mapping"
        assert registry.summary() == "registry organizations · url=dbUrl token=secretBlob"
        await registry.set_token("acme", "rotated-value")
    finally:
        await registry.close()
    with sqlite3.connect(registry_env) as db:
        assert db.execute("SELECT secretBlob, db_url FROM organizations").fetchall() == [
            ("rotated-value", "file:old.db")
        ]


def test_a_mapping_to_a_missing_column_or_an_unknown_role_is_one_clear_error(
    registry_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(registry_env, "CREATE TABLE organizations (slug TEXT, db_url TEXT)")
    monkeypatch.setenv("TURSOTUI_REGISTRY_COLUMNS", "url=tenantDbUrl")
    status, _, err = run(capsys, "tenants")
    assert status == 1
    assert one_error(err) == (
        f"registry {registry_env}: setting registry_columns maps url to 'tenantDbUrl', but "
        "table 'organizations' has no such column (columns: slug, db_url)"
    )
    monkeypatch.setenv("TURSOTUI_REGISTRY_COLUMNS", "uri=db_url")
    status, _, err = run(capsys, "tenants")
    assert status == 1
    assert one_error(err) == (
        "setting registry_columns (from environment variable TURSOTUI_REGISTRY_COLUMNS): "
        "unknown role 'uri' (roles: slug, name, url, db_name, token, id, created_at)"
    )


def test_the_mapping_can_come_from_the_toml_file(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_env / "home" / "config.toml").write_text(
        'registry_columns = { url = "tenantDbUrl", token = "" }\n'
        'tenant_url_template = "libsql://{db_name}-{org}.turso.io"\n'
        'turso_org = "acme-org"\n',
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.registry_columns == {"url": "tenantDbUrl", "token": ""}
    assert settings.tenant_url_template == "libsql://{db_name}-{org}.turso.io"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("libsql://{database}.turso.io", "unknown placeholder {database}"),
        ("libsql://{db_name!r}.turso.io", "unknown placeholder {db_name}"),
        ("libsql://{db_name.turso.io", "not a valid template"),
        ("libsql://{db_name}-{org}.turso.io", "uses {org} but TURSO_ORG is not set"),
    ],
)
def test_a_bad_template_is_a_settings_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, template: str, message: str
) -> None:
    monkeypatch.setenv("TURSOTUI_TENANT_URL_TEMPLATE", template)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    text = str(caught.value)
    assert text.startswith(
        "setting tenant_url_template (from environment variable TURSOTUI_TENANT_URL_TEMPLATE): "
    )
    assert message in text


async def test_columns_that_match_no_role_and_rows_without_slug_or_database(
    registry_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_table(registry_env, "CREATE TABLE organizations (handle TEXT, address TEXT)")
    with pytest.raises(RegistryError) as caught:
        await Registry.open(load_settings())
    assert str(caught.value) == (
        f"registry {registry_env}: table 'organizations' has no slug column (columns: handle, "
        "address); say which with TURSOTUI_REGISTRY_COLUMNS=slug=<column>"
    )
    monkeypatch.setenv("TURSOTUI_REGISTRY_COLUMNS", "slug=handle,url=address")
    with sqlite3.connect(registry_env) as db:
        db.executemany(
            "INSERT INTO organizations VALUES (?, ?)",
            [("ok", "file:ok.db"), ("", "file:x.db"), ("nourl", ""), ("ok", "file:dup.db")],
        )
    db.close()
    registry = await Registry.open(load_settings())
    try:
        problems = {(t.slug, t.url): t.problem for t in await registry.tenants()}
    finally:
        await registry.close()
    assert problems == {
        ("ok", "file:ok.db"): None,
        ("", "file:x.db"): "the row has no slug",
        ("nourl", ""): "the row has no database URL",
        ("ok", "file:dup.db"): "duplicate slug 'ok' (an earlier row has it)",
    }


async def test_a_shape_that_cannot_hold_a_new_row_is_refused_before_writing(
    registry_env: Path,
) -> None:
    make_table(
        registry_env,
        "CREATE TABLE organizations (slug TEXT, db_url TEXT, owner_id TEXT NOT NULL)",
        ("acme", "file:acme.db", "u1"),
    )
    registry = await Registry.open(load_settings())
    try:
        with pytest.raises(RegistryError) as caught:
            await registry.add("beta", "file:beta.db")
        assert str(caught.value) == (
            f"registry {registry_env}: table 'organizations' needs a value in owner_id (NOT NULL, "
            "no default), which tursotui cannot know; add the row with the app"
        )
        with pytest.raises(RegistryError, match="has no token column"):
            await registry.set_token("acme", TOKEN)
    finally:
        await registry.close()
    with sqlite3.connect(registry_env) as db:
        assert db.execute("SELECT slug FROM organizations").fetchall() == [("acme",)]


# -- URLs from the Platform API ---------------------------------------------------------------


@pytest.fixture
async def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The spec-checking Platform API test server, named by the settings."""
    from support.platform_server import file_backed

    async with file_backed(tmp_path / "platform") as server:
        monkeypatch.setenv("TURSO_ORG", server.org)
        monkeypatch.setenv("TURSO_PLATFORM_API_TOKEN", server.token)
        monkeypatch.setenv("TURSOTUI_PLATFORM_URL", server.url)
        yield server


async def test_names_are_resolved_through_the_platform_api_listing_once(
    registry_env: Path, platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tursotui.platform.api import PlatformClient

    async with PlatformClient(platform.org, platform.token, base_url=platform.url) as api:
        for name in ("acme-db", "globex-db", "initech-db"):
            await api.create_database(name, "default")
    make_table(
        registry_env,
        "CREATE TABLE organizations (slug TEXT, db_url TEXT, database_name TEXT)",
        ("acme", None, "acme-db"),
        ("globex", "", "globex-db"),
        ("ghost", None, "ghost-db"),
        ("direct", "file:direct.db", None),
    )
    # a template is set too: the Platform API, when its credentials are there, wins
    monkeypatch.setenv("TURSOTUI_TENANT_URL_TEMPLATE", "libsql://{db_name}.template.invalid")
    registry = await Registry.open(load_settings())
    try:
        tenants = {t.slug: t for t in await registry.tenants()}
        assert (tenants["acme"].url, tenants["acme"].url_source, tenants["acme"].db_name) == (
            f"libsql://acme-db-{platform.org}.turso.io",
            "platform",
            "acme-db",
        )
        assert tenants["globex"].url == f"libsql://globex-db-{platform.org}.turso.io"
        assert tenants["ghost"].problem == (
            f"the organization {platform.org} has no database 'ghost-db'"
        )
        assert (tenants["direct"].url, tenants["direct"].url_source) == ("file:direct.db", "column")
        assert platform.calls("listDatabases") == 1
        await registry.tenants()
        await registry.get("acme")
        assert platform.calls("listDatabases") == 1  # the missing name does not ask again

        # a row added for a database made since is found: adding asks again
        async with PlatformClient(platform.org, platform.token, base_url=platform.url) as api:
            await api.create_database("newco-db", "default")
        newco = await registry.add("newco", None, db_name="newco-db")
        assert (newco.url, newco.broken) == (f"libsql://newco-db-{platform.org}.turso.io", False)
        assert platform.calls("listDatabases") == 2
        assert registry.summary() == (
            "registry organizations · url=db_url db_name=database_name no token column · "
            "URLs of names from the Platform API"
        )
    finally:
        await registry.close()


async def test_a_platform_api_that_refuses_breaks_only_the_name_rows(
    registry_env: Path, platform
) -> None:
    make_table(
        registry_env,
        "CREATE TABLE organizations (slug TEXT, db_url TEXT, db_name TEXT)",
        ("named", None, "named-db"),
        ("direct", "file:direct.db", None),
    )
    platform.fail("listDatabases", 403, error="token has no access to this organization")
    registry = await Registry.open(load_settings())
    try:
        tenants = {t.slug: t for t in await registry.tenants()}
    finally:
        await registry.close()
    assert tenants["direct"].problem is None
    assert tenants["named"].problem == (
        "cannot find the URL of database 'named-db': Turso Platform API: listing databases: "
        "token has no access to this organization (HTTP 403)"
    )
    assert platform.token not in tenants["named"].problem


# -- everything else works on a names-only registry -----------------------------------------


def test_provisioning_migrations_sql_and_backups_on_a_names_only_registry(
    drizzle: Path,
    registry_env: Path,
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tenant created, migrated, queried and backed up where the registry keeps only names."""
    drizzle_registry(drizzle, registry_env, "names", [])
    monkeypatch.setenv("TURSOTUI_REGISTRY_TABLE", "tenants")
    tenants = isolated_env / "data" / "tenants"

    # no way to find a new database's URL from its name: refused before anything is made
    status, _, err = run(capsys, "tenants", "create", "acme")
    assert status == 1
    assert err.splitlines()[-1] == "error: " + (
        "cannot create tenant acme: the registry keeps database names, not URLs; set "
        "TURSOTUI_TENANT_URL_TEMPLATE (or TURSO_ORG and TURSO_PLATFORM_API_TOKEN) first"
    )
    assert not (tenants / "acme.db").exists()

    # a template that leads elsewhere: the new database is not left registered or behind
    monkeypatch.setenv("TURSOTUI_TENANT_URL_TEMPLATE", f"file:{tenants}/other-{{db_name}}.db")
    status, _, err = run(capsys, "tenants", "create", "acme")
    assert status == 1
    assert "its database name gives the URL" in err
    assert drizzle_rows(drizzle, registry_env, "names") == {}
    assert not (tenants / "acme.db").exists()

    monkeypatch.setenv("TURSOTUI_TENANT_URL_TEMPLATE", f"file:{tenants}/{{db_name}}.db")
    for slug in ("acme", "globex"):
        status, _, err = run(capsys, "tenants", "create", slug, "--name", slug.title())
        assert status == 0, err
    read = drizzle_rows(drizzle, registry_env, "names")
    assert {s: (r["name"], r["dbName"], r["plan"]) for s, r in read.items()} == {
        "acme": ("Acme", "acme", "free"),
        "globex": ("Globex", "globex", "free"),
    }

    status, out, _ = run(capsys, "tenants", "--json")
    listed = {r["slug"]: r for r in json.loads(out)}
    assert all(r["reachable"] and r["schema"] == "current" for r in listed.values()), listed
    assert listed["acme"]["url"] == f"file:{tenants}/acme.db"

    assert run(capsys, "migrate", "--all")[0] == 0
    status, out, err = run(
        capsys,
        "sql",
        "acme",
        "INSERT INTO posts (id, title, content, author_id) VALUES ('p1', 't', 'c', 'u1')",
        "--write",
    )
    assert status == 0, err
    status, out, _ = run(
        capsys, "sql", "acme", "SELECT count(*) AS n FROM posts", "--format", "json"
    )
    assert json.loads(out) == [{"n": 1}]
    backups = isolated_env / "backups"
    status, _, err = run(capsys, "backup", "--all", "--out", str(backups))
    assert status == 0, err
    assert run(capsys, "backup", "--verify", str(backups))[0] == 0
    manifest = json.loads((backups / "manifest.json").read_text())
    counts = {b["tenant"]: b["row_counts"]["posts"] for b in manifest["backups"]}
    assert counts == {"acme": 1, "globex": 0}


# -- a URL template against sqld's namespaces -----------------------------------------------

HOSTS = Path("/etc/hosts")
NAMESPACE_DOMAIN = "tursotui-registry.test"
"""sqld routes a request to the namespace named by the first label of its Host header, as
Turso routes `<db>-<org>.turso.io`; these names point at 127.0.0.1."""


def _resolves(host: str) -> bool:
    import socket

    try:
        return any(a[4][0] == "127.0.0.1" for a in socket.getaddrinfo(host, 80))
    except OSError:
        return False


@pytest.fixture
def loopback_names() -> Any:
    """Makes `<name>.tursotui-registry.test` reach 127.0.0.1: an /etc/hosts line, removed after.

    Skips where the names do not resolve and /etc/hosts cannot be written (not root).
    """
    added: list[str] = []

    def point(*names: str) -> None:
        for name in names:
            host = f"{name}.{NAMESPACE_DOMAIN}"
            if _resolves(host):
                continue
            line = f"127.0.0.1 {host} # tursotui test"
            try:
                with HOSTS.open("a", encoding="utf-8") as hosts:
                    hosts.write(f"\n{line}\n")
            except OSError:
                pytest.skip("the test's host names do not resolve and /etc/hosts is not writable")
            added.append(line)
            assert _resolves(host)

    yield point
    if added:
        kept = [
            line for line in HOSTS.read_text(encoding="utf-8").splitlines() if line not in added
        ]
        HOSTS.write_text("\n".join(kept).rstrip("\n") + "\n", encoding="utf-8")


@pytest.mark.servers
async def test_a_url_template_reaches_each_tenants_own_sqld_namespace(
    registry_env: Path, jwt_keys: JWTKeys, monkeypatch: pytest.MonkeyPatch, loopback_names: Any
) -> None:
    import httpx

    from support.servers import free_port, start_sqld

    admin = free_port()
    server = start_sqld(
        jwt_keys.public_key,
        extra_args=("--enable-namespaces", "--admin-listen-addr", f"127.0.0.1:{admin}"),
    )
    try:
        async with httpx.AsyncClient() as http:
            for namespace in ("acme", "globex"):
                answer = await http.post(
                    f"http://127.0.0.1:{admin}/v1/namespaces/{namespace}/create", json={}
                )
                assert answer.status_code == 200, answer.text
        loopback_names("acme", "globex", "ghost")
        token = jwt_keys.token()
        make_table(
            registry_env,
            "CREATE TABLE organizations (slug TEXT, dbName TEXT, authToken TEXT)",
            ("acme", "acme", token),
            ("globex", "globex", token),
            ("ghost", "ghost", token),
        )
        monkeypatch.setenv(
            "TURSOTUI_TENANT_URL_TEMPLATE", f"http://{{db_name}}.{NAMESPACE_DOMAIN}:{server.port}"
        )
        registry = await Registry.open(load_settings())
        try:
            tenants = {t.slug: t for t in await registry.tenants()}
            assert tenants["acme"].url == f"http://acme.{NAMESPACE_DOMAIN}:{server.port}"
            assert tenants["acme"].url_source == "template"
            for slug in ("acme", "globex"):
                async with await tenants[slug].connect() as db:
                    await db.execute(f"CREATE TABLE only_{slug} (x)")
            for slug in ("acme", "globex"):
                async with await tenants[slug].connect() as db:
                    names = await db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                    assert [r[0] for r in names.rows] == [f"only_{slug}"]  # its own database
            with pytest.raises(LibsqlError, match=r"ghost: no libSQL database at ghost\."):
                async with await tenants["ghost"].connect() as db:
                    await db.execute("SELECT 1")  # a namespace sqld does not have
        finally:
            await registry.close()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("declared", "existing", "written"),
    [
        ("INTEGER", 1_790_000_000_000, "milliseconds"),
        ("INTEGER", 1_790_000_000, "seconds"),
        ("TEXT", "2026-01-02T03:04:05.000Z", "iso"),
        ("TEXT", "2026-01-02 03:04:05", "sqlite"),
    ],
)
async def test_created_at_is_written_in_the_unit_the_rows_use(
    registry_env: Path, declared: str, existing: Any, written: str
) -> None:
    make_table(
        registry_env,
        f"CREATE TABLE organizations (id INTEGER PRIMARY KEY, slug TEXT, url TEXT, "
        f"created {declared})",
        (7, "old", "file:old.db", existing),
    )
    registry = await Registry.open(load_settings())
    try:
        new = await registry.add("new", "file:new.db")
        old = await registry.get("old")
    finally:
        await registry.close()
    assert new.id == "8"  # numbered by SQLite
    assert old.created_at == 1_790_000_000 or declared == "TEXT"
    assert abs(new.created_at - time.time()) < 60
    with sqlite3.connect(registry_env) as db:
        (value,) = db.execute("SELECT created FROM organizations WHERE slug = 'new'").fetchone()
    patterns = {
        "milliseconds": r"\d{13}",
        "seconds": r"\d{10}",
        "iso": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
        "sqlite": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
    }
    assert re.fullmatch(patterns[written], str(value)), value


def test_explain_as_json_names_each_role_and_each_broken_row(
    registry_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_table(
        registry_env,
        "CREATE TABLE organizations (subdomain TEXT, title TEXT, tenantDbUrl TEXT, token TEXT)",
        ("acme", "Acme", "file:acme.db", TOKEN),
        ("bad", "Bad", "ftp://x", ""),
    )
    monkeypatch.setenv("TURSOTUI_REGISTRY_COLUMNS", "url=tenantDbUrl")
    status, out, _ = run(capsys, "tenants", "--explain", "--json")
    assert status == 0
    report = json.loads(out)
    assert report["table"] == "organizations"
    assert report["columns"]["slug"] == {"column": "subdomain", "found": "by name"}
    assert report["columns"]["name"] == {"column": "title", "found": "by name"}
    assert report["columns"]["url"] == {"column": "tenantDbUrl", "found": "explicit mapping"}
    assert report["columns"]["token"] == {"column": "token", "found": "by name"}
    assert report["columns"]["db_name"] == {"column": None, "found": "not found"}
    assert report["urls"] == {"column": "tenantDbUrl"}
    by_slug = {t["slug"]: t for t in report["tenants"]}
    assert (by_slug["acme"]["url_from"], by_slug["acme"]["token"]) == (
        "column",
        "none",
    )  # a local file
    assert by_slug["bad"]["broken"] and "unknown scheme 'ftp'" in by_slug["bad"]["problem"]
    status, out, _ = run(capsys, "tenants", "--explain")
    assert "  bad: broken: unknown scheme 'ftp'" in out
    assert "  url         tenantDbUrl              (explicit mapping)" in out


@pytest.mark.servers
async def test_a_camelcase_registry_on_sqld_in_read_only_mode(
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqld: ServerProcess,
    jwt_keys: JWTKeys,
) -> None:
    """Columns are read over Hrana too; read-only mode reads the registry and writes nothing."""
    from tursotui.db import connect

    table = f"orgs_{os.getpid()}_{time.monotonic_ns()}"
    token = jwt_keys.token()
    tenant = tenant_file(tmp_path / "acme.db")
    async with await connect(sqld.http_url, token) as db:
        await db.batch(
            [
                f'CREATE TABLE "{table}" (id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, '
                '"dbUrl" TEXT NOT NULL, "dbToken" TEXT, "createdAt" INTEGER)',
                (f'INSERT INTO "{table}" VALUES (?, ?, ?, NULL, 1790000000)',
                 ["1", "acme", f"file:{tenant}"]),
            ]
        )  # fmt: skip
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", sqld.http_url)
    monkeypatch.setenv("TURSOTUI_REGISTRY_AUTH_TOKEN", token)
    monkeypatch.setenv("TURSOTUI_REGISTRY_TABLE", table)
    monkeypatch.setenv("TURSOTUI_READ_ONLY", "true")
    registry = await Registry.open(load_settings())
    try:
        (acme,) = await registry.tenants()
        assert (acme.slug, acme.url, acme.created_at) == ("acme", f"file:{tenant}", 1_790_000_000)
        assert registry.summary() == f"registry {table} · url=dbUrl token=dbToken"
        with pytest.raises(RegistryError, match="read-only"):
            await registry.add("beta", "file:beta.db")
    finally:
        await registry.close()
    async with await connect(sqld.http_url, token) as db:
        count = await db.execute(f'SELECT count(*) FROM "{table}"')
        await db.execute(f'DROP TABLE "{table}"')
    assert count.rows[0][0] == 1


async def test_the_tui_works_on_tenants_whose_url_came_from_the_template(
    registry_env: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tenants screen, fleet and a tenant's posts on a names-only registry."""
    from support.moderation_fixtures import settle
    from support.screen import screen_text
    from tursotui.db import connect
    from tursotui.demo.build import seed_tenant
    from tursotui.tenant.migrations import load_folder, migrate
    from tursotui.ui.app import make_app
    from tursotui.ui.screens.fleet import FleetScreen
    from tursotui.ui.screens.posts import PostsScreen
    from tursotui.ui.screens.tenants import TenantsScreen
    from tursotui.ui.widgets.sortable_list import SortableList

    tenants = isolated_env / "tenants"
    for name in ("acme-db", "globex-db"):
        async with await connect(f"file:{tenants}/{name}.db", create=True) as db:
            await migrate(db, load_folder(None))
            await seed_tenant(db, posts=5, seed=1)
    make_table(registry_env, "CREATE TABLE organizations (slug TEXT, name TEXT, dbName TEXT)")
    with sqlite3.connect(registry_env) as db:
        db.executemany(
            "INSERT INTO organizations VALUES (?, ?, ?)",
            [("acme", "Acme", "acme-db"), ("globex", "Globex", "globex-db")],
        )
    db.close()
    monkeypatch.setenv("TURSOTUI_TENANT_URL_TEMPLATE", f"file:{tenants}/{{db_name}}.db")
    app = make_app(load_settings())
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TenantsScreen)
        deadline = time.monotonic() + 10
        while any(screen.health_of(s) is None for s in ("acme", "globex")):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        assert all(screen.health_of(s).reachable for s in ("acme", "globex"))
        text = screen_text(app)
        assert "registry organizations · db_name=dbName no token column" in text
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, FleetScreen)
        table = app.screen.query_one("#fleet-table", SortableList)
        states = [str(table.get_cell(row, "state")) for row in table.ordered_keys]
        assert states == ["ok", "ok"]
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, TenantsScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PostsScreen)
        assert app.screen.tenant.slug == "acme"
        from tursotui.ui.widgets.row_list import RowList

        with sqlite3.connect(tenants / "acme-db.db") as db:
            (drafts,) = db.execute("SELECT count(*) FROM posts WHERE status = 'draft'").fetchone()
        db.close()
        assert app.screen.query_one("#posts-table", RowList).row_count == drafts > 0
        app.exit()


def test_a_database_name_where_the_registry_keeps_urls_is_refused(
    registry_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(registry_env, "CREATE TABLE organizations (slug TEXT, db_url TEXT, db_token TEXT)")
    status, _, err = run(capsys, "tenants", "add", "acme", "--db-name", "acme-db")
    assert status == 1
    assert one_error(err) == (
        f"registry {registry_env}: table 'organizations' keeps URLs (db_url), not database "
        "names: give the URL (--url) instead"
    )
    status, _, err = run(capsys, "tenants", "add", "acme")
    assert status == 2 and "give the database's --url (or --db-name)" in err
    with sqlite3.connect(registry_env) as db:
        assert db.execute("SELECT count(*) FROM organizations").fetchone() == (0,)
    db.close()


def test_a_token_written_into_the_template_never_shows(
    registry_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant_file(tmp_path / "acme-db.db")
    make_table(
        registry_env,
        "CREATE TABLE organizations (slug TEXT, dbName TEXT)",
        ("acme", "acme-db"),
    )
    monkeypatch.setenv(
        "TURSOTUI_TENANT_URL_TEMPLATE", f"file:{tmp_path}/{{db_name}}.db?authToken={TOKEN}"
    )
    status, out, _ = run(capsys, "tenants", "--json")  # `run` fails on the token in any output
    assert status == 0
    (acme,) = json.loads(out)
    assert (acme["url"], acme["has_token"], acme["reachable"]) == (
        f"file:{tmp_path}/acme-db.db",
        True,
        True,
    )
    status, out, _ = run(capsys, "tenants", "--explain")
    assert f"from the template file:{tmp_path}/{{db_name}}.db (with a token)" in out
    # a row the template makes a malformed URL of: the reason shows no token either
    with sqlite3.connect(registry_env) as db:
        db.execute("INSERT INTO organizations VALUES ('bad', 'x/../y z')")
    db.close()
    monkeypatch.setenv(
        "TURSOTUI_TENANT_URL_TEMPLATE", f"http://{{db_name}}.invalid?authToken={TOKEN}"
    )
    status, out, _ = run(capsys, "tenants", "--json")
    bad = next(r for r in json.loads(out) if r["slug"] == "bad")
    assert bad["error"].startswith("the URL template (tenant_url_template) makes 'http://x/../y z")
