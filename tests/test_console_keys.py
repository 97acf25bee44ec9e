"""Keys a fast typist can trust in and around the SQL console: quitting asks whatever the key,
letters stay in the console, its text is kept per tenant, and it has its own timeout."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from textual.widgets import TextArea

from moderation_fixtures import make_test_app, rows, screen_text, workspace_with
from test_console import console, grid, idle, open_console, run, status, wait_until
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.widgets.sql_editor import SqlEditor
from tursotui.ui.widgets.sql_error import SqlErrorScreen

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
        await wait_until(pilot, lambda: "Commit, or roll back?" in screen_text(app))
        # Twice in one burst: one question, and the app still runs.
        await pilot.press(key, key)
        await wait_until(pilot, lambda: "Quit anyway?" in screen_text(app))
        quit_questions = [
            s
            for s in app.screen_stack
            if isinstance(s, ConfirmScreen) and "Quit anyway?" in s.message.plain
        ]
        assert len(quit_questions) == 1
        assert app.is_running
        await pilot.press("n")  # stay: the write preview is still there
        await wait_until(pilot, lambda: "Commit, or roll back?" in screen_text(app))
        assert app.is_running
        await pilot.press(key)
        await wait_until(pilot, lambda: "Quit anyway?" in screen_text(app))
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running)
    assert rows(path, "SELECT title FROM posts WHERE id = ?", (ids["draft"][0],)) != [("gone",)]
    last = audit_lines(workspace)[-1]
    assert last["action"] == "sql" and last["status"] == "failed"
    assert last["detail"] == "the app was closed before the write was committed"
    await workspace.close()


# -- the console's own timeout -----------------------------------------------------------


@pytest.mark.servers
async def test_console_has_its_own_timeout_and_a_run_without_one(
    fault_proxy, jwt_keys, tmp_path: Path, monkeypatch
):
    from secrets_watch import watch
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
        await wait_until(pilot, lambda: isinstance(app.screen, SqlErrorScreen))
        shown = app.screen.query_one(TextArea).text
        assert "did not answer within 1.5 s · f5 runs it with no time limit" in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: idle(app))
        assert "did not answer within 1.5 s" in status(app)
        # f5: the same statement, for as long as it takes.
        console(app).query_one(SqlEditor).focus()
        await pilot.press("f5")
        await wait_until(pilot, lambda: "no time limit" in status(app))
        await wait_until(pilot, lambda: idle(app), timeout=20)
        assert grid(app).values == [("a",), ("b",), ("c",)], status(app)
        assert console(app).connection.timeout == 1.5  # the limit is back for the next run
        # ctrl+g still stops a run without a limit, at once.
        fault_proxy.stall()
        await pilot.press("f5")
        await wait_until(pilot, lambda: console(app).busy)
        started = time.monotonic()
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: idle(app))
        assert time.monotonic() - started < 2
        assert "cancelled" in status(app)
        fault_proxy.pass_through()
    await workspace.close()
