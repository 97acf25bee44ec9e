"""What the demo fleet holds: realistic rows as the app writes them, and hostile content.

Rows are generated a chunk at a time from pools of titles and sentences, with ids
from an increasing sequence, so that a million posts take seconds to make and load.
Ids are UUID strings and timestamps integer seconds, as the app (Drizzle,
`crypto.randomUUID()`) writes them; content is deterministic for a given seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

DAY = 86_400
SPAN_DAYS = 240
"""How far back the demo's timestamps reach (about eight months)."""

BULK_CHUNK = 50_000
"""Rows per executemany call when seeding a fresh file."""

_FIRST_NAMES_TEXT = (
    "Ada Grace Alan Linus Margaret Dennis Barbara Ken Radia Edsger Frances Guido Yukihiro Anders "
    "Rasmus Bjarne Hedy Katherine Tim Donald Leslie Niklaus Sophie Mary Lars Zoë José Ngozi Wei "
    "Priya Mateus Aiko Olu Søren Chloé"
)
FIRST_NAMES = tuple(_FIRST_NAMES_TEXT.split())

_LAST_NAMES_TEXT = (
    "Lovelace Hopper Turing Torvalds Hamilton Ritchie Liskov Thompson Perlman Dijkstra Allen "
    "Rossum Matsumoto Hejlsberg Lerdorf Stroustrup Lamarr Johnson Berners-Lee Knuth Lamport Wirth "
    "Wilson Keller Okafor Zhang Sharma Silva Tanaka Adeyemi Kierkegaard"
)
LAST_NAMES = tuple(_LAST_NAMES_TEXT.split())

_WORDS_TEXT = (
    "tenant database latency migration index query fleet backup replica edge cache schema token "
    "region group sqlite libsql turso drizzle release roadmap feature customer onboarding pricing "
    "invoice dashboard export import webhook retry queue monitoring incident postmortem uptime "
    "deploy rollback feedback design keyboard terminal console moderation comment draft archive "
    "publish weekly update notes performance benchmark storage compliance security audit privacy "
    "support team"
)
WORDS = tuple(_WORDS_TEXT.split())

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


class Rows:
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


def hostile_posts(rows: Rows, authors: list[str], *, orphan: bool = True) -> list[tuple]:
    """The hostile tenant's special posts (the NOT NULL-breaking ones come separately).

    Args:
        rows: The tenant's row generator.
        authors: User ids to attribute posts to.
        orphan: Include a post whose author does not exist; servers that enforce
            foreign keys (sqld) refuse it, as a real Turso database would.
    """
    # Deliberately mixed: some of these rows break the column types on purpose.
    posts: list[tuple[object, ...]] = []
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
    if orphan:
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


def user_count(posts: int) -> int:
    """Authors of a tenant with `posts` posts: several, never thousands."""
    return max(4, min(posts // 20, 400))


def comments_per_post(posts: int) -> float:
    """Average comments per post (fewer for the bulk tenants, to keep them quick to build)."""
    return 1.0 if posts >= 100_000 else 1.6


INSERT_USER = "INSERT INTO users (id, email, name, created_at) VALUES (?, ?, ?, ?)"
INSERT_POST = (
    "INSERT INTO posts (id, title, content, author_id, published_at, status) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_COMMENT = (
    "INSERT INTO comments (id, content, post_id, author_id, created_at) VALUES (?, ?, ?, ?, ?)"
)


def as_int(value: object) -> int | None:
    """A `published_at` usable as seconds, or None (hostile rows hold text or milliseconds)."""
    return value if isinstance(value, int) and value < 10**11 else None


def hostile_comments(rows: Rows, posts: list[tuple], authors: list[str]) -> list[tuple]:
    target = posts[0][0]
    texts = [t for pair in HOSTILE_TEXTS for t in pair] + ["💬" * 500]
    return [
        (rows.uuid(), text, target, authors[i % len(authors)], rows.now - i * 60)
        for i, text in enumerate(texts)
    ]
