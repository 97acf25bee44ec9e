"""The SQL console, driven from the keyboard: asserts on the grid, the modals and the database."""

from __future__ import annotations

import csv
import json
import time
import uuid
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from support.moderation_fixtures import make_test_app, rows, workspace_with
from support.screen import screen_text, until
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.console import ConsoleScreen
from tursotui.ui.screens.history_picker import HistoryScreen
from tursotui.ui.screens.sql_error import SqlErrorScreen
from tursotui.ui.screens.typed_confirm import TypedConfirmScreen
from tursotui.ui.screens.value_view import ValueScreen
from tursotui.ui.widgets.result_grid import ResultGrid
from tursotui.ui.widgets.sql_editor import SqlEditor

SIZE = (120, 40)


def console(app) -> ConsoleScreen:
    for screen in reversed(app.screen_stack):
        if isinstance(screen, ConsoleScreen):
            return screen
    raise AssertionError("no console screen")


def idle(app) -> bool:
    screen = console(app)
    return screen.connection is not None and not screen.busy and app.screen is screen


def status(app) -> str:
    return str(console(app).query_one("#status").render())


async def open_console(app, pilot, workspace, slug: str = "acme") -> ConsoleScreen:
    tenant = await workspace.registry.get(slug)
    app.push_screen(ConsoleScreen(tenant))
    await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
    await until(pilot, lambda: console(app).connection is not None)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return console(app)


async def run(app, pilot, sql: str, *, wait: bool = True) -> None:
    editor = console(app).query_one(SqlEditor)
    editor.load_text(sql)
    editor.focus()
    await pilot.press("ctrl+r")
    if wait:
        await until(pilot, lambda: idle(app) or not isinstance(app.screen, ConsoleScreen))


def grid(app) -> ResultGrid:
    return console(app).query_one(ResultGrid)


async def test_read_shows_values_literally_null_blob_numbers(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=2)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(
            app,
            pilot,
            "select 42 as n, 1.5 as f, null as nul, '' as empty, 'NULL' as word, "
            "x'00ff10' as b, '[bold]x[/] \x1b[31m' as markup",
        )
        table = grid(app)
        assert table.result_columns == ("n", "f", "nul", "empty", "word", "b", "markup")
        assert table.values == [(42, 1.5, None, "", "NULL", b"\x00\xff\x10", "[bold]x[/] \x1b[31m")]
        cells = [table.cell_text(0, i) for i in range(7)]
        assert cells[0].plain == "42" and cells[0].justify == "right"
        assert cells[1].justify == "right"
        assert cells[2].plain == "NULL" and cells[4].plain == "NULL"
        assert cells[2].style != cells[4].style  # NULL differs from the text 'NULL'
        assert cells[3].plain == ""
        assert "3 bytes" in cells[5].plain and "00 ff 10" in cells[5].plain
        assert cells[6].plain == "[bold]x[/] ␛[31m"  # markup not parsed, escape made visible
        assert "1 row" in status(app) and "ms" in status(app)
        # The whole value on demand, literally.
        table.focus()
        table.move_cursor(row=0, column=6)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ValueScreen))
        assert "[bold]x[/] ␛[31m" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
    await workspace.close()


async def test_statement_under_cursor_and_several_in_order(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=3)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        editor = console(app).query_one(SqlEditor)
        editor.load_text("select 1 as first;\nselect 2 as second;")
        editor.move_cursor((1, 3))
        editor.focus()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: idle(app))
        assert grid(app).values == [(2,)]
        # A selection of both runs both, in order; the log shows each.
        editor.select_all()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: idle(app))
        assert grid(app).values == [(2,)]
        text = screen_text(app)
        assert "1. ✓ 1 row" in text and "2. ✓ 1 row" in text
    await workspace.close()


async def test_confirmed_write_commits_shows_count_and_is_audited(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=3, published=2)})
    path, _ = made["acme"]
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        sql = "UPDATE posts SET status = 'archived' WHERE status = 'draft'"
        await run(app, pilot, sql, wait=False)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert "It changed 3 rows (not committed yet)" in text
        assert "UPDATE on posts in tenant acme" in text
        # Not committed while the question is open: another reader sees nothing changed.
        assert rows(path, "SELECT count(*) FROM posts WHERE status = 'draft'") == [(3,)]
        await pilot.press("y")
        await until(pilot, lambda: idle(app))
        assert rows(path, "SELECT count(*) FROM posts WHERE status = 'archived'") == [(3,)]
        assert "committed: 3 rows changed" in status(app)
        entry = workspace.audit.entries()[-1]
        assert (entry.action, entry.status, entry.detail) == ("sql", "ok", sql)
        assert entry.after == {"rows_changed": 3, "outcome": "committed"}
    await workspace.close()


