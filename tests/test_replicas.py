"""Embedded replicas against a real sqld with JWT auth: sync, reads from the replica,
writes to the primary, stale replicas, interrupted syncs, the CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.jwt_kit import JWTKeys
from support.moderation_fixtures import fill_remote, remote_rows
from support.servers import start_sqld
from tursotui.session.replica_store import ReplicaError, ReplicaStore
from tursotui.session.replicas import ReplicaConnection
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace
from tursotui.tenant import moderation

pytestmark = pytest.mark.servers

SRC = Path(__file__).resolve().parents[1] / "src"
MAIN = "import sys; from tursotui.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture
def server(tmp_path: Path):
    """A sqld of this test's own with JWT auth; restartable on the same data (`restart`)."""
    keys = JWTKeys()
    workdir = tmp_path / "sqld"
    workdir.mkdir()
    box = {"server": start_sqld(keys.public_key, workdir=workdir)}

    class Handle:
        token = keys.token()

        @property
        def url(self) -> str:
            return box["server"].http_url

        def stop(self) -> None:
            box["server"].stop()

        def restart(self) -> None:
            # Same port, so the registry's URL still names it.
            from support import servers

            port = box["server"].port
            keep = servers.free_port
            servers.free_port = lambda: port
            try:
                box["server"] = start_sqld(keys.public_key, workdir=workdir)
            finally:
                servers.free_port = keep

    handle = Handle()
    yield handle
    box["server"].stop()


async def _workspace(server, *, drafts: int = 3, replicas: str = "on-demand"):
    ids = await fill_remote(server.url, server.token, drafts=drafts, comments_per_post=1)
    workspace = await Workspace.open(load_settings(replicas=replicas))
    await workspace.registry.add("remote", server.url, server.token, name="Remote")
    return workspace, ids, await workspace.registry.get("remote")


async def test_sync_read_write_through_primary_then_the_replica_shows_it(server, tmp_path):
    workspace, ids, tenant = await _workspace(server)
    try:
        info = await workspace.replicas.sync(tenant)
        assert info.rebuilt and info.path.is_file()
        link = tmp_path / "data" / "replicas" / "remote.db"
        assert link.is_symlink() and link.resolve() == info.path
        for file in info.path.parent.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        meta = (info.path.parent / "meta.json").read_text()
        assert server.token not in meta and server.token.split(".")[2] not in meta

        conn = await workspace.connection(tenant)
        assert isinstance(conn, ReplicaConnection)
        page = await moderation.fetch_posts(conn, "draft")
        assert sorted(p.id for p in page.posts) == sorted(ids["draft"])

        # A change made behind tursotui's back is not seen until the replica syncs.
        await remote_rows(
            server.url,
            "UPDATE posts SET title = 'elsewhere' WHERE id = ?",
            (ids["draft"][0],),
            server.token,
        )
        post = await moderation.fetch_post(conn, ids["draft"][0])
        assert post is not None and post.title != "elsewhere"

        # A write goes to the primary (guarded there) and then the replica syncs.
        result = await moderation.set_status(
            conn, workspace.audit, "remote", [(ids["draft"][1], "draft")], "published"
        )
        assert result.changed == [ids["draft"][1]]
        assert await remote_rows(
            server.url, "SELECT status FROM posts WHERE id = ?", (ids["draft"][1],), server.token
        ) == [("published",)]
        replica = sqlite3.connect(f"file:{info.path}?mode=ro", uri=True)
        assert replica.execute(
            "SELECT status FROM posts WHERE id = ?", (ids["draft"][1],)
        ).fetchall() == [("published",)]
        post = await moderation.fetch_post(conn, ids["draft"][0])
        assert post is not None and post.title == "elsewhere"  # synced with the write
        replica.close()
        assert conn.freshness.stale is None and conn.freshness.label().startswith(
            "replica · synced"
        )
    finally:
        await workspace.close()


async def test_a_guard_is_evaluated_on_the_primary_not_the_stale_replica(server):
    workspace, ids, tenant = await _workspace(server)
    try:
        await workspace.replicas.sync(tenant)
        conn = await workspace.connection(tenant)
        target = ids["draft"][0]
        # Someone archives the post on the primary; the replica still says draft.
        await remote_rows(
            server.url, "UPDATE posts SET status = 'archived' WHERE id = ?", (target,), server.token
        )
        shown = await moderation.fetch_post(conn, target)
        assert shown is not None and shown.status == "draft"
        result = await moderation.set_status(
            conn, workspace.audit, "remote", [(target, "draft")], "published"
        )
        assert result.conflicts == [target] and not result.changed
        assert await remote_rows(
            server.url, "SELECT status FROM posts WHERE id = ?", (target,), server.token
        ) == [("archived",)]
    finally:
        await workspace.close()


