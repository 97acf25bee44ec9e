"""The demo fleet: a local registry and tenant databases with realistic, varied and hostile data.

`build_demo` is idempotent: a tenant database is built under a temporary name and
renamed into place only when complete, so an existing file is a finished tenant and
is left alone; registry rows are added only when their slug is missing. Re-running
changes nothing.

The fleet (with the default six tenants):

- ordinary tenants of different sizes (the first holds `posts` posts, which may be
  a million); several authors each, all three statuses, comments, timestamps in
  integer seconds spread over months, UUID ids, as the app writes them;
- `mallory`: hostile content (markup, ANSI and OSC escapes, control characters,
  right-to-left text, emoji, a 1 MB post, unknown statuses, NULL in NOT NULL
  columns through a `posts` table rebuilt without the constraint, a post whose
  author does not exist);
- `laggard`: one migration behind the built-in folder;
- `ghost`: a registry row with an unknown URL scheme (broken).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tursotui.db import Connection, LibsqlError, connect
from tursotui.db.errors import describe
from tursotui.demo.data import (
    INSERT_COMMENT,
    INSERT_POST,
    INSERT_USER,
    Rows,
    as_int,
    comments_per_post,
    hostile_comments,
    hostile_posts,
    user_count,
)
from tursotui.errors import TursotuiError
from tursotui.session.registry import Registry, RegistryError, Tenant
from tursotui.session.settings import Settings
from tursotui.tenant.migrations import MigrationFolder, load_folder, migrate

Progress = Callable[[str], None]

ORDINARY = [
    ("acme", "Acme Corporation"),
    ("globex", "Globex"),
    ("initech", "Initech"),
    ("umbrella", "Umbrella Health"),
    ("hooli", "Hooli"),
    ("soylent", "Soylent Foods"),
    ("wayne", "Wayne Enterprises"),
    ("stark", "Stark Industries"),
]
HOSTILE = ("mallory", "Mallory's [bold red]Evil[/] Corp")
BEHIND = ("laggard", "Laggard Ltd (one migration behind)")
BROKEN = ("ghost", "Ghost Inc (broken row)", "ftp://files.example.com/ghost.db")


@dataclass(frozen=True)
class DemoTenant:
    """One planned demo tenant.

    Attributes:
        slug: Registry slug and file name.
        name: Display name.
        posts: How many ordinary posts it gets.
        kind: `ordinary`, `hostile` or `behind`.
    """

    slug: str
    name: str
    posts: int
    kind: str = "ordinary"


def plan(tenants: int, posts: int) -> list[DemoTenant]:
    """The tenants `build_demo` makes: the first holds `posts` posts, the others vary in size.

    With three or more tenants, one is hostile and one is a migration behind.
    """
    count = max(1, tenants)
    special: list[DemoTenant] = []
    if count >= 2:
        special.append(DemoTenant(HOSTILE[0], HOSTILE[1], min(posts, 40), "hostile"))
    if count >= 3:
        special.append(DemoTenant(BEHIND[0], BEHIND[1], min(posts, 60), "behind"))
    ordinary = []
    for i in range(count - len(special)):
        slug, name = ORDINARY[i % len(ORDINARY)]
        if i >= len(ORDINARY):
            slug, name = f"{slug}{i // len(ORDINARY) + 1}", f"{name} {i // len(ORDINARY) + 1}"
        # the first tenant is the big one; the others are a varied share of it, capped so
        # that `--posts 1000000` builds one million-post tenant, not six
        size = posts if i == 0 else min(posts, 300) * (2 + (i * 7) % 9) // 10
        ordinary.append(DemoTenant(slug, name, max(size, 1 if posts else 0)))
    return ordinary + special


_NULLABLE_POSTS = (
    "CREATE TABLE `posts_without_not_null` (\n"
    "\t`id` text PRIMARY KEY NOT NULL,\n"
    "\t`title` text,\n"
    "\t`content` text,\n"
    "\t`author_id` text,\n"
    "\t`published_at` integer,\n"
    "\t`status` text DEFAULT 'draft',\n"
    "\tFOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action\n"
    ")"
)


def _relax_posts(db: sqlite3.Connection) -> None:
    """Rebuild `posts` without its NOT NULL constraints, as a hand-edited database might be."""
    indexes = [
        sql
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'posts' "
            "AND sql IS NOT NULL"
        )
    ]
    db.execute(_NULLABLE_POSTS)
    db.execute("INSERT INTO posts_without_not_null SELECT * FROM posts")
    db.execute("DROP TABLE posts")
    db.execute("ALTER TABLE posts_without_not_null RENAME TO posts")
    for sql in indexes:
        db.execute(sql)


# -- seeding ---------------------------------------------------------------------------


async def seed_tenant(
    connection: Connection, *, posts: int, seed: int = 0, hostile: bool = False
) -> None:
    """Fill an already migrated tenant with users, posts and comments, through its connection.

    Works for any transport (a sqld tenant in tests, a local file); in batches of a few
    hundred statements, each batch one transaction.

    Args:
        connection: A writable connection to a migrated tenant.
        posts: How many ordinary posts.
        seed: Makes the content (not the timestamps) reproducible.
        hostile: Add the hostile posts and comments (markup, escapes, 1 MB, unknown statuses).
            The NOT NULL violations (a schema change) and the post whose author does not
            exist (servers enforcing foreign keys refuse it) are only made by `build_demo`.

    Raises:
        LibsqlError: the tenant refused the writes.
    """
    rows = Rows(seed, int(time.time()))
    users = rows.users(user_count(posts))
    authors = [u[0] for u in users]
    post_rows = [p for chunk in rows.posts(posts, authors) for p in chunk]
    if hostile:
        # no post with a missing author: sqld enforces foreign keys, as Turso does
        post_rows += hostile_posts(rows, authors, orphan=False)
    dated = [(p[0], as_int(p[4])) for p in post_rows]
    comment_rows = [
        c for chunk in rows.comments(dated, authors, comments_per_post(posts)) for c in chunk
    ]
    if hostile:
        comment_rows += hostile_comments(rows, post_rows, authors)
    statements: list[tuple[str, list]] = []
    statements += [(INSERT_USER, list(u)) for u in users]
    statements += [(INSERT_POST, list(p)) for p in post_rows]
    statements += [(INSERT_COMMENT, list(c)) for c in comment_rows]
    for start in range(0, len(statements), 400):
        await connection.batch(statements[start : start + 400])


def _seed_file(path: Path, spec: DemoTenant, seed: int, now: int) -> None:
    """Bulk-load a tenant file that was just migrated (no one else has it open)."""
    rows = Rows(seed, now)
    users = rows.users(user_count(spec.posts))
    authors = [u[0] for u in users]
    db = sqlite3.connect(path, isolation_level=None)
    try:
        # A file nobody else has seen yet (it is renamed into place when done): no journal,
        # no syncs. In WAL mode the whole load would be written twice (WAL, then checkpoint).
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("BEGIN")
        db.executemany(INSERT_USER, users)
        dated: list[tuple[str, int | None]] = []
        for chunk in rows.posts(spec.posts, authors):
            db.executemany(INSERT_POST, chunk)
            dated.extend((p[0], p[4]) for p in chunk)
        extra = hostile_posts(rows, authors) if spec.kind == "hostile" else []
        db.executemany(INSERT_POST, extra)
        dated.extend((p[0], as_int(p[4])) for p in extra)
        for chunk in rows.comments(dated, authors, comments_per_post(spec.posts)):
            db.executemany(INSERT_COMMENT, chunk)
        if spec.kind == "hostile":
            db.executemany(INSERT_COMMENT, hostile_comments(rows, extra, authors))
            _relax_posts(db)
            db.executemany(
                INSERT_POST,
                [
                    (
                        rows.uuid(),
                        None,
                        "this post's title is NULL",
                        authors[0],
                        now - 100,
                        "published",
                    ),
                    (
                        rows.uuid(),
                        "this post's content is NULL",
                        None,
                        authors[0],
                        now - 200,
                        "draft",
                    ),
                    (
                        rows.uuid(),
                        "this post's status is NULL",
                        "status NULL",
                        authors[0],
                        None,
                        None,
                    ),
                ],
            )
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()


# -- building the fleet -------------------------------------------------------------


class DemoError(TursotuiError):
    """The demo fleet cannot be built; the message says why."""

    title = "Demo"


def tenants_dir(settings: Settings) -> Path:
    """Where local tenant databases live: `<data dir>/tenants`."""
    return settings.data_dir / "tenants"


async def _build_tenant(path: Path, spec: DemoTenant, folder: MigrationFolder, seed: int) -> None:
    """Make one tenant file: migrate, bulk-load, then (unless behind) the rest of the migrations.

    The indexes of the later migrations are built after the bulk load, which is much
    faster than maintaining them row by row.
    """
    building = path.with_name(path.name + ".building")
    for leftover in (building, *(building.with_name(building.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    first = MigrationFolder(folder.path, folder.migrations[:1])
    connection = await connect(f"file:{building}", name=spec.slug, create=True)
    try:
        await migrate(connection, first)
    finally:
        await connection.close()
    _seed_file(building, spec, seed, int(time.time()))
    if spec.kind != "behind":
        connection = await connect(f"file:{building}", name=spec.slug)
        try:
            await migrate(connection, folder)
        finally:
            await connection.close()
    building.rename(path)


async def build_tenant_file(
    path: Path, posts: int, *, seed: int = 0, kind: str = "ordinary"
) -> Path:
    """Build one migrated, seeded tenant database at `path` unless it already exists.

    The same bulk path as the demo fleet (the benchmarks' million-post tenant uses it).

    Args:
        path: Where the file goes; an existing file is left as it is.
        posts: How many posts.
        seed: Makes the content reproducible.
        kind: `ordinary`, `hostile` or `behind`.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        await _build_tenant(
            path, DemoTenant(path.stem, path.stem, posts, kind), load_folder(None), seed
        )
    return path


async def build_demo(
    settings: Settings,
    *,
    tenants: int = 6,
    posts: int = 200,
    progress: Progress | None = None,
) -> list[Tenant]:
    """Build (idempotently) the demo fleet in the local registry of `settings`.

    Args:
        settings: Its registry must be a `file:` database (created when missing);
            tenant files go under `<data dir>/tenants`.
        tenants: How many tenant databases (one of them hostile, one behind, from three on).
        posts: Posts of the first, biggest tenant; the others get a varied share (at most 300).
        progress: Called with a line of text as each tenant is done.

    Returns:
        The registry's tenants after the build, including the broken demo row.

    Raises:
        DemoError: read-only mode, or a registry that is not a local file.
        RegistryError: the registry cannot be opened or written.
        MigrationError: the built-in migrations cannot be applied.
    """
    say = progress or (lambda _line: None)
    if settings.read_only:
        raise DemoError("the demo writes databases, and read-only mode is on")
    location = settings.registry_location
    if not location.startswith("file:"):
        raise DemoError(
            "the demo builds a local fleet, but the registry is remote; "
            "unset TURSOTUI_REGISTRY_URL (and TURSO_DATABASE_URL) to use the local one"
        )
    folder = load_folder(None)
    directory = tenants_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        connection = await connect(location, name="registry", create=True)
    except LibsqlError as error:
        raise RegistryError(f"registry: {describe(error)}") from None
    registry = Registry(connection, settings.registry_table)
    try:
        await registry.create_table()
        known = {t.slug for t in await registry.tenants()}
        for index, spec in enumerate(plan(tenants, posts)):
            path = (directory / f"{spec.slug}.db").resolve()
            if path.exists():
                say(f"{spec.slug}: already built")
            else:
                start = time.perf_counter()
                await _build_tenant(path, spec, folder, seed=index)
                say(f"{spec.slug}: built, {spec.posts} posts ({time.perf_counter() - start:.1f} s)")
            if spec.slug not in known:
                await registry.add(spec.slug, f"file:{path}", None, spec.name)
                known.add(spec.slug)
        if tenants >= 3 and BROKEN[0] not in known:
            await _add_broken_row(registry)
        return await registry.tenants()
    finally:
        await registry.close()


async def _add_broken_row(registry: Registry) -> None:
    """A row no URL parser accepts: the registry must show it as broken, not crash."""
    slug, name, url = BROKEN
    columns = await registry.columns()
    values = {
        "id": str(uuid.uuid4()),
        "slug": slug,
        "name": name,
        "db_url": url,
        "db_token": "",
        "created_at": int(time.time()),
    }
    values = {k: v for k, v in values.items() if k in columns}
    names = ", ".join(f"`{k}`" for k in values)
    marks = ", ".join("?" for _ in values)
    try:
        await registry.connection.execute(
            f"INSERT INTO `{registry.table}` ({names}) VALUES ({marks})", list(values.values())
        )
    except LibsqlError as error:
        raise RegistryError(f"registry: {describe(error)}") from None


__all__ = [
    "DemoError",
    "DemoTenant",
    "build_demo",
    "build_tenant_file",
    "plan",
    "seed_tenant",
    "tenants_dir",
]