async def test_rollback_after_seeing_the_count(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=2, published=2)})
    path, _ = made["acme"]
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, "DELETE FROM posts WHERE status = 'published'", wait=False)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "It changed 2 rows" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: idle(app))
        assert rows(path, "SELECT count(*) FROM posts") == [(4,)]
        assert "rolled back" in status(app)
        assert workspace.audit.entries()[-1].after["outcome"] == "rolled back"
    await workspace.close()


async def test_delete_without_where_needs_the_slug_typed(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=2, comments_per_post=1)})
    path, _ = made["acme"]
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        # Wrong answer: nothing runs.
        await run(app, pilot, "/* cleanup */ DELETE FROM comments", wait=False)
        await until(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
        assert "EVERY row is deleted" in screen_text(app)
        await pilot.press(*"yes", "enter")
        await until(pilot, lambda: idle(app))
        assert rows(path, "SELECT count(*) FROM comments") == [(2,)]
        assert "not confirmed" in status(app)
        # The slug typed: it runs (in a transaction), then commits.
        await run(app, pilot, "/* cleanup */ DELETE FROM comments", wait=False)
        await until(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
        await pilot.press(*"acme", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: idle(app))
        assert rows(path, "SELECT count(*) FROM comments") == [(0,)]
    await workspace.close()


async def test_read_only_mode_refuses_writes(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=1)}, read_only=True)
    path, _ = made["acme"]
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        assert "READ-ONLY" in screen_text(app)
        await run(app, pilot, "INSERT INTO users VALUES ('x', 'x@example.com', 'X', 1)")
        assert "refused: read-only mode" in status(app)
        assert rows(path, "SELECT count(*) FROM users WHERE id = 'x'") == [(0,)]
        # Still usable.
        await run(app, pilot, "SELECT count(*) AS c FROM posts")
        assert grid(app).values == [(1,)]
    await workspace.close()


async def test_attach_refused_and_other_tenant_untouched(tmp_path: Path):
    workspace, made = await workspace_with(
        tmp_path, {"acme": dict(drafts=1), "other": dict(drafts=5)}
    )
    other_path, _ = made["other"]
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, f"ATTACH '{other_path}' AS o; DELETE FROM o.posts")
        assert "ATTACH is refused" in status(app)
        assert not isinstance(app.screen, ConfirmScreen)
        await run(app, pilot, "SELECT load_extension('x')")
        assert "load_extension is refused" in status(app)
        assert rows(other_path, "SELECT count(*) FROM posts") == [(5,)]
    await workspace.close()


async def test_sql_error_modal_keeps_the_editor_text(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=1)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, "SELECT * FROM no_such_table", wait=False)
        await until(pilot, lambda: isinstance(app.screen, SqlErrorScreen))
        error_text = app.screen.query_one(TextArea).text
        assert "no such table: no_such_table" in error_text
        assert "SQLITE_ERROR" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: idle(app))
        assert console(app).query_one(SqlEditor).text == "SELECT * FROM no_such_table"
        # A typo in the first word gets SQLite's own message, not "it writes".
        await run(app, pilot, "selec 1", wait=False)
        await until(pilot, lambda: isinstance(app.screen, SqlErrorScreen))
        assert 'near "selec"' in app.screen.query_one(TextArea).text
        await pilot.press("escape")
    await workspace.close()


async def test_cancel_a_long_local_query(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=1)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        endless = (
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"
        )
        await run(app, pilot, endless, wait=False)
        await until(pilot, lambda: console(app).busy)
        await pilot.pause(0.2)
        started = time.monotonic()
        await pilot.press("ctrl+g")
        await until(pilot, lambda: idle(app), timeout=2)
        assert time.monotonic() - started < 1.0
        assert "cancelled" in status(app)
        # The console (and its connection) still work.
        await run(app, pilot, "SELECT 7 AS seven")
        assert grid(app).values == [(7,)]
    await workspace.close()


async def test_more_rows_on_scroll_with_an_honest_count(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=700)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, "SELECT id, title FROM posts")
        assert len(grid(app).values) == 200
        assert "showing the first 200 rows; scroll for more" in status(app)
        table = grid(app)
        table.focus()
        for _ in range(3):  # each jump to the bottom brings the next page
            await pilot.press("ctrl+end")
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(grid(app).values) == 700
        assert "700 rows" in status(app) and "showing" not in status(app)
    await workspace.close()


async def test_row_cap_is_honest(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TURSOTUI_CONSOLE_ROW_CAP", "300")
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=400)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, "SELECT id FROM posts")
        grid(app).focus()
        for _ in range(3):
            await pilot.press("ctrl+end")
            await pilot.pause(0.1)
            await app.workers.wait_for_complete()
        assert len(grid(app).values) == 300
        assert "showing the first 300 rows (the cap)" in status(app)
    await workspace.close()


