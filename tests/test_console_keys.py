"""Keys a fast typist can trust in and around the SQL console: quitting asks whatever the key,
letters stay in the console, its text is kept per tenant, and it has its own timeout."""

from __future__ import annotations

import json
import stat
import time
import uuid
from pathlib import Path

import pytest
from textual.widgets import TextArea

from support.moderation_fixtures import make_test_app, rows, workspace_with
from support.screen import screen_text, until
from test_console import console, grid, idle, open_console, run, status
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.console import ConsoleScreen
from tursotui.ui.screens.sql_error import SqlErrorScreen
from tursotui.ui.widgets.result_grid import ResultGrid
from tursotui.ui.widgets.sql_editor import SqlEditor

SIZE = (120, 40)


def audit_lines(workspace) -> list[dict]:
    path = workspace.settings.data_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- quitting while a write preview is open --------------------------------------------


@pytest.mark.parametrize("key", ["ctrl+q"])
async def test_quit_key_asks_while_a_write_preview_is_open(tmp_path: Path, key: str):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=2)})
    path, ids = made["acme"]
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await run(
            app,
            pilot,
            f"UPDATE posts SET title = 'gone' WHERE id = '{ids['draft'][0]}'",
            wait=False,
        )
        await until(pilot, lambda: "Commit, or roll back?" in screen_text(app))
        # Twice in one burst: one question, and the app still runs.
        await pilot.press(key, key)
        await until(pilot, lambda: "Quit anyway?" in screen_text(app))
        quit_questions = [
            s
            for s in app.screen_stack
            if isinstance(s, ConfirmScreen) and "Quit anyway?" in s.message.plain
        ]
        assert len(quit_questions) == 1
        assert app.is_running
        await pilot.press("n")  # stay: the write preview is still there
        await until(pilot, lambda: "Commit, or roll back?" in screen_text(app))
        assert app.is_running
        await pilot.press(key)
        await until(pilot, lambda: "Quit anyway?" in screen_text(app))
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running)
    assert rows(path, "SELECT title FROM posts WHERE id = ?", (ids["draft"][0],)) != [("gone",)]
    last = audit_lines(workspace)[-1]
    assert last["action"] == "sql" and last["status"] == "failed"
    assert last["detail"] == "the app was closed before the write was committed"
    await workspace.close()


async def test_ctrl_q_asks_while_a_query_runs_and_staying_keeps_it_running(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": {}})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        endless = (
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"
        )
        await run(app, pilot, endless, wait=False)
        await until(pilot, lambda: console(app).busy)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: "Quit anyway?" in screen_text(app))
        assert "SQL query" in screen_text(app)  # it names what is running
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        assert app.is_running and console(app).busy
        await pilot.press("ctrl+g")
        await until(pilot, lambda: idle(app))
    await workspace.close()


# -- the console's own timeout -----------------------------------------------------------


@pytest.mark.servers
async def test_console_has_its_own_timeout_and_a_run_without_one(
    fault_proxy, jwt_keys, tmp_path: Path, monkeypatch
):
    from support.secrets_watch import watch
    from test_console import _remote_workspace

    monkeypatch.setenv("TURSOTUI_TIMEOUT", "0.5")
    monkeypatch.setenv("TURSOTUI_CONSOLE_TIMEOUT", "1.5")
    token = watch(jwt_keys.token())
    table = f"t_{uuid.uuid4().hex[:10]}"
    workspace = await _remote_workspace(fault_proxy.url, token, table)
    assert workspace.settings.timeout == 0.5
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        # Slower than the app-wide timeout, within the console's: it answers.
        fault_proxy.delay(1000)
        await run(app, pilot, f"SELECT count(*) FROM {table}")
        assert grid(app).values == [(3,)], status(app)
        # Slower than the console's timeout: a clear failure, saying what to do.
        fault_proxy.delay(2500)
        await run(app, pilot, f"SELECT v FROM {table} ORDER BY id", wait=False)
        await until(pilot, lambda: isinstance(app.screen, SqlErrorScreen))
        shown = app.screen.query_one(TextArea).text
        assert "did not answer within 1.5 s · f5 runs it with no time limit" in shown
        await pilot.press("escape")
        await until(pilot, lambda: idle(app))
        assert "did not answer within 1.5 s" in status(app)
        # f5: the same statement, for as long as it takes.
        console(app).query_one(SqlEditor).focus()
        await pilot.press("f5")
        await until(pilot, lambda: "no time limit" in status(app))
        await until(pilot, lambda: idle(app), timeout=20)
        assert grid(app).values == [("a",), ("b",), ("c",)], status(app)
        assert console(app).connection.timeout == 1.5  # the limit is back for the next run
        # ctrl+g still stops a run without a limit, at once.
        fault_proxy.stall()
        await pilot.press("f5")
        await until(pilot, lambda: console(app).busy)
        started = time.monotonic()
        await pilot.press("ctrl+g")
        await until(pilot, lambda: idle(app))
        assert time.monotonic() - started < 2
        assert "cancelled" in status(app)
        fault_proxy.pass_through()
    await workspace.close()


