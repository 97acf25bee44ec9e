"""Helpers for the shell and tenants-screen tests: a small fleet, a silent server, screen text."""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tursotui.db import connect
from tursotui.demo.build import seed_tenant
from tursotui.session.registry import Registry
from tursotui.session.settings import Settings, load_settings
from tursotui.tenant.migrations import load_folder, migrate

HOSTILE_NAME = "[bold red]Evil[/] \x1b[31mCorp\u202e"
SECRET = "sekrit-token-0123456789"


@dataclass
class Fleet:
    """A registry with tenants, and where their files are."""

    settings: Settings
    paths: dict[str, Path]


async def add_tenant(
    registry: Registry,
    settings: Settings,
    slug: str,
    *,
    posts: int | None = 10,
    name: str | None = None,
    token: str | None = None,
    hostile: bool = False,
) -> Path:
    """A local tenant file, migrated and seeded (`posts=None`: an empty, unmigrated database)."""
    path = settings.data_dir / "tenants" / f"{slug}.db"
    conn = await connect(f"file:{path}", create=True, name=slug)
    try:
        if posts is not None:
            await migrate(conn, load_folder(None))
            await seed_tenant(conn, posts=posts, seed=len(slug), hostile=hostile)
        else:
            await conn.execute("CREATE TABLE unrelated (x)")
    finally:
        await conn.close()
    await registry.add(slug, f"file:{path}", token, name or slug.title())
    return path


async def build_fleet(
    *,
    slugs: tuple[str, ...] = ("acme", "globex"),
    extra_urls: dict[str, str] | None = None,
    broken: bool = True,
    unmigrated: bool = False,
    hostile: bool = False,
    **settings_overrides,
) -> Fleet:
    """A local registry with seeded tenants, and optionally a broken row, remote URLs, etc."""
    settings = load_settings(**settings_overrides)
    registry = await Registry.open(settings)
    paths: dict[str, Path] = {}
    try:
        for slug in slugs:
            paths[slug] = await add_tenant(registry, settings, slug, token=SECRET)
        if unmigrated:
            paths["blank"] = await add_tenant(registry, settings, "blank", posts=None)
        if hostile:
            paths["mallory"] = await add_tenant(
                registry, settings, "mallory", name=HOSTILE_NAME, hostile=True
            )
        for slug, url in (extra_urls or {}).items():
            await registry.add(slug, url, SECRET, slug.title())
        if broken:
            await registry.connection.execute(
                "INSERT INTO organizations (id, name, slug, db_url, db_token) "
                "VALUES ('x', 'Ghost', 'ghost', 'ftp://nowhere/ghost.db', '')"
            )
    finally:
        await registry.close()
    return Fleet(settings, paths)


async def copied_fleet(count: int) -> Fleet:
    """`count` local tenants: copies of one seeded tenant, each with its registry row (a large
    fleet made in a second, where building each tenant would take minutes)."""
    fleet = await build_fleet(slugs=("t0000",), broken=False)
    template = fleet.paths["t0000"]
    registry = await Registry.open(fleet.settings)
    try:
        rows = []
        for i in range(1, count):
            slug = f"t{i:04d}"
            path = template.with_name(f"{slug}.db")
            shutil.copyfile(template, path)
            rows.append(
                (
                    "INSERT INTO organizations (id, name, slug, db_url, db_token, created_at) "
                    "VALUES (?, ?, ?, ?, '', ?)",
                    [str(uuid.uuid4()), f"Tenant {i}", slug, f"file:{path}", 1_700_000_000 + i],
                )
            )
        await registry.connection.batch(rows)
    finally:
        await registry.close()
    return fleet


@pytest.fixture(name="silent_url")
def silent_url_fixture() -> Iterator[str]:
    """The URL of a server that accepts connections and never answers (a hung tenant)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def closed_url() -> str:
    """The URL of a port where nothing listens (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


def notifications(app) -> list[str]:
    """Every notification's title and message so far."""
    return [f"{n.title}: {n.message}" for n in app._notifications]
