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

import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tursotui.db import Connection, LibsqlError, connect
from tursotui.db.errors import describe
from tursotui.migrations import MigrationFolder, load_folder, migrate
from tursotui.registry import Registry, RegistryError, Tenant
from tursotui.settings import Settings

Progress = Callable[[str], None]

DAY = 86_400
SPAN_DAYS = 240
"""How far back the demo's timestamps reach (about eight months)."""

BULK_CHUNK = 50_000
"""Rows per executemany call when seeding a fresh file."""

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

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Edsger",
    "Frances",
    "Guido",
    "Yukihiro",
    "Anders",
    "Rasmus",
    "Bjarne",
    "Hedy",
    "Katherine",
    "Tim",
    "Donald",
    "Leslie",
    "Niklaus",
    "Sophie",
    "Mary",
    "Lars",
    "Zoë",
    "José",
    "Ngozi",
    "Wei",
    "Priya",
    "Mateus",
    "Aiko",
    "Olu",
    "Søren",
    "Chloé",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Dijkstra",
    "Allen",
    "Rossum",
    "Matsumoto",
    "Hejlsberg",
    "Lerdorf",
    "Stroustrup",
    "Lamarr",
    "Johnson",
    "Berners-Lee",
    "Knuth",
    "Lamport",
    "Wirth",
    "Wilson",
    "Keller",
    "Okafor",
    "Zhang",
    "Sharma",
    "Silva",
    "Tanaka",
    "Adeyemi",
    "Kierkegaard",
]
WORDS = [
    "tenant",
    "database",
    "latency",
    "migration",
    "index",
    "query",
    "fleet",
    "backup",
    "replica",
    "edge",
    "cache",
    "schema",
    "token",
    "region",
    "group",
    "sqlite",
    "libsql",
    "turso",
    "drizzle",
    "release",
    "roadmap",
    "feature",
    "customer",
    "onboarding",
    "pricing",
    "invoice",
    "dashboard",
    "export",
    "import",
    "webhook",
    "retry",
    "queue",
    "monitoring",
    "incident",
    "postmortem",
    "uptime",
    "deploy",
    "rollback",
    "feedback",
    "design",
    "keyboard",
    "terminal",
    "console",
    "moderation",
    "comment",
    "draft",
    "archive",
    "publish",
    "weekly",
    "update",
    "notes",
    "performance",
    "benchmark",
    "storage",
    "compliance",
    "security",
    "audit",
    "privacy",
    "support",
    "team",
]
COMMENT_LINES = (
    "Great write-up, thanks!",
    "Could you share the numbers behind this?",
    "We saw the same thing after the last deploy.",
    "+1, this saved me an afternoon.",
    "Is there a follow-up planned?",
    "Typo in the second paragraph.",
    "How does this work with read replicas?",
    "Shipping this to our team today.",
    "I disagree with the conclusion, but good points.",
    "Any plans to open-source it?",
)
STATUS_WEIGHTS = (("published", 60), ("draft", 25), ("archived", 15))

HOSTILE_TEXTS = (
    (
        "[bold red]x[/]",
        "Markup in a title: [bold red]x[/] and [link=https://evil.example]click[/link].",
    ),
    ("unbalanced [/] closing tag", "An unbalanced [/] tag, and [/bold] and [ and ]] and [b]."),
    ("\x1b[31mred via ANSI\x1b[0m", "ANSI: \x1b[1;31mbold red\x1b[0m then \x1b[2J\x1b[H clear."),
    (
        "OSC title \x1b]0;pwned\x07",
        "OSC 52 clipboard \x1b]52;c;ZXZpbA==\x07 and a link "
        "\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\.",
    ),
    (
        "control\x00chars\x08\x7f\x9b",
        "NUL \x00, bell \x07, backspace \x08, CR \r overwrite, "
        "DEL \x7f, C1 CSI \x9b31m, form feed \x0c, vertical tab \x0b.",
    ),
    ("multi\nline\ntitle", "A title with newlines.\n\nAnd a body\twith\ttabs."),
    (
        "שלום עולם — مرحبا بالعالم",
        "Right-to-left: שלום עולם, مرحبا بالعالم, and an override \u202etxt.exe\u202c here.",
    ),
    (
        "emoji 👩‍👩‍👧‍👦🎉🔥 and zalgo z̸̢͓a̵͍͠l̷g̶o̴",
        "Wide: 漢字かなカナ한국어. Emoji: 🧑🏽‍💻🏳️‍🌈. Combining: e\u0301\u0301\u0301.",
    ),
    ("%s %d {0} ${x} \\N{BEL}", "Format strings %s %n {0} {__class__} ${HOME} `rm -rf /`."),
    ("' OR 1=1; DROP TABLE posts; --", "Robert'); DROP TABLE users;-- says hi."),
    ("x" * 2000, "A 2000-character title."),
)


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