async def test_server_down_serves_the_replica_marked_stale_then_recovers(server):
    workspace, ids, tenant = await _workspace(server)
    try:
        await workspace.replicas.sync(tenant)
        conn = await workspace.connection(tenant)
        assert isinstance(conn, ReplicaConnection)
        server.stop()
        with pytest.raises(ReplicaError, match="primary"):
            await conn.sync()
        assert conn.freshness.stale and "stale" in conn.freshness.label()
        assert server.token not in conn.freshness.stale
        page = await moderation.fetch_posts(conn, "draft")
        assert len(page.posts) == len(ids["draft"])  # still served, from the replica
        # Within the backoff, reads do not hammer the primary with syncs.
        failures = conn.freshness.failures
        assert conn.freshness.retry_at > time.monotonic()
        await moderation.fetch_posts(conn, "draft")
        await asyncio.sleep(0.3)
        assert conn.freshness.failures == failures
        server.restart()
        conn.freshness.retry_at = 0.0  # the backoff is over: the next read retries
        await moderation.fetch_posts(conn, "draft")
        deadline = time.monotonic() + 30
        while conn.freshness.stale is not None:
            assert time.monotonic() < deadline, conn.freshness
            await asyncio.sleep(0.05)
        assert conn.freshness.failures == 0
    finally:
        await workspace.close()


async def test_first_sync_with_the_primary_down_makes_no_replica(server, tmp_path):
    workspace, _, tenant = await _workspace(server)
    try:
        server.stop()
        with pytest.raises(ReplicaError, match=r"cannot be reached|did not accept"):
            await workspace.replicas.sync(tenant)
        assert not workspace.replicas.store.has("remote")
        assert not list((tmp_path / "data" / "replicas").glob("*.db"))
    finally:
        await workspace.close()


async def test_garbage_replica_is_rebuilt_and_reads_fall_back_to_the_primary(server):
    workspace, ids, tenant = await _workspace(server)
    try:
        info = await workspace.replicas.sync(tenant)
        conn = await workspace.connection(tenant)
        assert isinstance(conn, ReplicaConnection)
        await conn._reader.close()  # as if the file vanished under it
        for file in info.path.parent.iterdir():  # the database and its sidecars
            if file.name != "meta.json":
                file.write_bytes(b"not a database at all" * 100)
        page = await moderation.fetch_posts(conn, "draft")
        assert len(page.posts) == len(ids["draft"]) and conn.reads_on_primary >= 1
        # The failed read scheduled a sync, which rebuilds the broken replica.
        await conn.sync()
        rebuilt = workspace.replicas.store.info("remote")
        assert rebuilt is not None and rebuilt.generation != info.generation
        fallbacks = conn.reads_on_primary
        assert (await moderation.fetch_post(conn, ids["draft"][0])) is not None
        assert conn.reads_on_primary == fallbacks  # from the new replica again
        assert conn.replica_path == str(rebuilt.path)
    finally:
        await workspace.close()


async def test_a_changed_token_in_the_registry_rebuilds(server):
    workspace, _, tenant = await _workspace(server)
    try:
        first = await workspace.replicas.sync(tenant)
        same = await workspace.replicas.sync(tenant)
        assert not same.rebuilt and same.generation == first.generation
        store = ReplicaStore(workspace.settings.data_dir)
        other = JWTKeys().token()  # a different stored token: same primary, new source
        with pytest.raises(ReplicaError):
            await asyncio.to_thread(store.sync, "remote", server.url, other, other)
        assert store.info("remote").generation == first.generation  # old one kept
        again = await asyncio.to_thread(
            store.sync, "remote", server.url, server.token, server.token + "x"
        )
        assert again.rebuilt and again.generation != first.generation
    finally:
        await workspace.close()


