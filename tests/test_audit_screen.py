"""The audit screen: an entry shown whole, filters by tenant and action, failed writes in red,
and `r` keeping the cursor on its entry."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from support.moderation_fixtures import make_test_app, settle, workspace_with
from support.screen import screen_text
from tursotui.ui.screens.audit import AuditScreen, matches
from tursotui.ui.screens.audit_entry import AuditEntryScreen

DROP = "DELETE FROM posts WHERE title = 'x\x1b[31m'"


async def _log(audit) -> None:
    """Four writes on two tenants: a publish, a failed console write, a move back to draft."""
    async with audit.recording("publish", "acme", ["p1", "p2"], before="draft", after="published"):
        pass
    with pytest.raises(RuntimeError):
        async with audit.recording("sql", "globex", detail=DROP):
            raise RuntimeError("database is locked")
    async with audit.recording("draft", "acme", ["p3"], before="published", after="draft") as e:
        e.before = {"status": "published", "published_at": {"p3": 1700000000}}
        e.after = {"status": "draft", "published_at": None}
    async with audit.recording("sql", "acme", detail="UPDATE posts SET title = 'y'"):
        pass


def _table(app) -> DataTable:
    return app.screen.query_one("#audit-table", DataTable)


def _column(app, column: str) -> list[str]:
    table = _table(app)
    return [str(table.get_cell(row.key, column)) for row in table.ordered_rows]


async def _open(tmp_path):
    workspace, _made = await workspace_with(tmp_path, {})
    await _log(workspace.audit)
    return workspace, make_test_app(workspace)


async def test_failed_writes_stand_out_and_enter_shows_an_entry_whole(tmp_path):
    workspace, app = await _open(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(AuditScreen())
        await settle(app, pilot)
        assert _column(app, "action") == ["sql", "draft", "sql", "publish"]  # newest first
        table = _table(app)
        failed = table.get_row_at(2)
        assert str(failed[6]) == "failed"
        assert all("red" in str(cell.style) for cell in failed)  # the whole row
        assert not any("red" in str(cell.style) for cell in table.get_row_at(3))
        assert "1 failed" in screen_text(app)
        assert "published → draft (published_at cleared)" in _column(app, "change")
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AuditEntryScreen)
        text = screen_text(app)
        # The SQL that was asked (escape shown, not run) and the error that stopped it.
        assert "DELETE FROM posts WHERE title = 'x␛[31m'" in text
        assert "error" in text and "database is locked" in text
        assert "globex" in text
        await pilot.press("escape", "up", "enter")
        await settle(app, pilot)
        text = screen_text(app)
        assert "p3" in text and "1700000000" in text and '"published_at": null' in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, AuditScreen)
    await workspace.close()


async def test_slash_filters_by_tenant_and_action_and_f_shows_only_failures(tmp_path):
    workspace, app = await _open(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(AuditScreen())
        await settle(app, pilot)
        await pilot.press("slash", *"tenant:acme action:sql", "enter")
        await settle(app, pilot)
        assert _column(app, "tenant") == ["acme"] and _column(app, "action") == ["sql"]
        assert "1 of 4 writes" in screen_text(app)
        await pilot.press("slash", *["backspace"] * 22, *"locked", "enter")  # words: anywhere
        await settle(app, pilot)
        assert _column(app, "tenant") == ["globex"]
        await pilot.press("escape", "f")  # clears the filter; only the failed writes
        await settle(app, pilot)
        assert _column(app, "outcome") == ["failed"]
        await pilot.press("f")
        await settle(app, pilot)
        assert len(_column(app, "outcome")) == 4
    await workspace.close()


async def test_r_keeps_the_cursor_on_its_entry_and_new_writes_show_on_return(tmp_path):
    workspace, app = await _open(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(AuditScreen())
        await settle(app, pilot)
        await pilot.press("down", "down")
        chosen = app.screen.current_entry()
        assert chosen.action == "sql" and chosen.tenant == "globex"
        async with workspace.audit.recording("archive", "acme", ["p9"], after="archived"):
            pass
        await pilot.press("r")
        await settle(app, pilot)
        assert _column(app, "action")[0] == "archive"
        assert app.screen.current_entry().id == chosen.id
    await workspace.close()


def test_filter_words_match_fields_or_anywhere():
    from tursotui.session.audit import AuditEntry

    entry = AuditEntry("publish", "acme", ["p1"], "draft", "published", "ok", None, "ann")
    assert matches(entry, "tenant:ac action:pub")
    assert not matches(entry, "tenant:globex")
    assert matches(entry, "P1") and not matches(entry, "p2")
    assert not matches(entry, "", failed_only=True)