# -- generating rows ----------------------------------------------------------------


def _format_uuid(value: int) -> str:
    """A 128-bit number as a version-4 UUID string (version and variant bits set)."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


class _IdSequence:
    """Random-looking UUIDs in increasing order, for bulk loads.

    Inserting rows in primary-key order appends to the id index instead of touching a
    random page per row, which makes a million-row load several times faster. Each step
    is at least 2**90, so consecutive ids differ above the version/variant digits.
    """

    def __init__(self, rng: random.Random, expected: int) -> None:
        self.rng = rng
        self.value = 0
        self.step = max((1 << 128) // (2 * max(expected, 1) + 2), 1 << 90)
        self.bits = self.step.bit_length()

    def __call__(self) -> str:
        self.value += self.step + self.rng.getrandbits(self.bits) % self.step
        if self.value >= 1 << 128:  # more ids than expected: plain random ones from here
            return _format_uuid(self.rng.getrandbits(128))
        return _format_uuid(self.value)


class _Rows:
    """Realistic rows for one tenant, deterministic for a given seed (except `now`)."""

    def __init__(self, seed: int, now: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        sentences = []
        for _ in range(400):
            words = self.rng.choices(WORDS, k=self.rng.randint(4, 10))
            sentences.append(" ".join(words).capitalize() + ".")
        self.sentences = sentences
        self.statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]

    def uuid(self) -> str:
        """A version-4 UUID string from the seeded generator (what `crypto.randomUUID()` makes)."""
        return _format_uuid(self.rng.getrandbits(128))

    def users(self, count: int) -> list[tuple]:
        rows, seen = [], set()
        for i in range(count):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            email = f"{first}.{last}".lower().replace(" ", "")
            if email in seen:
                email = f"{email}{i}"
            seen.add(email)
            joined = self.now - self.rng.randint(SPAN_DAYS, SPAN_DAYS * 2) * DAY
            rows.append((self.uuid(), f"{email}@example.com", f"{first} {last}", joined))
        return rows

    def _pools(self) -> tuple[list[str], list[str]]:
        rng = self.rng
        titles = [
            " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize() for _ in range(2000)
        ]
        contents = [" ".join(rng.choices(self.sentences, k=rng.randint(1, 3))) for _ in range(3000)]
        return titles, contents

    def posts(
        self, count: int, authors: list[str], chunk: int = BULK_CHUNK
    ) -> Iterator[list[tuple]]:
        """Chunks of (id, title, content, author_id, published_at, status) tuples.

        Drawn a chunk at a time from pools, so that a million posts take seconds.
        """
        rng, now, span = self.rng, self.now, SPAN_DAYS * DAY
        titles, contents = self._pools()
        next_id = _IdSequence(rng, count)
        for start in range(0, count, chunk):
            n = min(chunk, count - start)
            statuses = rng.choices(self.statuses, k=n)
            yield [
                (
                    next_id(),
                    title,
                    content,
                    author,
                    None if status == "draft" else now - int(rng.random() * span),
                    status,
                )
                for title, content, author, status in zip(
                    rng.choices(titles, k=n),
                    rng.choices(contents, k=n),
                    rng.choices(authors, k=n),
                    statuses,
                    strict=True,
                )
            ]

    def comments(
        self,
        posts: list[tuple[str, int | None]],
        authors: list[str],
        per_post: float,
        chunk: int = BULK_CHUNK,
    ) -> Iterator[list[tuple]]:
        """Chunks of (id, content, post_id, author_id, created_at), after the post's publication."""
        rng, now, month = self.rng, self.now, 30 * DAY
        oldest = now - SPAN_DAYS * DAY
        whole, fraction = int(per_post), per_post % 1
        next_id = _IdSequence(rng, int(len(posts) * (per_post + 0.5)) + 10)
        for start in range(0, len(posts), chunk):
            targets = [
                (post_id, published or oldest)
                for post_id, published in posts[start : start + chunk]
                for _ in range(whole + (1 if rng.random() < fraction else 0))
            ]
            n = len(targets)
            yield [
                (next_id(), line, post_id, author, min(now, when + int(rng.random() * month)))
                for (post_id, when), line, author in zip(
                    targets,
                    rng.choices(COMMENT_LINES, k=n),
                    rng.choices(authors, k=n),
                    strict=True,
                )
            ]


