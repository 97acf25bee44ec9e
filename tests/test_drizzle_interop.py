"""tursotui's migrator and drizzle-orm's own migrator continue each other's work.

Runs the real drizzle-orm libsql migrator under Node.js (installed from npm into
`.cache/drizzle` on first use) and compares what both leave in the database.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tursotui.db import connect
from tursotui.session.audit import AuditLog
from tursotui.tenant.migrations import BUILTIN_DIR, load_folder, migrate, schema_state

HERE = Path(__file__).parent / "drizzle"
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "drizzle"


@pytest.fixture(scope="module")
def drizzle() -> Path:
    """A folder with drizzle-orm and @libsql/client installed, and the runner script."""
    if shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("npm is needed for the drizzle interoperability tests")
        pytest.skip("npm is not installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "migrate.mjs", "read_post.mjs"):
        shutil.copy(HERE / name, CACHE / name)
    if not (CACHE / "node_modules" / "drizzle-orm").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return CACHE


def drizzle_migrate(runner: Path, db: Path, folder: Path) -> None:
    subprocess.run(
        ["node", str(runner / "migrate.mjs"), f"file:{db}", str(folder)],
        check=True,
        capture_output=True,
        timeout=60,
    )


def first_migrations(folder: Path, count: int, into: Path) -> Path:
    """A copy of a drizzle-kit folder whose journal stops after `count` entries."""
    shutil.copytree(folder, into)
    journal = json.loads((into / "meta" / "_journal.json").read_text())
    journal["entries"] = journal["entries"][:count]
    (into / "meta" / "_journal.json").write_text(json.dumps(journal))
    return into


def fingerprint(db: Path) -> tuple[list[tuple], list[tuple]]:
    """The schema and the migration records, which must match whichever tool wrote them."""
    with sqlite3.connect(db) as raw:
        schema = raw.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        records = raw.execute(
            "SELECT id, hash, created_at FROM __drizzle_migrations ORDER BY created_at"
        ).fetchall()
    return schema, records


async def tursotui_migrate(db: Path, folder: Path) -> list[str]:
    async with await connect(f"file:{db}", create=True) as connection:
        return [m.tag for m in await migrate(connection, load_folder(folder))]


async def test_the_same_folder_leaves_the_same_database(drizzle: Path, tmp_path: Path) -> None:
    by_drizzle, by_tursotui = tmp_path / "drizzle.db", tmp_path / "tursotui.db"
    drizzle_migrate(drizzle, by_drizzle, BUILTIN_DIR)
    applied = await tursotui_migrate(by_tursotui, BUILTIN_DIR)
    assert applied == ["0000_cold_wendigo", "0001_tursotui_indexes"]
    assert fingerprint(by_tursotui) == fingerprint(by_drizzle)
    assert [r[0] for r in fingerprint(by_tursotui)[1]] == [None, None]  # drizzle's SERIAL id


async def test_tursotui_continues_a_tenant_drizzle_half_migrated(
    drizzle: Path, tmp_path: Path
) -> None:
    half = first_migrations(BUILTIN_DIR, 1, tmp_path / "half")
    tenant, reference = tmp_path / "tenant.db", tmp_path / "reference.db"
    drizzle_migrate(drizzle, tenant, half)
    async with await connect(f"file:{tenant}") as connection:
        state = await schema_state(connection, load_folder(BUILTIN_DIR))
    assert state.label == "behind by 1"
    assert await tursotui_migrate(tenant, BUILTIN_DIR) == ["0001_tursotui_indexes"]
    drizzle_migrate(drizzle, reference, BUILTIN_DIR)
    assert fingerprint(tenant) == fingerprint(reference)


async def test_drizzle_continues_a_tenant_tursotui_half_migrated(
    drizzle: Path, tmp_path: Path
) -> None:
    half = first_migrations(BUILTIN_DIR, 1, tmp_path / "half")
    tenant, reference = tmp_path / "tenant.db", tmp_path / "reference.db"
    assert await tursotui_migrate(tenant, half) == ["0000_cold_wendigo"]
    drizzle_migrate(drizzle, tenant, BUILTIN_DIR)
    drizzle_migrate(drizzle, reference, BUILTIN_DIR)
    assert fingerprint(tenant) == fingerprint(reference)
    assert await tursotui_migrate(tenant, BUILTIN_DIR) == []


async def test_the_apps_own_folder_is_recognised(drizzle: Path, tmp_path: Path) -> None:
    """A tenant migrated by the app's drizzle folder (the fixture) needs only tursotui's indexes."""
    fixture = Path(__file__).resolve().parent / "fixtures" / "drizzle-tenant"
    tenant = tmp_path / "app.db"
    drizzle_migrate(drizzle, tenant, fixture)
    assert await tursotui_migrate(tenant, BUILTIN_DIR) == ["0001_tursotui_indexes"]


async def test_a_migration_that_skipped_an_index_already_built_leaves_drizzles_records(
    drizzle: Path, tmp_path: Path
) -> None:
    """An index built ahead of its migration (an older index advice) is skipped, not fatal.

    The records are what drizzle writes, and drizzle's migrator, run afterwards, finds the
    tenant current: either tool continues where the other stopped.
    """
    from tursotui.tenant import indexes

    half = first_migrations(BUILTIN_DIR, 1, tmp_path / "half")
    tenant, reference = tmp_path / "tenant.db", tmp_path / "reference.db"
    drizzle_migrate(drizzle, tenant, half)
    async with await connect(f"file:{tenant}") as connection:
        advice = await indexes.advise(connection)
        await connection.batch([index.sql for index in advice.missing])
    assert await tursotui_migrate(tenant, BUILTIN_DIR) == ["0001_tursotui_indexes"]
    drizzle_migrate(drizzle, reference, BUILTIN_DIR)
    assert fingerprint(tenant)[1] == fingerprint(reference)[1]
    drizzle_migrate(drizzle, tenant, BUILTIN_DIR)  # nothing left to do: no error
    assert fingerprint(tenant)[1] == fingerprint(reference)[1]


def drizzle_read_post(runner: Path, db: Path, post_id: str) -> dict:
    done = subprocess.run(
        ["node", str(runner / "read_post.mjs"), f"file:{db}", post_id],
        check=True,
        capture_output=True,
        timeout=60,
        text=True,
    )
    return json.loads(done.stdout)


async def test_drizzle_reads_back_to_draft_as_unpublished_then_a_new_date(
    drizzle: Path, tmp_path: Path
) -> None:
    """Back to draft clears published_at; drizzle's `timestamp` column then reads null, and after
    a new publish a Date of now (seconds, as drizzle stores them), not the old date."""
    import time

    from support.moderation_fixtures import fill
    from tursotui.tenant import moderation

    tenant = tmp_path / "tenant.db"
    drizzle_migrate(drizzle, tenant, BUILTIN_DIR)
    post_id = fill(tenant, published=1)["published"][0]
    old = drizzle_read_post(drizzle, tenant, post_id)
    assert old["status"] == "published" and old["publishedAt"]["date"] is True
    audit = AuditLog(tmp_path / "audit.jsonl", "tester")
    async with await connect(f"file:{tenant}") as connection:
        await moderation.set_status(connection, audit, "t", [(post_id, "published")], "draft")
        assert drizzle_read_post(drizzle, tenant, post_id) == {
            "status": "draft",
            "publishedAt": None,
        }
        start = time.time()
        await moderation.set_status(connection, audit, "t", [(post_id, "draft")], "published")
    new = drizzle_read_post(drizzle, tenant, post_id)
    assert new["status"] == "published" and new["publishedAt"]["date"] is True
    assert int(start) * 1000 <= new["publishedAt"]["ms"] <= time.time() * 1000
    assert new["publishedAt"]["ms"] != old["publishedAt"]["ms"]
