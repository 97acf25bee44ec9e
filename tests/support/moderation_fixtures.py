"""Helpers for the moderation tests: a migrated tenant file with posts, users and comments."""

from __future__ import annotations

import random
import sqlite3
import uuid
from pathlib import Path

import pytest

from tursotui.db import connect
from tursotui.tenant.migrations import load_folder, migrate

BASE_TIME = 1_700_000_000


async def make_tenant(path: Path) -> None:
    """Create and migrate an empty tenant database at `path` (the built-in migrations)."""
    conn = await connect(f"file:{path}", create=True, name=path.stem)
    try:
        await migrate(conn, load_folder(None))
    finally:
        await conn.close()


def _generate(
    drafts: int, published: int, archived: int, prefix: str, comments_per_post: int
) -> tuple[list[tuple], list[tuple], list[tuple], dict[str, list[str]]]:
    rng = random.Random(f"{prefix}/{drafts}/{published}/{archived}")  # same data every run

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    users = [(new_id(), f"u{i}@example.com", f"Author {i}", BASE_TIME) for i in range(2)]
    posts, comments = [], []
    ids: dict[str, list[str]] = {"draft": [], "published": [], "archived": []}
    n = 0
    for status, count in (("draft", drafts), ("published", published), ("archived", archived)):
        for i in range(count):
            n += 1
            post_id = new_id()
            when = None if status == "draft" else BASE_TIME + n * 60
            posts.append(
                (
                    post_id,
                    f"{prefix}{status} {i}",
                    f"body of {status} {i}",
                    users[i % 2][0],
                    when,
                    status,
                )
            )
            ids[status].append(post_id)
            for c in range(comments_per_post):
                comments.append(
                    (
                        new_id(),
                        f"comment {c} on {status} {i}",
                        post_id,
                        users[c % 2][0],
                        BASE_TIME + c,
                    )
                )
    ids["draft"].reverse()  # undated posts: newest inserted first
    ids["published"].reverse()
    ids["archived"].reverse()
    return users, posts, comments, ids


def fill(
    path: Path,
    *,
    drafts: int = 0,
    published: int = 0,
    archived: int = 0,
    prefix: str = "",
    comments_per_post: int = 0,
) -> dict[str, list[str]]:
    """Insert posts by two authors; returns post ids per status, newest first as lists show them.

    Published/archived posts get distinct published_at values (newest has the largest);
    titles are `<prefix><status> <n>`.
    """
    users, posts, comments, ids = _generate(drafts, published, archived, prefix, comments_per_post)
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", users)
    db.executemany("INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)", posts)
    db.executemany("INSERT INTO comments VALUES (?, ?, ?, ?, ?)", comments)
    db.commit()
    db.close()
    return ids


async def fill_remote(
    url: str,
    token: str | None = None,
    *,
    drafts: int = 0,
    published: int = 0,
    archived: int = 0,
    prefix: str = "",
    comments_per_post: int = 0,
) -> dict[str, list[str]]:
    """Like `fill`, on a remote database: emptied, migrated, then filled through the connection."""
    users, posts, comments, ids = _generate(drafts, published, archived, prefix, comments_per_post)
    conn = await connect(url, token, name="remote")
    try:
        await conn.batch(
            [
                f"DROP TABLE IF EXISTS {t}"
                for t in ("comments", "posts", "users", "__drizzle_migrations")
            ]
        )
        await migrate(conn, load_folder(None))
        statements = [("INSERT INTO users VALUES (?, ?, ?, ?)", list(u)) for u in users]
        statements += [("INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)", list(p)) for p in posts]
        statements += [("INSERT INTO comments VALUES (?, ?, ?, ?, ?)", list(c)) for c in comments]
        await conn.batch(statements)
    finally:
        await conn.close()
    return ids


async def remote_rows(url: str, sql: str, args: tuple = (), token: str | None = None) -> list:
    """Read a remote database on a connection of its own, as another process would."""
    conn = await connect(url, token, name="check")
    try:
        return [tuple(r) for r in (await conn.execute(sql, list(args))).rows]
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def own_sqld(tmp_path_factory):
    """A sqld of this test module's own (no auth), so its database is ours alone."""
    from support.servers import running, start_sqld

    with running(lambda: start_sqld(None, workdir=tmp_path_factory.mktemp("sqld"))) as server:
        yield server


@pytest.fixture
def slow_proxy(own_sqld):
    """A fault proxy in front of `own_sqld`, passing through, counting requests."""
    from support.faults import FaultProxy

    proxy = FaultProxy(("127.0.0.1", own_sqld.port)).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def rows(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Read the tenant file directly, as another process would."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


async def workspace_with(tmp_path: Path, tenants: dict[str, dict], *, read_only: bool = False):
    """A Workspace on a local registry holding one migrated, filled tenant per entry.

    `tenants` maps a slug to `fill()` keyword arguments; returns (workspace, {slug: (path, ids)}).
    """
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    settings = load_settings()
    workspace = await Workspace.open(settings)
    made = {}
    for slug, spec in tenants.items():
        path = tmp_path / f"{slug}.db"
        await make_tenant(path)
        made[slug] = (path, fill(path, **spec))
        await workspace.registry.add(slug, f"file:{path}", None, name=slug.capitalize())
    if read_only:
        await workspace.close()
        workspace = await Workspace.open(load_settings(read_only=True))
    return workspace, made


def make_test_app(workspace):
    """The real app (make_app) on `workspace`, with a blank first screen if the tenants
    screen is not there yet."""
    from textual.screen import Screen

    from tursotui.ui.app import TursotuiApp, make_app

    try:
        import tursotui.ui.screens.tenants  # noqa: F401

        return make_app(workspace.settings, workspace)
    except ModuleNotFoundError:

        class BlankFirstApp(TursotuiApp):
            CSS_PATH = str(Path(__import__("tursotui.ui.app").ui.app.__file__).parent / "app.tcss")

            def get_default_screen(self) -> Screen:
                return Screen()

        return BlankFirstApp(workspace.settings, workspace)


async def settle(app, pilot) -> None:
    """Wait until every worker is done and the screen has repainted."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def until_confirm(app, pilot, timeout: float = 10.0) -> None:
    """Wait until the app asks for a confirmation (the asking worker may take a moment)."""
    from support.screen import until
    from tursotui.ui.screens.confirm import ConfirmScreen

    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout)
