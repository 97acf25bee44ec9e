"""Helpers for the fleet tests: a local registry with migrated, filled tenant files."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.faults import FaultProxy
from support.servers import ServerProcess, running, start_sqld
from tursotui.db import connect
from tursotui.session.settings import Settings, load_settings
from tursotui.session.workspace import Workspace
from tursotui.tenant.migrations import load_folder, migrate

BASE_TIME = 1_700_000_000


async def make_tenant_file(path: Path, *, migrated: bool = True, indexes: bool = True) -> None:
    """Create a tenant database; `indexes=False` stops after the schema (no built-in indexes)."""
    conn = await connect(f"file:{path}", create=True, name=path.stem)
    try:
        if migrated:
            folder = load_folder(None)
            if not indexes:
                folder = type(folder)(folder.path, folder.migrations[:1])
            await migrate(conn, folder)
    finally:
        await conn.close()


def fill(
    path: Path,
    *,
    drafts: int = 0,
    published: int = 0,
    comments: int = 0,
    start: int = BASE_TIME,
    step: int = 60,
    prefix: str = "",
) -> dict[str, list[str]]:
    """Insert posts and comments with distinct times (`start + n*step`); returns ids by kind.

    Drafts get a `published_at` too (drafts that were published once and sent back),
    so their order across tenants is by time.
    """
    db = sqlite3.connect(path)
    author = str(uuid.uuid4())
    db.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?)", (author, f"{author}@example.com", "Author", start)
    )
    ids: dict[str, list[str]] = {"draft": [], "published": [], "comment": []}
    n = 0
    for status, count in (("draft", drafts), ("published", published)):
        for i in range(count):
            n += 1
            post_id = str(uuid.uuid4())
            db.execute(
                "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?)",
                (post_id, f"{prefix}{status} {i}", "body", author, start + n * step, status),
            )
            ids[status].append(post_id)
    posts = ids["draft"] + ids["published"]
    for c in range(comments):
        comment_id = str(uuid.uuid4())
        db.execute(
            "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
            (comment_id, f"{prefix}comment {c}", posts[c % len(posts)], author, start + c * step),
        )
        ids["comment"].append(comment_id)
    db.commit()
    db.close()
    return ids


def rows(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Read a tenant file directly, as another process would."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


async def open_workspace(**overrides: object) -> Workspace:
    """A workspace on the test's own local registry (data dir isolated by conftest)."""
    settings: Settings = load_settings(**overrides)
    return await Workspace.open(settings)


async def add_local(
    workspace: Workspace, slug: str, *, migrated: bool = True, indexes: bool = True
) -> Path:
    """Create, migrate and register a local tenant; returns its file."""
    path = workspace.settings.data_dir / "tenants" / f"{slug}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    await make_tenant_file(path, migrated=migrated, indexes=indexes)
    await workspace.registry.add(slug, f"file:{path}")
    return path


# -- real servers ---------------------------------------------------------


@pytest.fixture(scope="module")
def fleet_sqld() -> Iterator[ServerProcess]:
    """A sqld of the fleet tests' own (no auth), so its schema is theirs to migrate."""
    with running(start_sqld) as server:
        yield server


@pytest.fixture
async def sqld_tenant_url(fleet_sqld: ServerProcess) -> str:
    """The URL of the fleet sqld's database, migrated with the built-in folder."""
    conn = await connect(fleet_sqld.http_url, name="sqld")
    try:
        await migrate(conn, load_folder(None))
    finally:
        await conn.close()
    return fleet_sqld.http_url


@pytest.fixture
def slow_proxy(fleet_sqld: ServerProcess) -> Iterator[FaultProxy]:
    """A fault proxy in front of the fleet sqld (pass-through until told otherwise)."""
    proxy = FaultProxy(("127.0.0.1", fleet_sqld.port)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