# -- letters stay in the console; its text is kept per tenant ---------------------------


def draft_file(workspace, slug: str) -> Path:
    return workspace.settings.data_dir / "history" / f"{slug}.draft.sql"


async def test_letters_after_escape_stay_in_the_console_and_its_text_is_kept(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": dict(drafts=2), "beta": {}})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        # One burst: SQL typed, escape (to the grid), then the app's letters.
        await pilot.press(*"select 7 as x", "escape", "t", "q", "question_mark", "s", "t")
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, ConsoleScreen)
        assert console(app).query_one(SqlEditor).text == "select 7 as x"
        assert console(app).query_one(ResultGrid).has_focus
        assert "type in the editor (F2)" in status(app)
        # The footer and help do not offer keys that do nothing here.
        footer = screen_text(app).splitlines()[-1]
        assert " t " not in footer and " q " not in footer
        await pilot.press("f1")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        keys = [row[0] for row in app.screen.keys]
        assert "t" not in keys and "q" not in keys and "?" not in keys
        assert "f5" in keys and "escape" in keys
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        # escape from the grid leaves; the text is kept on disk, for the owner only.
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConsoleScreen))
        kept = draft_file(workspace, "acme")
        assert kept.read_text() == "select 7 as x"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert not any("select 7" in line for line in _history_lines(workspace, "acme"))
        # Reopened on the same tenant: the text is back; another tenant has its own.
        await open_console(app, pilot, workspace)
        assert console(app).query_one(SqlEditor).text == "select 7 as x"
        assert "the text you left here is back" in status(app)
        await pilot.press("end", *" + 1")  # escape saves at once, not after the quiet time
        await pilot.press("escape", "escape")
        await until(pilot, lambda: not isinstance(app.screen, ConsoleScreen))
        await open_console(app, pilot, workspace, "beta")
        assert console(app).query_one(SqlEditor).text == ""
        await pilot.press(*"select 2")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)
    assert draft_file(workspace, "beta").read_text() == "select 2"
    # A restart: a new app on the same data directory finds each tenant's text.
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        assert console(app).query_one(SqlEditor).text == "select 7 as x + 1"
    await workspace.close()


def _history_lines(workspace, slug: str) -> list[str]:
    path = workspace.settings.data_dir / "history" / f"{slug}.jsonl"
    return path.read_text().splitlines() if path.exists() else []


async def test_leaving_asks_when_the_text_cannot_be_kept(tmp_path: Path):
    workspace, _ = await workspace_with(tmp_path, {"acme": {}})
    history = workspace.settings.data_dir / "history"
    history.mkdir(parents=True, exist_ok=True)
    (history / "acme.draft.sql").mkdir()  # a directory where the file should go
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await pilot.press(*"select 1", "escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "cannot be kept" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        assert console(app).query_one(SqlEditor).text == "select 1"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ConsoleScreen))
    await workspace.close()


async def test_a_cancelled_write_is_audited_in_words(tmp_path: Path):
    """The audit log's reason for a write whose task was cancelled: words, not an exception
    name; the app's own reason once it is closing."""
    import asyncio

    from tursotui.session.audit import APP_CLOSED, CANCELLED, AuditLog

    audit = AuditLog(tmp_path / "audit.jsonl", "tester")
    started = asyncio.Event()

    async def write() -> None:
        async with audit.recording("sql", "acme", detail="DELETE FROM posts"):
            started.set()
            await asyncio.sleep(60)

    for reason in (CANCELLED, APP_CLOSED):
        audit.cancelled_because = reason
        started.clear()
        task = asyncio.create_task(write())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        last = audit.entries()[-1]
        assert (last.status, last.detail) == ("failed", reason)
    assert CANCELLED == "the write was stopped before it was committed"


async def test_the_palette_still_offers_help_and_quit_in_the_console(tmp_path: Path):
    """The console keeps `?` and `q` for typing; their commands stay in the palette."""
    workspace, _ = await workspace_with(tmp_path, {"acme": {}})
    app = make_test_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(app, pilot, workspace)
        await pilot.press("ctrl+p", *"help: keys")
        await until(pilot, lambda: screen_text(app).count("help: keys") == 2)  # typed, and offered
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        await pilot.press("ctrl+p", *"app: quit")
        await until(pilot, lambda: screen_text(app).count("app: quit") == 2)  # typed, and offered
        await pilot.press("enter")
        await until(pilot, lambda: not app.is_running)
    await workspace.close()
