"""The registry reads what drizzle and hands left in it; broken rows never hide healthy ones."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from support.secrets_watch import CANARY
from tursotui.session.registry import Registry, RegistryError
from tursotui.session.settings import load_settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DRIZZLE_REGISTRY = FIXTURES / "drizzle-registry" / "0000_square_zeigeist.sql"
TOKEN = f"{CANARY}-tenant-token"


def drizzle_registry(path: Path) -> None:
    """A registry made by the app's own drizzle-kit migration (the fixture)."""
    text = DRIZZLE_REGISTRY.read_text(encoding="utf-8")
    with sqlite3.connect(path) as db:
        for statement in text.split("--> statement-breakpoint"):
            db.execute(statement)


def schema(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()


async def open_registry(path: Path, monkeypatch: pytest.MonkeyPatch, table: str | None = None):
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", f"file:{path}")
    if table:
        monkeypatch.setenv("TURSOTUI_REGISTRY_TABLE", table)
    return await Registry.open(load_settings())


async def test_a_drizzle_made_registry_is_read_without_altering_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meta.db"
    drizzle_registry(path)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO organizations VALUES ('id-1', 'Acme', 'acme', "
            "'libsql://acme-org.turso.io', ?, 1790000000)",
            [TOKEN],
        )
        db.execute(
            "INSERT INTO organizations VALUES ('id-2', 'Local', 'local', 'file:local.db', '', NULL)"
        )
    before = schema(path)
    registry = await open_registry(path, monkeypatch)
    try:
        tenants = await registry.tenants()
    finally:
        await registry.close()
    assert [(t.slug, t.name, t.url, t.broken) for t in tenants] == [
        ("acme", "Acme", "libsql://acme-org.turso.io", False),
        ("local", "Local", "file:local.db", False),
    ]
    acme, local = tenants
    assert acme.token is not None and acme.token.get_secret_value() == TOKEN
    assert acme.id == "id-1" and acme.created_at == 1790000000
    assert acme.is_remote and acme.host == "acme-org.turso.io"
    assert acme.masked_token == "••••••" and local.masked_token == "(none)"
    assert local.token is None
    assert TOKEN not in repr(acme) and TOKEN not in str(acme)
    assert schema(path) == before


async def test_extra_columns_and_missing_id_and_created_at_are_tolerated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meta.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE organizations (slug TEXT NOT NULL, name TEXT, db_url TEXT, "
            "db_token TEXT, plan TEXT, region TEXT)"
        )
        db.execute(
            "INSERT INTO organizations VALUES ('beta', 'Beta', 'https://beta.example.com', "
            "NULL, 'pro', 'eu')"
        )
    registry = await open_registry(path, monkeypatch)
    try:
        (beta,) = await registry.tenants()
        assert (beta.slug, beta.url, beta.id, beta.created_at, beta.broken) == (
            "beta",
            "https://beta.example.com",
            None,
            None,
            False,
        )
        added = await registry.add("gamma", "http://127.0.0.1:8080", TOKEN, "Gamma")
        assert added.name == "Gamma" and added.token.get_secret_value() == TOKEN
    finally:
        await registry.close()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT slug, plan, region FROM organizations ORDER BY slug").fetchall()
        columns = [r[1] for r in db.execute("PRAGMA table_info(organizations)")]
    assert rows == [("beta", "pro", "eu"), ("gamma", None, None)]
    assert "id" not in columns  # the registry's shape is not changed


async def test_a_custom_table_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "meta.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tenant_dbs (slug TEXT, db_url TEXT, name TEXT)")
        db.execute("INSERT INTO tenant_dbs VALUES ('one', 'file:one.db', 'One')")
    registry = await open_registry(path, monkeypatch, table="tenant_dbs")
    try:
        assert [t.slug for t in await registry.tenants()] == ["one"]
    finally:
        await registry.close()


