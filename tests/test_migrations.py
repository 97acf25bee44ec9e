"""The migrator against the app's drizzle-kit folder (tests/fixtures/drizzle-tenant), without Node.

Known answers: drizzle records `hash` = SHA-256 hex of the file's text and
`created_at` = the journal's `when`, with a NULL `id` (its `SERIAL` column). The
tests against drizzle-orm's own migrator are in test_drizzle_interop.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tursotui.db import connect
from tursotui.fleet.migrate import migrate_fleet
from tursotui.session.audit import AuditLog
from tursotui.session.registry import Registry
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.tenant.migrations import (
    BUILTIN_DIR,
    MigrationError,
    MigrationFolder,
    load_folder,
    migrate,
    schema_state,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "drizzle-tenant"


@pytest.fixture
def app_folder(tmp_path: Path) -> Path:
    """A copy of the app's drizzle-kit migrations folder."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "drizzle"))


def add_migration(folder: Path, tag: str, sql: str, when_step: int = 86_400_000) -> None:
    """Append a migration to a drizzle-kit folder, as `drizzle-kit generate` would."""
    journal_path = folder / "meta" / "_journal.json"
    journal = json.loads(journal_path.read_text())
    last = journal["entries"][-1]
    journal["entries"].append(
        {
            "idx": last["idx"] + 1,
            "version": "6",
            "when": last["when"] + when_step,
            "tag": tag,
            "breakpoints": True,
        }
    )
    journal_path.write_text(json.dumps(journal, indent=2))
    (folder / f"{tag}.sql").write_text(sql)


