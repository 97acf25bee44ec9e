"""Keys a fast typist can trust in and around the SQL console: quitting asks whatever the key,
letters stay in the console, its text is kept per tenant, and it has its own timeout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moderation_fixtures import make_test_app, rows, screen_text, workspace_with
from test_console import open_console, run, wait_until
from tursotui.ui.screens.confirm import ConfirmScreen

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