async def test_history_survives_restart_and_is_searchable(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=1)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, "SELECT title FROM posts WHERE status = 'draft'")
        await run(app, pilot, "SELECT count(*) FROM users")
    await workspace.close()

    # A new session: the history is still there.
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    workspace = await Workspace.open(load_settings())
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        text = screen_text(app)
        assert "SELECT count(*) FROM users" in text and "status = 'draft'" in text
        await pilot.press(*"draft")
        await pilot.pause()
        assert "1 of 2 statements" in screen_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        editor = console(app).query_one(SqlEditor)
        assert editor.text == "SELECT title FROM posts WHERE status = 'draft'"
    await workspace.close()


async def _export(app, pilot, fmt_key: str) -> Path:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, ConsoleScreen))
    await pilot.press(fmt_key)
    await until(pilot, lambda: idle(app) and "exported" in status(app))
    exported = status(app).split(" to ", 1)[1].strip()
    return Path(exported)


async def test_export_holds_the_whole_result(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(published=650, drafts=3)})
    path, _ = made["acme"]
    app = make_test_app(workspace)
    sql = "SELECT id, title, published_at, NULL AS nada FROM posts ORDER BY id"
    expected = rows(path, sql)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, sql)
        assert len(grid(app).values) == 200  # only the first page is loaded...
        csv_file = await _export(app, pilot, "c")
        with csv_file.open(newline="", encoding="utf-8") as file:
            lines = list(csv.reader(file))
        assert lines[0] == ["id", "title", "published_at", "nada"]
        assert lines[1:] == [  # ...but the file has every row
            [r[0], r[1], "" if r[2] is None else str(r[2]), ""] for r in expected
        ]
        json_file = await _export(app, pilot, "j")
        records = json.loads(json_file.read_text(encoding="utf-8"))
        assert records == [
            {"id": r[0], "title": r[1], "published_at": r[2], "nada": None} for r in expected
        ]
        assert csv_file.parent == Path(workspace.settings.data_dir) / "exports"
    await workspace.close()


async def test_schema_panel_and_completion(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=3)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        text = screen_text(app)
        assert "posts" in text and "comments" in text and "users" in text
        editor = console(app).query_one(SqlEditor)
        editor.load_text("")
        editor.focus()
        await pilot.press(*"select * from pos")
        assert editor.suggestion == "ts"
        await pilot.press("right")
        assert editor.text == "select * from posts"
        await pilot.press(*" where stat")
        assert editor.suggestion == "us"  # a column of posts
        # The schema panel toggles, and counts rows on demand.
        await pilot.press("ctrl+b")
        assert not console(app).query_one("#schema").display
        await pilot.press("ctrl+b")
        panel = console(app).query_one("#schema")
        panel.focus()
        node = next(n for n in panel.root.children if n.data == "posts")
        panel.move_cursor(node)
        await pilot.press("c")
        await until(pilot, lambda: "posts 3 rows" in screen_text(app))
    await workspace.close()


async def test_a_dead_connection_is_reopened(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=1)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await console(app).connection.close()  # the connection goes away under the console
        await run(app, pilot, "SELECT 1 AS one")
        assert grid(app).values == [(1,)]
    await workspace.close()


async def test_typed_confirmation_input_is_focused(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=1)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, "DROP TABLE comments", wait=False)
        await until(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        await until(pilot, lambda: idle(app))
        assert "not confirmed" in status(app)
    await workspace.close()


# -- the same console on real servers ------------------------------------------


async def _remote_workspace(url: str, token: str | None, table: str):
    """A local registry with one tenant `acme` on the server, and a fresh table on it."""
    from tursotui.db import connect
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    conn = await connect(url, token, name="acme")
    try:
        await conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)")
        await conn.batch([f"INSERT INTO {table} (v) VALUES ('{v}')" for v in ("a", "b", "c")])
    finally:
        await conn.close()
    workspace = await Workspace.open(load_settings())
    await workspace.registry.create_table()
    await workspace.registry.add("acme", url, token, name="Acme")
    return workspace


async def _count(url: str, token: str | None, table: str) -> int:
    from tursotui.db import connect

    conn = await connect(url, token, name="acme")
    try:
        return int((await conn.execute(f"SELECT count(*) FROM {table}")).rows[0][0])
    finally:
        await conn.close()