async def test_broken_rows_are_listed_with_their_reason_beside_healthy_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meta.db"
    with sqlite3.connect(path) as db:
        # no UNIQUE index on slug, no NOT NULL: a hand-made registry
        db.execute(
            "CREATE TABLE organizations (id TEXT, name TEXT, slug TEXT, db_url TEXT, "
            "db_token TEXT, created_at INTEGER)"
        )
        db.executemany(
            "INSERT INTO organizations VALUES (?, ?, ?, ?, '', ?)",
            [
                ("1", "Good", "good", "libsql://good-org.turso.io", 1),
                ("2", "Empty", "empty", "", 2),
                ("3", "Null", "nullurl", None, 3),
                ("4", "FTP", "ftp", "ftp://files.example.com/x.db", 4),
                ("5", "Dup first", "dup", "file:first.db", 5),
                ("6", "Dup second", "dup", "file:second.db", 6),
                ("7", "No slug", None, "file:x.db", 7),
                ("8", "Spaces", "spaces", "http://bad host", 8),
                ("9", "Bare host", "bare", "bare-org.turso.io", 9),
            ],
        )
    registry = await open_registry(path, monkeypatch)
    try:
        tenants = await registry.tenants()
        problems = {t.name: t.problem for t in tenants}
        assert problems["Good"] is None
        assert problems["Bare host"] is None  # read as libsql://
        assert problems["Empty"] == "the row has no database URL"
        assert problems["Null"] == "the row has no database URL"
        assert "unknown scheme 'ftp'" in problems["FTP"]
        assert problems["Dup first"] is None
        assert "duplicate slug 'dup'" in problems["Dup second"]
        assert problems["No slug"] == "the row has no slug"
        assert "white space" in problems["Spaces"]
        assert (await registry.get("good")).url == "libsql://good-org.turso.io"
        assert (await registry.get("dup")).url == "file:first.db"
        with pytest.raises(RegistryError, match="tenant ftp: unknown scheme"):
            await registry.get("ftp")
        with pytest.raises(RegistryError, match="tenant ftp: unknown scheme"):
            await next(t for t in tenants if t.slug == "ftp").connect()
        with pytest.raises(RegistryError, match="no tenant 'nobody'"):
            await registry.get("nobody")
    finally:
        await registry.close()


async def test_the_earlier_created_row_keeps_a_slug_whatever_the_table_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are read in table order; slugs alike (even in case) are decided by creation."""
    path = tmp_path / "meta.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE organizations (id TEXT, name TEXT, slug TEXT, db_url TEXT, "
            "db_token TEXT, created_at INTEGER)"
        )
        rows = [
            (str(i), f"Tenant {i}", f"t{i:04d}", f"file:t{i}.db", "", 100 + i) for i in range(500)
        ]
        rows += [
            # written last, created first: these are the originals
            ("later", "Dup later", "dup", "file:later.db", "", 1),
            ("upper", "Upper", "Case", "file:upper.db", "", 2),
        ]
        rows.insert(0, ("first", "Dup first", "dup", "file:first.db", "", 50))
        rows.insert(1, ("lower", "Lower", "case", "file:lower.db", "", 60))
        db.executemany("INSERT INTO organizations VALUES (?, ?, ?, ?, ?, ?)", rows)
    registry = await open_registry(path, monkeypatch)
    try:
        tenants = await registry.tenants()
        problems = {t.name: t.problem for t in tenants}
        assert problems["Dup later"] is None
        assert "duplicate slug 'dup'" in problems["Dup first"]
        assert (await registry.get("dup")).url == "file:later.db"
        # the same slug but for case: both usable, listed in the order they were created
        assert problems["Upper"] is None and problems["Lower"] is None
        slugs = [t.slug for t in tenants]
        assert slugs.index("Case") < slugs.index("case")
        assert len(tenants) == 504 and sum(t.broken for t in tenants) == 1
        assert slugs[2:] == sorted(slugs[2:], key=str.lower)
    finally:
        await registry.close()


async def test_a_registry_without_its_table_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meta.db"
    sqlite3.connect(path).close()
    with pytest.raises(RegistryError) as caught:
        await open_registry(path, monkeypatch)
    assert str(caught.value) == (
        f"registry {path}: there is no table 'organizations'; the database has no tables "
        "(is TURSOTUI_REGISTRY_URL right?)"
    )


async def test_a_missing_table_error_lists_the_tables_and_the_likely_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meta.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        db.execute("CREATE TABLE tenants (id TEXT, slug TEXT, dbName TEXT)")
        db.execute("CREATE TABLE __drizzle_migrations (id INTEGER, hash TEXT)")
    with pytest.raises(RegistryError) as caught:
        await open_registry(path, monkeypatch)
    assert str(caught.value) == (
        f"registry {path}: there is no table 'organizations'; it has tenants, users; "
        "tenants looks like a registry (set TURSOTUI_REGISTRY_TABLE=tenants)"
    )


async def test_a_table_without_url_or_database_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meta.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE organizations (slug TEXT, website TEXT, plan TEXT)")
    with pytest.raises(RegistryError) as caught:
        await open_registry(path, monkeypatch)
    assert str(caught.value) == (
        f"registry {path}: table 'organizations' has no database URL or database name column "
        "(columns: slug, website, plan); say which with TURSOTUI_REGISTRY_COLUMNS=url=<column> "
        "(or db_name=<column>)"
    )


async def test_a_missing_registry_file_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "nowhere.db"
    with pytest.raises(RegistryError, match=f"registry {path}: no database file at {path}"):
        await open_registry(path, monkeypatch)
    assert not path.exists()


async def test_the_owned_registry_is_created_with_drizzles_shape(isolated_env: Path) -> None:
    registry = await Registry.open(load_settings())
    await registry.close()
    path = isolated_env / "data" / "registry.db"
    reference = isolated_env / "reference.db"
    drizzle_registry(reference)

    def normalise(rows: list[tuple]) -> list[tuple]:
        plain = [(t, n, (s or "").replace("IF NOT EXISTS ", "")) for t, n, s in rows]
        return [(t, n, " ".join(s.split())) for t, n, s in plain]

    assert normalise(schema(path)) == normalise(schema(reference))


async def test_add_remove_and_set_token(isolated_env: Path) -> None:
    registry = await Registry.open(load_settings())
    try:
        tenant = await registry.add("acme", "file:acme.db", None, "Acme")
        assert tenant.id and len(tenant.id) == 36
        assert abs(tenant.created_at - time.time()) < 60  # seconds, not milliseconds
        with pytest.raises(RegistryError, match="acme is already in the registry"):
            await registry.add("acme", "file:other.db")
        with pytest.raises(RegistryError, match="tenant bad: unknown scheme"):
            await registry.add("bad", "ftp://x")
        await registry.set_token("acme", TOKEN)
        assert (await registry.get("acme")).token.get_secret_value() == TOKEN
        await registry.remove("acme")
        assert await registry.tenants() == []
        with pytest.raises(RegistryError, match="no tenant 'acme'"):
            await registry.remove("acme")
    finally:
        await registry.close()


async def test_read_only_mode_refuses_registry_writes(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await (await Registry.open(load_settings())).close()  # creates the owned registry
    monkeypatch.setenv("TURSOTUI_READ_ONLY", "true")
    registry = await Registry.open(load_settings())
    try:
        with pytest.raises(RegistryError, match="read-only"):
            await registry.add("acme", "file:acme.db")
    finally:
        await registry.close()


async def test_a_token_in_the_url_is_moved_out_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libsql clients accept `?authToken=`; tursotui shows URLs, so it must not keep it there."""
    path = tmp_path / "meta.db"
    drizzle_registry(path)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO organizations VALUES ('1', 'Acme', 'acme', ?, '', 1)",
            [f"libsql://acme-org.turso.io?authToken={TOKEN}"],
        )
    registry = await open_registry(path, monkeypatch)
    try:
        (acme,) = await registry.tenants()
        assert acme.url == "libsql://acme-org.turso.io"
        assert acme.token.get_secret_value() == TOKEN
        added = await registry.add("beta", f"https://beta.example.com?tls=1&authToken={TOKEN}")
        assert added.url == "https://beta.example.com?tls=1"
        assert added.token.get_secret_value() == TOKEN
    finally:
        await registry.close()
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT db_url, db_token FROM organizations WHERE slug = 'beta'")
        assert stored.fetchall() == [("https://beta.example.com?tls=1", TOKEN)]