def records(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as raw:
        return raw.execute(
            "SELECT id, hash, created_at FROM __drizzle_migrations ORDER BY created_at"
        ).fetchall()


def tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as raw:
        return [
            r[0]
            for r in raw.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]


async def run_migrate(db: Path, folder: Path, **kwargs) -> list[str]:
    async with await connect(f"file:{db}", name="t1", create=True) as connection:
        return [m.tag for m in await migrate(connection, load_folder(folder), **kwargs)]


def drizzle_by_hand(db: Path, folder: Path, count: int) -> None:
    """What drizzle's migrator leaves after applying the first `count` migrations."""
    journal = json.loads((folder / "meta" / "_journal.json").read_text())
    with sqlite3.connect(db) as raw:
        raw.execute(
            'CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, '
            "hash text NOT NULL, created_at numeric)"
        )
        for entry in journal["entries"][:count]:
            text = (folder / f"{entry['tag']}.sql").read_text()
            for statement in text.split("--> statement-breakpoint"):
                raw.execute(statement)
            raw.execute(
                'INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)',
                [hashlib.sha256(text.encode()).hexdigest(), entry["when"]],
            )


async def test_the_apps_folder_leaves_drizzles_records(app_folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "tenant.db"
    assert await run_migrate(db, app_folder) == ["0000_cold_wendigo"]
    text = (app_folder / "0000_cold_wendigo.sql").read_text()
    assert records(db) == [(None, hashlib.sha256(text.encode()).hexdigest(), 1795703888022)]
    assert tables(db) == [
        "__drizzle_migrations", "comments", "posts", "users", "users_email_unique",
    ]  # fmt: skip
    reference = tmp_path / "reference.db"
    drizzle_by_hand(reference, app_folder, 1)
    assert records(db) == records(reference)
    with sqlite3.connect(db) as a, sqlite3.connect(reference) as b:
        # the app's tables exactly as drizzle-kit wrote them (drizzle's own DDL for
        # __drizzle_migrations is compared in test_drizzle_interop.py)
        query = "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE '%drizzle%' ORDER BY name"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
        columns = "SELECT name, type FROM pragma_table_info('__drizzle_migrations')"
        assert a.execute(columns).fetchall() == b.execute(columns).fetchall()


async def test_migrating_again_does_nothing(app_folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "tenant.db"
    await run_migrate(db, app_folder)
    assert await run_migrate(db, app_folder) == []
    assert len(records(db)) == 1


async def test_a_tenant_half_migrated_by_drizzle_is_continued(
    app_folder: Path, tmp_path: Path
) -> None:
    add_migration(
        app_folder,
        "0001_add_bio",
        "ALTER TABLE `users` ADD `bio` text;--> statement-breakpoint\n"
        "CREATE INDEX `posts_author_idx` ON `posts` (`author_id`);",
    )
    db = tmp_path / "tenant.db"
    drizzle_by_hand(db, app_folder, 1)
    async with await connect(f"file:{db}") as connection:
        state = await schema_state(connection, load_folder(app_folder))
    assert (state.label, state.applied, state.current_tag) == (
        "behind by 1",
        1,
        "0000_cold_wendigo",
    )
    assert [m.tag for m in state.pending] == ["0001_add_bio"]
    assert await run_migrate(db, app_folder) == ["0001_add_bio"]
    reference = tmp_path / "reference.db"
    drizzle_by_hand(reference, app_folder, 2)
    assert records(db) == records(reference)
    assert "posts_author_idx" in tables(db)
    with sqlite3.connect(db) as raw:
        assert "bio" in [r[1] for r in raw.execute("PRAGMA table_info(users)")]


async def test_the_app_tenant_needs_only_the_builtin_indexes(
    app_folder: Path, tmp_path: Path
) -> None:
    """The built-in folder starts with the app's own 0000 file, so drizzle's record counts."""
    db = tmp_path / "tenant.db"
    drizzle_by_hand(db, app_folder, 1)
    assert await run_migrate(db, BUILTIN_DIR) == ["0001_tursotui_indexes"]
    assert {"posts_status_published_at_idx", "comments_post_id_created_at_idx"} <= set(tables(db))


async def test_a_tenant_ahead_of_the_folder_is_refused(app_folder: Path, tmp_path: Path) -> None:
    newer = Path(shutil.copytree(app_folder, tmp_path / "newer"))
    add_migration(newer, "0001_future", "CREATE TABLE `future` (`id` text);")
    db = tmp_path / "tenant.db"
    await run_migrate(db, newer)
    before = records(db)
    async with await connect(f"file:{db}") as connection:
        state = await schema_state(connection, load_folder(app_folder))
        assert state.ahead and state.label == "ahead"
        with pytest.raises(MigrationError, match="newer than"):
            await migrate(connection, load_folder(app_folder))
    assert records(db) == before


async def test_a_failing_migration_applies_nothing(app_folder: Path, tmp_path: Path) -> None:
    add_migration(
        app_folder,
        "0001_broken",
        "CREATE TABLE `tags` (`id` text);--> statement-breakpoint\n"
        "CREATE TABLE `users` (`x` text);",
    )
    db = tmp_path / "tenant.db"
    with pytest.raises(MigrationError) as caught:
        await run_migrate(db, app_folder)
    assert "t1: migration failed, nothing applied" in str(caught.value)
    assert "table `users` already exists" in str(caught.value)
    # 0000 and 0001 were pending together: one transaction, so neither is there
    assert tables(db) == ["__drizzle_migrations"]
    assert records(db) == []


async def test_a_dry_run_writes_nothing(app_folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "tenant.db"
    sqlite3.connect(db).close()
    assert await run_migrate(db, app_folder, dry_run=True) == ["0000_cold_wendigo"]
    assert tables(db) == []


def test_a_breakpoint_after_a_statement_on_the_same_line_splits_it() -> None:
    folder = load_folder(None)
    indexes = folder.migrations[1]
    assert len(indexes.statements) == 4
    assert all(s.strip().startswith("CREATE INDEX") for s in indexes.statements)
    assert (
        indexes.hash
        == hashlib.sha256((BUILTIN_DIR / f"{indexes.tag}.sql").read_bytes()).hexdigest()
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "meta" / "_journal.json").unlink(), "no meta/_journal.json"),
        (lambda f: (f / "meta" / "_journal.json").write_text("{not json"), "malformed"),
        (lambda f: (f / "meta" / "_journal.json").write_text('{"entries": 3}'), "malformed"),
        (lambda f: (f / "meta" / "_journal.json").write_text('{"version": "7"}'), "malformed"),
        (
            lambda f: (f / "meta" / "_journal.json").write_text('{"entries": [{"idx": 0}]}'),
            "journal entry 0 is malformed",
        ),
        (lambda f: (f / "0000_cold_wendigo.sql").unlink(), "cannot read 0000_cold_wendigo.sql"),
    ],
)
def test_a_bad_journal_is_one_clear_error(app_folder: Path, damage, message: str) -> None:
    damage(app_folder)
    with pytest.raises(MigrationError) as caught:
        load_folder(app_folder)
    assert str(caught.value).startswith(f"migrations folder {app_folder}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_the_fleet_is_migrated_past_failures_and_audited(
    app_folder: Path, tmp_path: Path
) -> None:
    settings = load_settings(migrations_dir=app_folder)
    registry = await Registry.open(settings)
    workspace = Workspace(settings, registry)
    ahead = Path(shutil.copytree(app_folder, tmp_path / "ahead"))
    add_migration(ahead, "0001_future", "CREATE TABLE `future` (`id` text);")
    try:
        for slug in ("fresh", "done", "future"):
            sqlite3.connect(tmp_path / f"{slug}.db").close()
            await registry.add(slug, f"file:{tmp_path / slug}.db")
        await registry.add("gone", f"file:{tmp_path / 'gone.db'}")
        await run_migrate(tmp_path / "done.db", app_folder)
        await run_migrate(tmp_path / "future.db", ahead)
        seen: list[str] = []
        outcomes = await migrate_fleet(
            workspace,
            await registry.tenants(),
            concurrency=2,
            progress=lambda o: seen.append(o.slug),
        )
    finally:
        await workspace.close()
    summary = {o.slug: (o.outcome, o.summary) for o in outcomes}
    assert summary["fresh"] == ("applied", "applied 1 (0000_cold_wendigo)")
    assert summary["done"] == ("current", "already current")
    assert summary["future"][0] == "ahead"
    assert summary["gone"][0] == "failed" and "no database file" in summary["gone"][1]
    assert sorted(seen) == sorted(summary)
    assert "users" in tables(tmp_path / "fresh.db")
    log = AuditLog(settings.data_dir / "audit.jsonl", "x").entries()
    assert [(e.action, e.tenant, e.status) for e in log] == [
        ("migrate", "fresh", "pending"),
        ("migrate", "fresh", "ok"),
    ]
    assert log[1].after == "0000_cold_wendigo"


async def test_a_dry_run_of_the_fleet_writes_nothing(app_folder: Path, tmp_path: Path) -> None:
    settings = load_settings(migrations_dir=app_folder)
    workspace = await Workspace.open(settings)
    try:
        sqlite3.connect(tmp_path / "fresh.db").close()
        await workspace.registry.add("fresh", f"file:{tmp_path / 'fresh.db'}")
        (outcome,) = await migrate_fleet(
            workspace, await workspace.registry.tenants(), dry_run=True
        )
    finally:
        await workspace.close()
    assert outcome.summary == "would apply 1 (0000_cold_wendigo)"
    assert tables(tmp_path / "fresh.db") == []
    assert not (settings.data_dir / "audit.jsonl").exists()


def test_an_empty_journal_is_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "_journal.json").write_text('{"version": "7", "entries": []}')
    folder = load_folder(tmp_path)
    assert folder == MigrationFolder(tmp_path, [])
    assert folder.latest is None