@pytest.mark.servers
async def test_sqld_read_write_in_a_transaction_rollback_and_refusals(sqld, jwt_keys, tmp_path):
    from support.secrets_watch import watch

    token = watch(jwt_keys.token())
    table = f"t_{uuid.uuid4().hex[:10]}"
    workspace = await _remote_workspace(sqld.http_url, token, table)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        assert "REMOTE" in screen_text(app)
        await run(app, pilot, f"SELECT v FROM {table} ORDER BY id")
        assert grid(app).values == [("a",), ("b",), ("c",)]
        # A write runs in a transaction on the server; the count shows before commit.
        await run(app, pilot, f"DELETE FROM {table} WHERE v <> 'a'", wait=False)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "It changed 2 rows" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: idle(app))
        assert await _count(sqld.http_url, token, table) == 3
        await run(app, pilot, f"DELETE FROM {table} WHERE v <> 'a'", wait=False)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: idle(app))
        assert await _count(sqld.http_url, token, table) == 1
        await run(app, pilot, "ATTACH 'x' AS y")
        assert "ATTACH is refused" in status(app)
    await workspace.close()


@pytest.mark.servers
async def test_sqld_read_only_token_gives_a_clear_message(sqld, jwt_keys, tmp_path):
    from support.secrets_watch import watch

    table = f"t_{uuid.uuid4().hex[:10]}"
    await _remote_workspace(sqld.http_url, watch(jwt_keys.token()), table)
    from tursotui.session.settings import load_settings
    from tursotui.session.workspace import Workspace

    workspace = await Workspace.open(load_settings())
    await workspace.registry.remove("acme")
    await workspace.registry.add("acme", sqld.http_url, watch(jwt_keys.token("ro")), name="Acme")
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, f"UPDATE {table} SET v = 'x' WHERE id = 1", wait=False)
        await until(pilot, lambda: isinstance(app.screen, SqlErrorScreen))
        assert "read-only" in app.screen.query_one(TextArea).text.lower()
        await pilot.press("escape")
        await until(pilot, lambda: idle(app))
        await run(app, pilot, f"SELECT count(*) FROM {table}")  # still usable
        assert grid(app).values == [(3,)]
    await workspace.close()


@pytest.mark.servers
async def test_tursodb_write_is_confirmed_before_sending(tursodb, tmp_path):
    table = f"t_{uuid.uuid4().hex[:10]}"
    workspace = await _remote_workspace(tursodb.http_url, None, table)
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(app, pilot, f"DELETE FROM {table} WHERE id = 1", wait=False)
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "cannot hold a transaction" in screen_text(app)
        assert await _count(tursodb.http_url, None, table) == 3
        await pilot.press("y")
        await until(pilot, lambda: idle(app))
        assert await _count(tursodb.http_url, None, table) == 2
    await workspace.close()


async def test_bad_input_leaves_the_console_usable(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=1)})
    path, _ = made["acme"]
    big = "x" * 10_000_000
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET content = ?", (big,))
    db.commit()
    db.close()
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        wide = "SELECT " + ", ".join(f"{i} AS c{i}" for i in range(2000))
        await run(app, pilot, wide)
        assert len(grid(app).result_columns) == 2000
        assert "1,800 more columns not shown" in status(app)
        await run(app, pilot, "SELECT content FROM posts")
        assert grid(app).cell_text(0, 0).plain.endswith("…")
        grid(app).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ValueScreen))
        shown = str(app.screen.query_one("#value").render())
        assert shown.endswith("… the first 200,000 characters of 10,000,000")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        await run(app, pilot, "SELECT * FROM posts WHERE 0")
        assert "0 rows" in status(app) and grid(app).row_count == 0  # headers shown, no rows
        console(app).query_one(SqlEditor).load_text("   -- only a comment")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert idle(app)
    await workspace.close()


async def test_leaving_mid_query_returns_at_once(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=1)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot, workspace)
        await run(
            app,
            pilot,
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) "
            "SELECT count(*) FROM c",
            wait=False,
        )
        await until(pilot, lambda: screen.busy)
        started = time.monotonic()
        app.action_back()  # what escape does; the test driver's own waits are not timed
        await until(pilot, lambda: screen.connection.closed, timeout=3)
        assert time.monotonic() - started < 1.5
        assert not isinstance(app.screen, ConsoleScreen)
    await workspace.close()


async def test_a_closed_console_and_its_result_are_collected(tmp_path: Path):
    """A query freezes what exists for the garbage collector (`ui/heap.py`); leaving the
    console must still free the console, its widgets and its rows."""
    import gc
    import weakref

    workspace, _ = await workspace_with(tmp_path, {"acme": dict(published=120)})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot, workspace)
        await run(app, pilot, "SELECT * FROM posts")
        assert grid(app).row_count == 120
        assert gc.get_freeze_count() > 0  # the query set the heap aside
        gone = weakref.ref(screen)
        grid_gone = weakref.ref(grid(app))
        del screen
        app.action_back()  # what escape does
        await until(pilot, lambda: not isinstance(app.screen, ConsoleScreen))

        def collected() -> bool:
            # The screen is removed (and releases the heap) in its own task, which a loaded
            # machine runs later; frozen objects would survive every collection.
            gc.collect()
            return gone() is None and grid_gone() is None

        await until(pilot, collected, timeout=5)
    await workspace.close()