def _cli(*argv: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-c", MAIN, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def test_cli_sync_list_drop(server, tmp_path):
    workspace, _, _ = await _workspace(server)
    await workspace.close()
    done = _cli("replica", "sync", "remote")
    assert done.returncode == 0, done.stderr
    assert "remote: built" in done.stderr and server.token not in done.stderr + done.stdout
    done = _cli("replica", "sync", "--all")
    assert done.returncode == 0 and "remote: synced" in done.stderr
    listed = _cli("replica", "list")
    assert listed.returncode == 0
    assert "remote" in listed.stdout and "s ago" in listed.stdout and "KiB" in listed.stdout
    assert _cli("replica", "drop", "remote").returncode == 0
    assert not (tmp_path / "data" / "replicas" / "remote.db").exists()
    gone = _cli("replica", "drop", "remote")
    assert gone.returncode == 1 and "has no replica" in gone.stderr
    assert _cli("replica", "sync", "nosuch").returncode == 1


KILLED_BEFORE_SWAP = """
import os, signal, sys
from pathlib import Path
from tursotui.session import replica_store as replica
def die(*_):
    os.kill(os.getpid(), signal.SIGKILL)  # kill -9 with the new generation filled, unswapped
replica._swap_link = die
store = replica.ReplicaStore(Path(sys.argv[1]))
store.sync("remote", sys.argv[2], sys.argv[3], sys.argv[3] + "changed")
"""


async def test_kill_9_during_a_rebuild_keeps_the_old_replica_and_the_next_sync_repairs(
    server, tmp_path
):
    workspace, _, tenant = await _workspace(server, drafts=5)
    try:
        first = await workspace.replicas.sync(tenant)
        await remote_rows(server.url, "DELETE FROM comments", (), server.token)
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                KILLED_BEFORE_SWAP,
                str(workspace.settings.data_dir),
                server.url,
                server.token,
            ],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
        store = workspace.replicas.store
        home = store.home("remote")
        assert len([p for p in home.iterdir() if p.is_dir()]) == 2  # the killed one's leftover
        assert store.current("remote") == first.path  # never half replaced
        db = sqlite3.connect(f"file:{first.path}?mode=ro", uri=True)
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM comments").fetchone() == (5,)  # the old state
        db.close()
        # Restarted: the next sync brings the replica up to date and clears the leftover.
        info = await workspace.replicas.sync(tenant)
        assert [p.name for p in home.iterdir() if p.is_dir()] == [info.generation]
        db = sqlite3.connect(f"file:{info.path}?mode=ro", uri=True)
        assert db.execute("SELECT count(*) FROM comments").fetchone() == (0,)
        db.close()
    finally:
        await workspace.close()


async def test_kill_9_of_a_running_sync_leaves_a_whole_replica(server):
    workspace, _, tenant = await _workspace(server, drafts=5)
    try:
        await workspace.replicas.sync(tenant)
        await remote_rows(
            server.url,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) "
            "INSERT INTO users SELECT 'bulk' || x, 'Bulk ' || x, 'b' || x || '@x', 0 FROM c",
            (),
            server.token,
        )
        for delay in (0.3, 0.5, 0.7):
            if _start_sync_and_kill(delay) is None:
                break
        # Whatever moment the kill hit, the replica pointed to is a whole database.
        current = workspace.replicas.store.current("remote")
        assert current is not None
        db = sqlite3.connect(f"file:{current}?mode=ro", uri=True)
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM posts").fetchone() == (5,)
        db.close()
        info = await workspace.replicas.sync(tenant)
        expected = await remote_rows(server.url, "SELECT count(*) FROM users", (), server.token)
        db = sqlite3.connect(f"file:{info.path}?mode=ro", uri=True)
        assert [db.execute("SELECT count(*) FROM users").fetchone()] == expected
        db.close()
    finally:
        await workspace.close()


