"""The demo fleet: realistic, varied, hostile where asked, and idempotent."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from tursotui.db import connect
from tursotui.demo.build import DemoError, build_demo, plan, seed_tenant, tenants_dir
from tursotui.session.registry import Registry
from tursotui.session.settings import Settings, load_settings
from tursotui.tenant.migrations import load_folder, migrate, schema_state


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as raw:
        return raw.execute(sql).fetchall()


def fingerprint(settings: Settings) -> dict[str, str]:
    """Every file of the fleet by content hash (the registry included)."""
    files = sorted(settings.data_dir.rglob("*.db"))
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def fleet_settings(data: Path) -> Settings:
    """Settings naming only `data`: built without reading any environment or file."""
    return Settings(data_dir=data, operator="tester")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default demo fleet, built once for the read-only checks of this module."""
    data = tmp_path_factory.mktemp("fleet")
    asyncio.run(build_demo(fleet_settings(data)))
    return data


def test_the_plan_has_a_hostile_and_a_lagging_tenant() -> None:
    kinds = [(t.slug, t.kind) for t in plan(6, 200)]
    assert len(kinds) == 6
    assert ("mallory", "hostile") in kinds and ("laggard", "behind") in kinds
    assert plan(6, 1_000_000)[0].posts == 1_000_000
    assert max(t.posts for t in plan(6, 1_000_000)[1:]) <= 300  # one big tenant, not six
    assert [t.kind for t in plan(1, 10)] == ["ordinary"]
    assert len({t.slug for t in plan(20, 10)}) == 20


async def test_the_registry_lists_the_fleet_with_one_broken_row(fleet: Path) -> None:
    registry = await Registry.open(fleet_settings(fleet))
    try:
        tenants = await registry.tenants()
    finally:
        await registry.close()
    assert len(tenants) == 7
    broken = [t for t in tenants if t.broken]
    assert [t.slug for t in broken] == ["ghost"]
    assert "unknown scheme" in broken[0].problem
    for tenant in tenants:
        if not tenant.broken:
            assert tenant.url == f"file:{(fleet / 'tenants' / tenant.slug).resolve()}.db"


async def test_every_tenant_is_migrated_but_the_laggard(fleet: Path) -> None:
    folder = load_folder(None)
    labels = {}
    for db in sorted((fleet / "tenants").glob("*.db")):
        async with await connect(f"file:{db}", read_only=True) as connection:
            labels[db.stem] = (await schema_state(connection, folder)).label
    assert labels == {
        "acme": "current",
        "globex": "current",
        "initech": "current",
        "umbrella": "current",
        "mallory": "current",
        "laggard": "behind by 1",
    }


def test_ordinary_data_looks_like_the_apps(fleet: Path) -> None:
    db = fleet / "tenants" / "acme.db"
    assert rows(db, "SELECT count(*) FROM posts") == [(200,)]
    statuses = dict(rows(db, "SELECT status, count(*) FROM posts GROUP BY 1"))
    assert set(statuses) == {"draft", "published", "archived"}
    assert all(count >= 10 for count in statuses.values())
    (authors,) = rows(db, "SELECT count(DISTINCT author_id) FROM posts")[0]
    assert authors >= 4
    assert rows(db, "SELECT count(*) FROM comments")[0][0] >= 200
    # ids are UUIDs, timestamps integer seconds spread over months
    for (post_id,) in rows(db, "SELECT id FROM posts LIMIT 20"):
        assert uuid.UUID(post_id).version == 4
    now = time.time()
    low, high, kinds = rows(
        db,
        "SELECT min(published_at), max(published_at), group_concat(DISTINCT typeof(published_at)) "
        "FROM posts WHERE status != 'draft'",
    )[0]
    assert kinds == "integer"
    assert now - 300 * 86400 < low and high <= now
    assert high - low > 90 * 86400
    assert rows(
        db, "SELECT count(*) FROM posts WHERE status = 'draft' AND published_at IS NOT NULL"
    ) == [(0,)]
    assert rows(db, "SELECT count(*) FROM comments WHERE typeof(created_at) != 'integer'") == [(0,)]
    # foreign keys hold in an ordinary tenant
    assert rows(db, "PRAGMA foreign_key_check") == []


def test_the_hostile_tenant_holds_everything_a_screen_must_survive(fleet: Path) -> None:
    db = fleet / "tenants" / "mallory.db"
    titles = [t for (t,) in rows(db, "SELECT title FROM posts") if isinstance(t, str)]
    contents = [c for (c,) in rows(db, "SELECT content FROM posts")]
    text = "\n".join(titles) + "\n".join(c for c in contents if isinstance(c, str))
    assert "[bold red]x[/]" in text
    assert "[/]" in text
    assert "\x1b[31m" in text  # ANSI
    assert "\x1b]0;" in text and "\x1b]52;" in text  # OSC title and clipboard
    assert "\x00" in text and "\x08" in text and "\x9b" in text  # control characters
    assert "\u202e" in text and "שלום" in text  # right-to-left
    assert "👩‍👩‍👧‍👦" in text
    assert rows(db, "SELECT max(length(content)) FROM posts") == [(1 << 20,)]
    statuses = {s for (s,) in rows(db, "SELECT DISTINCT status FROM posts")}
    assert {"flagged", "", None} <= statuses
    assert rows(db, "SELECT count(*) FROM posts WHERE title IS NULL") == [(1,)]
    assert rows(db, "SELECT count(*) FROM posts WHERE content IS NULL") == [(1,)]
    assert rows(db, "SELECT count(*) FROM posts WHERE typeof(content) = 'blob'") == [(1,)]
    assert rows(db, "SELECT count(*) FROM posts WHERE author_id NOT IN (SELECT id FROM users)") == [
        (1,)
    ]
    # the built-in indexes survived the rebuild of `posts` without NOT NULL
    names = {n for (n,) in rows(db, "SELECT name FROM sqlite_master WHERE tbl_name = 'posts'")}
    assert {"posts_status_published_at_idx", "posts_author_id_idx"} <= names
    hostile_comments = rows(db, "SELECT content FROM comments WHERE content LIKE '%[/]%'")
    assert hostile_comments