def _hostile_posts(rows: _Rows, authors: list[str]) -> list[tuple]:
    """The hostile tenant's special posts (the constraint-breaking ones come separately)."""
    posts = []
    for i, (title, content) in enumerate(HOSTILE_TEXTS):
        status = STATUS_WEIGHTS[i % 3][0]
        published = None if status == "draft" else rows.now - (i + 1) * 3600
        posts.append((rows.uuid(), title, content, authors[i % len(authors)], published, status))
    big = ("A 1 MB post. " + "lorem ipsum dolor sit amet " * 40_000)[: 1 << 20]
    posts.append((rows.uuid(), "A one-megabyte post", big, authors[0], rows.now - 60, "published"))
    for status in ("flagged", "", "PUBLISHED", "draft "):
        posts.append(
            (
                rows.uuid(),
                f"unknown status {status!r}",
                "status outside draft|published|archived",
                authors[1 % len(authors)],
                rows.now - 7200,
                status,
            )
        )
    posts.append(
        (
            rows.uuid(),
            "published_at in milliseconds",
            "written by a buggy client",
            authors[0],
            rows.now * 1000,
            "published",
        )
    )
    posts.append(
        (
            rows.uuid(),
            "published_at as text",
            "an ISO date where seconds belong",
            authors[0],
            "2025-01-01T00:00:00Z",
            "published",
        )
    )
    posts.append(
        (
            rows.uuid(),
            "orphan post",
            "its author_id names no user",
            str(uuid.UUID(int=0, version=4)),
            rows.now - 5000,
            "published",
        )
    )
    posts.append(
        (
            rows.uuid(),
            "a blob for content",
            b"\x00\xff\xfe binary",
            authors[0],
            rows.now - 9000,
            "draft",
        )
    )
    return posts


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


def _user_count(posts: int) -> int:
    return max(4, min(posts // 20, 400))


def _comments_per_post(posts: int) -> float:
    return 1.0 if posts >= 100_000 else 1.6


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
            The NOT NULL violations need a schema change and are only made by `build_demo`.

    Raises:
        LibsqlError: the tenant refused the writes.
    """
    rows = _Rows(seed, int(time.time()))
    users = rows.users(_user_count(posts))
    authors = [u[0] for u in users]
    post_rows = [p for chunk in rows.posts(posts, authors) for p in chunk]
    if hostile:
        post_rows += _hostile_posts(rows, authors)
    dated = [(p[0], _as_int(p[4])) for p in post_rows]
    comment_rows = [
        c for chunk in rows.comments(dated, authors, _comments_per_post(posts)) for c in chunk
    ]
    if hostile:
        comment_rows += _hostile_comments(rows, post_rows, authors)
    statements: list[tuple[str, list]] = []
    statements += [(INSERT_USER, list(u)) for u in users]
    statements += [(INSERT_POST, list(p)) for p in post_rows]
    statements += [(INSERT_COMMENT, list(c)) for c in comment_rows]
    for start in range(0, len(statements), 400):
        await connection.batch(statements[start : start + 400])


INSERT_USER = "INSERT INTO users (id, email, name, created_at) VALUES (?, ?, ?, ?)"
INSERT_POST = (
    "INSERT INTO posts (id, title, content, author_id, published_at, status) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_COMMENT = (
    "INSERT INTO comments (id, content, post_id, author_id, created_at) VALUES (?, ?, ?, ?, ?)"
)


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and value < 10**11 else None


def _hostile_comments(rows: _Rows, posts: list[tuple], authors: list[str]) -> list[tuple]:
    target = posts[0][0]
    texts = [t for pair in HOSTILE_TEXTS for t in pair] + ["💬" * 500]
    return [
        (rows.uuid(), text, target, authors[i % len(authors)], rows.now - i * 60)
        for i, text in enumerate(texts)
    ]


def _seed_file(path: Path, spec: DemoTenant, seed: int, now: int) -> None:
    """Bulk-load a tenant file that was just migrated (no one else has it open)."""
    rows = _Rows(seed, now)
    users = rows.users(_user_count(spec.posts))
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
        extra = _hostile_posts(rows, authors) if spec.kind == "hostile" else []
        db.executemany(INSERT_POST, extra)
        dated.extend((p[0], _as_int(p[4])) for p in extra)
        for chunk in rows.comments(dated, authors, _comments_per_post(spec.posts)):
            db.executemany(INSERT_COMMENT, chunk)
        if spec.kind == "hostile":
            db.executemany(INSERT_COMMENT, _hostile_comments(rows, extra, authors))
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


class DemoError(Exception):
    """The demo fleet cannot be built; the message says why."""


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


__all__ = ["DemoError", "DemoTenant", "build_demo", "plan", "seed_tenant", "tenants_dir"]