def _start_sync_and_kill(delay: float) -> int | None:
    """Run `tursotui replica sync remote` and SIGKILL it after `delay` s; its exit code if it
    finished before the kill, None if it was killed."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "replica", "sync", "remote"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    if proc.poll() is not None:
        return proc.returncode
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return None


# -- the screens ------------------------------------------------------------------------


async def test_posts_screen_reads_the_replica_writes_the_primary_and_shows_freshness(server):
    from support.moderation_fixtures import make_test_app, settle
    from support.screen import screen_text, until
    from tursotui.ui.screens.posts import PostsScreen

    workspace, _ids, tenant = await _workspace(server)
    await workspace.replicas.sync(tenant)
    app = make_test_app(workspace)
    async with app.run_test(size=(130, 30)) as pilot:
        app.push_screen(PostsScreen(tenant, status="draft"))
        await settle(app, pilot)
        await until(pilot, lambda: "replica · synced" in screen_text(app))
        assert "drafts 3" in screen_text(app)
        target = app.screen.query_one("#posts-table").cursor_key
        await pilot.press("p")
        await settle(app, pilot)
        assert await remote_rows(
            server.url, "SELECT status FROM posts WHERE id = ?", (target,), server.token
        ) == [("published",)]
        await until(pilot, lambda: "drafts 2" in screen_text(app))  # read back from the replica

        server.stop()
        await pilot.press("r")
        await until(pilot, lambda: "stale" in screen_text(app))
        await settle(app, pilot)
        assert "drafts 2" in screen_text(app)  # still served, from the replica
        assert server.token not in screen_text(app)

        server.restart()
        await pilot.press("r")
        await until(pilot, lambda: "stale" not in screen_text(app))
        assert "replica · synced 0 s ago" in screen_text(app) or "replica · synced 1 s ago" in (
            screen_text(app)
        )
    await workspace.close()


async def test_a_remote_tenant_without_a_replica_says_primary(server):
    from support.moderation_fixtures import make_test_app, settle
    from support.screen import screen_text, until
    from tursotui.ui.screens.posts import PostsScreen

    workspace, _, tenant = await _workspace(server)
    app = make_test_app(workspace)
    async with app.run_test(size=(130, 30)) as pilot:
        app.push_screen(PostsScreen(tenant, status="draft"))
        await settle(app, pilot)
        await until(pilot, lambda: "drafts 3" in screen_text(app))
        assert " primary " in screen_text(app) and "replica" not in screen_text(app)
    await workspace.close()


async def test_always_makes_a_replica_when_a_remote_tenant_is_first_opened(server):
    workspace, _ids, tenant = await _workspace(server, replicas="always")
    try:
        assert not workspace.replicas.store.has("remote")
        conn = await workspace.connection(tenant)
        assert isinstance(conn, ReplicaConnection) and workspace.replicas.store.has("remote")
        assert workspace.freshness_label(tenant)[0].startswith("replica · synced")
    finally:
        await workspace.close()
    off = await Workspace.open(load_settings(replicas="off"))
    try:
        assert not isinstance(await off.connection(tenant), ReplicaConnection)
        assert off.freshness_label(tenant) == ("primary", False)
    finally:
        await off.close()


async def test_always_makes_no_replica_for_a_fleet_wide_look(server):
    """The tenants screen's health and the fleet overview ask every tenant: with replicas
    `always` they must not copy every database here; opening the tenant then does."""
    from tursotui.fleet.overview import overview
    from tursotui.tenant.health import probe_all

    workspace, _ids, tenant = await _workspace(server, replicas="always")
    try:
        [health] = [h async for h in probe_all(workspace, [tenant], 4)]
        [row] = [r async for r in overview(workspace, [tenant])]
        assert health.reachable and row.tenant.slug == "remote"
        assert not workspace.replicas.store.has("remote")
        assert not (workspace.settings.data_dir / "replicas").exists() or not any(
            (workspace.settings.data_dir / "replicas").iterdir()
        )
        conn = await workspace.connection(tenant)
        assert isinstance(conn, ReplicaConnection) and workspace.replicas.store.has("remote")
        [health] = [h async for h in probe_all(workspace, [tenant], 4)]
        assert health.reachable
        assert await workspace.connection(tenant) is conn
    finally:
        await workspace.close()


async def test_drizzle_reads_every_write_made_through_a_replica_backed_tenant(server, tmp_path):
    import json

    from test_drizzle_interop import drizzle as _drizzle_fixture  # noqa: F401

    runner = _drizzle_runner()
    workspace, ids, tenant = await _workspace(server)
    try:
        await workspace.replicas.sync(tenant)
        conn = await workspace.connection(tenant)
        assert isinstance(conn, ReplicaConnection)
        post_id = ids["draft"][0]
        await moderation.set_status(
            conn, workspace.audit, "remote", [(post_id, "draft")], "published"
        )
        env = {**os.environ, "DRIZZLE_AUTH_TOKEN": server.token}
        done = subprocess.run(
            ["node", str(runner / "read_post.mjs"), server.url, post_id],
            check=True,
            capture_output=True,
            timeout=60,
            text=True,
            env=env,
        )
        read = json.loads(done.stdout)
        assert read["status"] == "published" and read["publishedAt"]["date"] is True
        await moderation.set_status(
            conn, workspace.audit, "remote", [(post_id, "published")], "draft"
        )
        done = subprocess.run(
            ["node", str(runner / "read_post.mjs"), server.url, post_id],
            check=True,
            capture_output=True,
            timeout=60,
            text=True,
            env=env,
        )
        assert json.loads(done.stdout) == {"status": "draft", "publishedAt": None}
    finally:
        await workspace.close()


def _drizzle_runner() -> Path:
    """drizzle-orm installed as the interop tests install it (their fixture, called once)."""
    import test_drizzle_interop

    return test_drizzle_interop.drizzle.__wrapped__()


async def test_console_reads_from_the_replica_f9_sends_them_to_the_primary(server):
    from support.moderation_fixtures import make_test_app
    from support.screen import until
    from test_console import grid, open_console, run, status

    workspace, ids, tenant = await _workspace(server)
    await workspace.replicas.sync(tenant)
    app = make_test_app(workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_console(app, pilot, workspace, "remote")
        # Changed behind tursotui's back: the replica does not have it until it syncs.
        await remote_rows(
            server.url,
            "UPDATE posts SET title = 'fresh' WHERE id = ?",
            (ids["draft"][0],),
            server.token,
        )
        query = f"SELECT title FROM posts WHERE id = '{ids['draft'][0]}'"
        await run(app, pilot, query)
        assert "read on the replica" in status(app)
        assert grid(app).values != [("fresh",)]
        await pilot.press("f9")
        await pilot.pause()
        await until(pilot, lambda: "reads now run on the primary" in status(app))
        await run(app, pilot, query)
        assert grid(app).values == [("fresh",)] and "read on the primary" in status(app)
    await workspace.close()


async def test_a_primary_that_never_answers_times_out_and_keeps_the_replica(server):
    import socket

    workspace, _, tenant = await _workspace(server)
    silent = socket.socket()
    try:
        first = await workspace.replicas.sync(tenant)
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        port = silent.getsockname()[1]
        store = ReplicaStore(workspace.settings.data_dir, timeout=2.0)
        started = time.monotonic()
        with pytest.raises(ReplicaError, match=r"did not answer within 2 s; the old replica"):
            await asyncio.to_thread(
                store.sync, "remote", f"http://127.0.0.1:{port}", server.token, server.token
            )
        assert time.monotonic() - started < 30
        assert store.current("remote") == first.path
        db = sqlite3.connect(f"file:{first.path}?mode=ro", uri=True)
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
        db.close()
    finally:
        silent.close()
        await workspace.close()


async def test_fleet_screen_marks_tenants_read_from_a_replica_and_their_age(server):
    from support.moderation_fixtures import make_test_app, settle
    from support.screen import screen_text, until
    from tursotui.ui.screens.fleet import FleetScreen
    from tursotui.ui.widgets.sortable_list import SortableList

    workspace, _, tenant = await _workspace(server)
    await workspace.replicas.sync(tenant)
    await workspace.registry.add("direct", server.url, server.token, name="Direct")
    # Only `remote` has a replica; `direct` is the same database read from its primary.
    app = make_test_app(workspace)
    async with app.run_test(size=(150, 30)) as pilot:
        app.push_screen(FleetScreen())
        await settle(app, pilot)
        table = app.screen.query_one("#fleet-table", SortableList)
        await until(pilot, lambda: table.row_count == 2 and not app.screen.asking)
        cells = {
            str(table.get_cell(row, "tenant")): str(table.get_cell(row, "latency"))
            for row in table.ordered_keys
        }
        assert cells["remote"] == "repl" and cells["direct"] != "repl"
        # The current row's line under the table says how old its replica is.
        for _ in range(2):
            if "replica · synced" in screen_text(app):
                break
            await pilot.press("down")
            await settle(app, pilot)
        assert "replica · synced" in screen_text(app)

        def drafts() -> dict[str, str]:
            return {
                str(table.get_cell(row, "tenant")): str(table.get_cell(row, "draft"))
                for row in table.ordered_keys
            }

        assert drafts() == {"remote": "3", "direct": "3"}
        await remote_rows(server.url, "UPDATE posts SET status = 'archived'", (), server.token)
        await pilot.press("r")  # syncs the replica, then asks every tenant again
        await settle(app, pilot)
        await until(
            pilot, lambda: not app.screen.asking and drafts() == {"remote": "0", "direct": "0"}
        )
    await workspace.close()


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from tursotui.session.replica_store import ReplicaError, ReplicaStore
# A file may not grow past what is there now: the disk is as good as full.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    ReplicaStore(Path(sys.argv[1])).sync("remote", sys.argv[2], sys.argv[3], sys.argv[3])
except ReplicaError as error:
    print(error)
    sys.exit(3)
"""