# -- index advice and migrations never conflict ------------------------------------------


def _builtin_upto(count: int) -> MigrationFolder:
    folder = load_folder(BUILTIN_DIR)
    return MigrationFolder(folder.path, folder.migrations[:count])


def _records(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as raw:
        return raw.execute(
            "SELECT id, hash, created_at FROM __drizzle_migrations ORDER BY created_at"
        ).fetchall()


async def test_a_migration_finding_its_index_already_built_the_same_way_skips_it(
    tmp_path: Path,
) -> None:
    """What an older `i` did: the index under the migration's own name, then `migrate`."""
    from tursotui.tenant import indexes

    tenant, reference = tmp_path / "tenant.db", tmp_path / "reference.db"
    async with await connect(f"file:{tenant}", create=True) as connection:
        await migrate(connection, _builtin_upto(1))
        advice = await indexes.advise(connection)
        await connection.batch([index.sql for index in advice.missing[:2]])  # IF NOT EXISTS
        applied = await migrate(connection, load_folder(BUILTIN_DIR))
        assert [m.tag for m in applied] == ["0001_tursotui_indexes"]
        assert (await schema_state(connection, load_folder(BUILTIN_DIR))).label == "current"
        assert (await indexes.advise(connection)).label == "ok"
    async with await connect(f"file:{reference}", create=True) as connection:
        await migrate(connection, load_folder(BUILTIN_DIR))
    # The records are byte for byte what a straight run (and drizzle) writes.
    assert _records(tenant) == _records(reference)
    with sqlite3.connect(tenant) as raw:
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {i.name for i in indexes.wanted_indexes()} <= names


async def test_an_index_of_that_name_built_differently_still_fails_the_migration(
    tmp_path: Path,
) -> None:
    tenant = tmp_path / "tenant.db"
    async with await connect(f"file:{tenant}", create=True) as connection:
        await migrate(connection, _builtin_upto(1))
        await connection.execute('CREATE INDEX "posts_status_published_at_idx" ON posts (title)')
        with pytest.raises(MigrationError, match="already exists"):
            await migrate(connection, load_folder(BUILTIN_DIR))
        assert (await schema_state(connection, load_folder(BUILTIN_DIR))).label == "behind by 1"


async def test_missing_indexes_a_pending_migration_creates_are_planned_as_that_migration(
    tmp_path: Path,
) -> None:
    from tursotui.tenant import indexes

    behind, dropped = tmp_path / "behind.db", tmp_path / "dropped.db"
    folder = load_folder(BUILTIN_DIR)
    async with await connect(f"file:{behind}", create=True) as connection:
        await migrate(connection, _builtin_upto(1))
        advice = await indexes.advise(connection)
        plan = await indexes.plan(connection, advice.missing, folder)
    assert [m.tag for m in plan.migrations] == ["0001_tursotui_indexes"]
    assert set(plan.covered) == set(advice.missing) and plan.create == ()
    async with await connect(f"file:{dropped}", create=True) as connection:
        await migrate(connection, folder)
        await connection.execute("DROP INDEX posts_author_id_idx")  # current, one dropped
        advice = await indexes.advise(connection)
        plan = await indexes.plan(connection, advice.missing, folder)
    assert plan.migrations == () and [i.name for i in plan.create] == ["posts_author_id_idx"]