async def test_a_primed_list_answers_the_next_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TUI's start hands its read to the first screen; every later read reads the table."""
    path = tmp_path / "meta.db"
    drizzle_registry(path)
    registry = await open_registry(path, monkeypatch)
    try:
        await registry.add("acme", "file:acme.db")
        first = await registry.tenants()
        registry.prime(first)
        with sqlite3.connect(path) as db:  # another process adds a tenant meanwhile
            db.execute(
                "INSERT INTO organizations VALUES ('x', 'Globex', 'globex', 'file:g.db', '', 2)"
            )
        db.close()
        assert [t.slug for t in await registry.tenants()] == ["acme"]  # the primed read
        assert [t.slug for t in await registry.tenants()] == ["acme", "globex"]
        registry.prime(first)
        await registry.add("initech", "file:i.db")  # a change through the registry: no stale list
        assert [t.slug for t in await registry.tenants()] == ["acme", "globex", "initech"]
    finally:
        await registry.close()


def test_a_tenant_is_a_frozen_record_that_never_shows_its_token() -> None:
    """Equal and hashed by its fields (a cached parsed URL aside), read-only, and its repr
    names every field but the token."""
    from tursotui.secret import Secret
    from tursotui.session.registry import Tenant

    made = Tenant("acme", "Acme", "file:acme.db", Secret(CANARY), db_name="acme-db")
    read = Tenant.of_row(
        "acme", "Acme", "file:acme.db", Secret(CANARY), None, None, None, "acme-db", "column"
    )
    assert made.host == "acme.db"  # parses and keeps the URL: still equal
    assert made == read and hash(made) == hash(read) and len({made, read}) == 1
    assert made != Tenant("acme", "Acme", "file:acme.db", Secret("other"), db_name="acme-db")
    assert made != Tenant("acme", "Acme", "file:other.db", Secret(CANARY), db_name="acme-db")
    with pytest.raises(AttributeError):
        made.slug = "globex"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del made.name
    assert made.slug == "acme" and made.name == "Acme"
    shown = repr(made)
    assert CANARY not in shown and "token" not in shown
    assert shown == (
        "Tenant(slug='acme', name='Acme', url='file:acme.db', id=None, created_at=None, "
        "problem=None, db_name='acme-db', url_source='column')"
    )