async def test_a_full_disk_fails_the_sync_clearly_and_keeps_the_old_replica(server):
    workspace, _, tenant = await _workspace(server)
    try:
        first = await workspace.replicas.sync(tenant)
        await remote_rows(
            server.url,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) "
            "INSERT INTO users SELECT 'full' || x, 'f' || x || '@x', printf('%.500c', 'x'), 0 "
            "FROM c",
            (),
            server.token,
        )
        biggest = max(f.stat().st_size for f in first.path.parent.iterdir())
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                FULL_DISK,
                str(workspace.settings.data_dir),
                server.url,
                server.token,
                str(biggest + 4096),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 3, (done.stdout, done.stderr)
        # The disk itself has room here (a file size limit stands in for it), so the
        # message asks rather than asserts; on a disk with no room it says so outright.
        assert "could not write its replica (is the disk full?)" in done.stdout
        assert "the old one is kept" in done.stdout
        assert server.token not in done.stdout + done.stderr
        db = sqlite3.connect(f"file:{first.path}?mode=ro", uri=True)
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM users WHERE id LIKE 'full%'").fetchone() == (0,)
        db.close()
        # With room again, the same replica catches up.
        info = await workspace.replicas.sync(tenant)
        db = sqlite3.connect(f"file:{info.path}?mode=ro", uri=True)
        assert db.execute("SELECT count(*) FROM users WHERE id LIKE 'full%'").fetchone() == (5000,)
        db.close()
    finally:
        await workspace.close()