async def test_rebuilding_changes_nothing(isolated_env: Path) -> None:
    settings = load_settings()
    first = await build_demo(settings, tenants=3, posts=30)
    before = fingerprint(settings)
    lines: list[str] = []
    second = await build_demo(settings, tenants=3, posts=30, progress=lines.append)
    assert fingerprint(settings) == before
    assert [(t.slug, t.url, t.id) for t in second] == [(t.slug, t.url, t.id) for t in first]
    assert lines == ["acme: already built", "mallory: already built", "laggard: already built"]


async def test_an_interrupted_build_is_finished_next_time(isolated_env: Path) -> None:
    settings = load_settings()
    folder = tenants_dir(settings)
    folder.mkdir(parents=True)
    (folder / "acme.db.building").write_bytes(b"half a database")
    await build_demo(settings, tenants=1, posts=5)
    assert not (folder / "acme.db.building").exists()
    assert rows(folder / "acme.db", "SELECT count(*) FROM posts") == [(5,)]


async def test_a_removed_registry_row_comes_back_without_rebuilding(isolated_env: Path) -> None:
    settings = load_settings()
    await build_demo(settings, tenants=1, posts=5)
    db = tenants_dir(settings) / "acme.db"
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    with sqlite3.connect(settings.data_dir / "registry.db") as raw:
        raw.execute("DELETE FROM organizations")
    (tenant,) = await build_demo(settings, tenants=1, posts=5)
    assert tenant.slug == "acme"
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


async def test_the_demo_refuses_read_only_mode_and_remote_registries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(DemoError, match="read-only"):
        await build_demo(load_settings(read_only=True))
    monkeypatch.setenv("TURSOTUI_REGISTRY_URL", "https://registry.example.com")
    with pytest.raises(DemoError, match="registry is remote"):
        await build_demo(load_settings())


async def test_seed_tenant_fills_a_migrated_tenant_through_its_connection(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    async with await connect(f"file:{db}", create=True) as connection:
        await migrate(connection, load_folder(None))
        await seed_tenant(connection, posts=50, seed=3, hostile=True)
        counts = dict((await connection.execute(
            "SELECT status, count(*) FROM posts GROUP BY 1"
        )).rows)  # fmt: skip
    assert sum(counts.values()) > 50  # the ordinary ones and the hostile ones
    assert counts.get("flagged") == 1
    assert rows(db, "SELECT max(length(content)) FROM posts") == [(1 << 20,)]
    assert rows(db, "SELECT count(*) FROM comments")[0][0] > 50


async def test_a_big_tenant_is_built_in_bulk(isolated_env: Path) -> None:
    """20k posts and their comments in a few seconds (a million takes well under a minute)."""
    settings = load_settings()
    start = time.perf_counter()
    await build_demo(settings, tenants=1, posts=20_000)
    elapsed = time.perf_counter() - start
    db = tenants_dir(settings) / "acme.db"
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM posts") == [(20_000, 20_000)]
    assert rows(db, "SELECT count(*) FROM comments")[0][0] > 20_000
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert elapsed < 15


@pytest.fixture(scope="module", params=["sqld", "tursodb"])
def server_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A real sqld and a real tursodb of this module's own (no auth), one at a time."""
    from support.servers import running, start_sqld, start_tursodb

    workdir = tmp_path_factory.mktemp(request.param)
    start = {
        "sqld": lambda: start_sqld(None, workdir=workdir),
        "tursodb": lambda: start_tursodb(workdir),
    }[request.param]
    with running(start) as server:
        yield server.http_url


@pytest.mark.servers
async def test_hostile_content_survives_the_wire_byte_for_byte(server_url: str) -> None:
    """seed_tenant over Hrana HTTP: escapes, NUL, RTL, a 1 MB body and a blob come back exact."""
    from tursotui.demo.data import HOSTILE_TEXTS

    async with await connect(server_url, name="remote") as connection:
        await migrate(connection, load_folder(None))
        await seed_tenant(connection, posts=20, seed=7, hostile=True)
        titles = {
            row[0]
            for row in (await connection.execute("SELECT title FROM posts")).rows
            if row[0] is not None
        }
        longest = await connection.execute(
            "SELECT length(content), substr(content, 1, 13) FROM posts "
            "ORDER BY length(content) DESC LIMIT 1"
        )
        blob = await connection.execute("SELECT content FROM posts WHERE typeof(content) = 'blob'")
        statuses = await connection.execute("SELECT DISTINCT status FROM posts")
    assert {title for title, _ in HOSTILE_TEXTS} <= titles
    assert tuple(longest.rows[0]) == (1 << 20, "A 1 MB post. ")
    assert blob.rows[0][0] == b"\x00\xff\xfe binary"
    assert "flagged" in {row[0] for row in statuses.rows}
