"""Snapshots of the posts, post and audit screens at 80x24 and 160x50.

The data is fixed (seeded ids, fixed timestamps shown in UTC, tenant files at a
relative path) so a snapshot changes only when the screen does.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from support.moderation_fixtures import fill, make_tenant, settle
from tursotui.session.audit import AuditEntry, AuditLog
from tursotui.session.settings import load_settings
from tursotui.ui.app import make_app

SIZES = [(80, 24), (160, 50)]
HOSTILE_TITLE = "[bold red]not bold[/] \x1b[31mescape\x1b[0m rtl\u202eevil"


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry with one tenant `acme` at tenants/acme.db (relative: same header every run)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    settings = load_settings()

    async def build() -> None:
        from tursotui.session.workspace import Workspace

        path = Path("tenants") / "acme.db"
        path.parent.mkdir()
        await make_tenant(path)
        fill(path, drafts=4, published=30, archived=2, comments_per_post=3)
        db = sqlite3.connect(path)
        first = db.execute(
            "SELECT id FROM posts WHERE status = 'published' ORDER BY published_at DESC LIMIT 1"
        ).fetchone()[0]
        db.execute("UPDATE posts SET title = ? WHERE id = ?", (HOSTILE_TITLE, first))
        db.execute(
            "UPDATE posts SET content = ? WHERE id = ?",
            ("First line of the post.\n[b]literal markup[/b] and \x07 a bell.\n" * 40, first),
        )
        db.commit()
        db.close()
        workspace = await Workspace.open(settings)
        await workspace.registry.add("acme", f"file:{path}", None, name="Acme Inc")
        await workspace.close()

    asyncio.run(build())
    time.tzset()
    return Path("tenants") / "acme.db"


def _first_published(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT id FROM posts WHERE status = 'published' ORDER BY published_at DESC LIMIT 1"
        ).fetchone()[0]
    finally:
        db.close()


async def _push(app, pilot, module: str, cls: str, *args) -> None:
    workspace = await app.wait_workspace()
    await settle(app, pilot)
    real_args = []
    for arg in args:
        real_args.append(await workspace.registry.get("acme") if arg == "@acme" else arg)
    screen_module = __import__(f"tursotui.ui.screens.{module}", fromlist=[cls])
    app.push_screen(getattr(screen_module, cls)(*real_args))
    await settle(app, pilot)


class TestPostsScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_published_filter(self, snap_compare, fleet, size):
        """Published posts newest first, counts in the filter bar, the hostile title literal."""

        async def run_before(pilot) -> None:
            await _push(pilot.app, pilot, "posts", "PostsScreen", "@acme")
            await pilot.press("2")
            await settle(pilot.app, pilot)

        assert snap_compare(make_app(load_settings()), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", SIZES)
    def test_marked_rows(self, snap_compare, fleet, size):
        """Two drafts marked for a bulk action; the status line counts them."""

        async def run_before(pilot) -> None:
            await _push(pilot.app, pilot, "posts", "PostsScreen", "@acme")
            await pilot.press("space", "j", "space")
            await settle(pilot.app, pilot)

        assert snap_compare(make_app(load_settings()), terminal_size=size, run_before=run_before)


class TestPostScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_post_with_comments(self, snap_compare, fleet, size):
        """Metadata, literal content and the comments newest first."""

        async def run_before(pilot) -> None:
            await _push(pilot.app, pilot, "post", "PostScreen", "@acme", _first_published(fleet))

        assert snap_compare(make_app(load_settings()), terminal_size=size, run_before=run_before)


class TestAuditScreen:
    @pytest.mark.parametrize("size", SIZES)
    def test_audit_log(self, snap_compare, fleet, size):
        """Each write once with its outcome, newest first."""
        settings = load_settings()
        audit = AuditLog(settings.data_dir / "audit.jsonl", "tester")
        entries = [
            ("a1", "publish", ["p-1"], "draft", "published", "pending", None),
            ("a1", "publish", ["p-1"], "draft", "published", "ok", None),
            ("a2", "archive", ["p-2", "p-3"], "published", "archived", "pending", None),
            ("a2", "archive", ["p-2"], "published", "archived", "ok", "conflicts: p-3"),
            ("a3", "delete-comment", ["c-9"], None, "deleted", "pending", None),
            ("a3", "delete-comment", ["c-9"], None, "deleted", "failed", "acme: read-only"),
        ]
        for n, (id_, action, rows, before, after, status, detail) in enumerate(entries):
            audit.record(
                AuditEntry(
                    action,
                    "acme",
                    rows,
                    before,
                    after,
                    status,
                    detail,
                    "tester",
                    1_700_000_000 + n * 60,
                    id_,
                )
            )

        async def run_before(pilot) -> None:
            await _push(pilot.app, pilot, "audit", "AuditScreen")

        assert snap_compare(make_app(settings), terminal_size=size, run_before=run_before)