async def test_queue_reads_drafts_from_the_replica_and_r_syncs_it(server):
    from support.moderation_fixtures import make_test_app, settle
    from support.screen import until
    from tursotui.ui.screens.queue import QueueScreen
    from tursotui.ui.widgets.row_list import RowList

    workspace, ids, tenant = await _workspace(server)
    await workspace.replicas.sync(tenant)
    app = make_test_app(workspace)
    async with app.run_test(size=(150, 30)) as pilot:
        app.push_screen(QueueScreen())
        await settle(app, pilot)
        table = app.screen.query_one("#queue-table", RowList)
        await until(pilot, lambda: table.row_count == 3)
        assert isinstance(workspace.replica_of("remote"), ReplicaConnection)
        await remote_rows(
            server.url,
            "UPDATE posts SET status = 'archived' WHERE id = ?",
            (ids["draft"][0],),
            server.token,
        )
        await pilot.press("r")  # syncs the replica, then reads the queue again
        await settle(app, pilot)
        await until(pilot, lambda: table.row_count == 2)
    await workspace.close()


async def test_closing_the_session_stops_a_sync_that_waits_on_a_silent_primary(tmp_path):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    try:
        store = ReplicaStore(tmp_path / "data", timeout=60.0)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        syncing = asyncio.ensure_future(asyncio.to_thread(store.sync, "t", url, "tok", "tok"))
        await asyncio.sleep(1.0)
        started = time.monotonic()
        store.stop()
        with pytest.raises(ReplicaError, match="the session is closing"):
            await syncing
        assert time.monotonic() - started < 10
        assert not store.has("t")
    finally:
        silent.close()


async def test_migrations_decide_on_the_primary_not_a_replica_that_is_behind(server):
    from tursotui.tenant.migrations import load_folder, migrate

    workspace, _, tenant = await _workspace(server)
    try:
        await workspace.replicas.sync(tenant)
        conn = await workspace.connection(tenant)
        assert isinstance(conn, ReplicaConnection)
        # Another process records a newer migration on the primary: the replica lags.
        newest = max(m.when for m in load_folder(None).migrations)
        await remote_rows(
            server.url,
            'INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)',
            ("elsewhere", newest + 1000),
            server.token,
        )
        with pytest.raises(Exception, match="newer than"):
            await migrate(conn, load_folder(None))
    finally:
        await workspace.close()
