"""Undo on screen: ctrl+z, the audit screen's undo keys, and the reason in the confirmation."""

from __future__ import annotations

from pathlib import Path

from support.keys import burst, quiet, typed
from support.moderation_fixtures import (
    make_test_app,
    rows,
    settle,
    until_confirm,
    workspace_with,
)
from support.screen import screen_text, until
from support.shell_fixtures import notifications
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.post import PostScreen
from tursotui.ui.widgets.row_list import RowList


async def _post_app(tmp_path: Path, *, read_only: bool = False):
    workspace, made = await workspace_with(
        tmp_path, {"acme": dict(published=2, comments_per_post=3)}, read_only=read_only
    )
    path, ids = made["acme"]
    return workspace, path, ids, make_test_app(workspace)


async def _open_post(app, pilot, workspace, post_id):
    tenant = await workspace.registry.get("acme")
    app.push_screen(PostScreen(tenant, post_id))
    await settle(app, pilot)
    return app.screen


def _comment_ids(app) -> list[str]:
    return app.screen.query_one("#post-comments", RowList).ordered_keys


async def test_a_reason_typed_in_a_burst_then_ctrl_z_puts_the_comment_back(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path)
    post_id = ids["published"][0]
    before = rows(path, "SELECT * FROM comments ORDER BY id")
    async with app.run_test(size=(110, 34)) as pilot:
        await _open_post(app, pilot, workspace, post_id)
        first = _comment_ids(app)[0]
        # x, then at once: r, a reason holding y and n, enter (leaves the line), y (answers).
        burst(app, "x")
        await until_confirm(app, pilot)
        burst(app, "r", *typed("yes, spam"), "enter", "y")
        await quiet(app, pilot)
        assert rows(path, "SELECT count(*) FROM comments WHERE id = ?", (first,)) == [(0,)]
        deleted = workspace.audit.entries()[-1]
        assert (deleted.action, deleted.status, deleted.reason) == (
            "delete-comment",
            "ok",
            "yes, spam",
        )
        assert first not in _comment_ids(app)

        burst(app, "ctrl+z")
        await until_confirm(app, pilot)
        await until(pilot, lambda: "put back" in screen_text(app))
        text = screen_text(app)
        assert "acme: delete-comment → 1 deleted comment put back (reason: yes, spam)" in text
        burst(app, "y")
        await quiet(app, pilot)
        assert rows(path, "SELECT * FROM comments ORDER BY id") == before
        undo = workspace.audit.entries()[-1]
        assert (undo.action, undo.status, undo.undoes) == ("undo", "ok", deleted.id)
        await until(pilot, lambda: first in _comment_ids(app))  # the screen caught up

        # Nothing of this session is left to undo (the undo itself is not redone by ctrl+z).
        burst(app, "ctrl+z")
        await quiet(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert rows(path, "SELECT * FROM comments ORDER BY id") == before
    await workspace.close()


async def test_enter_in_the_reason_line_does_not_delete(tmp_path):
    workspace, path, ids, app = await _post_app(tmp_path)
    post_id = ids["published"][0]
    async with app.run_test(size=(110, 34)) as pilot:
        await _open_post(app, pilot, workspace, post_id)
        burst(app, "x")
        await until_confirm(app, pilot)
        burst(app, "r", *typed("no reason"), "enter", "enter")  # enter on "no": cancelled
        await quiet(app, pilot)
        assert rows(path, "SELECT count(*) FROM comments WHERE post_id = ?", (post_id,)) == [(3,)]
        assert not isinstance(app.screen, ConfirmScreen)
        assert [e.action for e in workspace.audit.entries()] == []
    await workspace.close()


async def test_enter_typed_with_the_key_that_asks_answers_no(tmp_path):
    """`x` and `enter` in one burst: the enter belongs to the confirmation `x` opens, whose
    focused answer is "no" (an absent-minded enter deletes nothing)."""
    workspace, path, ids, app = await _post_app(tmp_path)
    post_id = ids["published"][0]
    async with app.run_test(size=(110, 34)) as pilot:
        post = await _open_post(app, pilot, workspace, post_id)
        burst(app, "x", "enter")
        # Before the gate waited for the worker `x` starts, the enter went to this screen
        # and was dropped, and the confirmation stayed open.
        gate = app.key_gate
        await until(pilot, lambda: gate.any_arrived and not gate.busy and app.screen is post, 10)
        await quiet(app, pilot)
        assert rows(path, "SELECT count(*) FROM comments WHERE post_id = ?", (post_id,)) == [(3,)]
        assert not isinstance(app.screen, ConfirmScreen)
        assert [e.action for e in workspace.audit.entries()] == []
    await workspace.close()


async def test_ctrl_z_is_refused_in_a_read_only_session(tmp_path):
    workspace, _, _, app = await _post_app(tmp_path, read_only=True)
    async with app.run_test(size=(110, 34)) as pilot:
        burst(app, "ctrl+z")
        await quiet(app, pilot)
        assert any("read-only mode" in n for n in notifications(app))
        assert not isinstance(app.screen, ConfirmScreen)
    await workspace.close()


async def test_ctrl_z_is_in_the_help(tmp_path):
    workspace, _, _, app = await _post_app(tmp_path)
    async with app.run_test(size=(110, 50)) as pilot:
        burst(app, "question_mark")
        await quiet(app, pilot)
        text = screen_text(app)
        assert "ctrl+z" in text and "Undo" in text
    await workspace.close()


async def test_the_audit_screen_undoes_a_whole_action_and_marks_it(tmp_path):
    from textual.widgets import DataTable

    from tursotui.tenant import moderation
    from tursotui.ui.screens.audit import AuditScreen

    spec = dict(published=2, comments_per_post=1)
    workspace, made = await workspace_with(tmp_path, {"acme": spec, "beta": spec})
    for slug in ("acme", "beta"):
        tenant = await workspace.registry.get(slug)
        conn = await workspace.connection(tenant)
        post = made[slug][1]["published"][0]
        await moderation.set_status(
            conn,
            workspace.audit,
            slug,
            [(post, "published")],
            "archived",
            reason="raid",
            group="g-7",
        )
    with workspace.audit.path.open("a") as file:
        file.write('{"action": "publish", "ten')  # a line cut short
    app = make_test_app(workspace)
    async with app.run_test(size=(130, 34)) as pilot:
        app.push_screen(AuditScreen())
        await settle(app, pilot)
        said = [n for n in notifications(app) if "cannot be read" in n]
        assert len(said) == 1 and "line 5" in said[0]
        assert "reason: raid" in screen_text(app), screen_text(app)
        burst(app, "Z")
        await until_confirm(app, pilot)
        await until(pilot, lambda: "beta: archive" in screen_text(app))
        text = screen_text(app)
        assert "acme: archive → 1 post archived → published (reason: raid)" in text
        burst(app, "r", *typed("mistake"), "enter", "y")
        await quiet(app, pilot)
        for slug in ("acme", "beta"):
            path, ids = made[slug]
            assert rows(path, "SELECT status FROM posts WHERE id = ?", (ids["published"][0],)) == [
                ("published",)
            ]
        undos = [e for e in workspace.audit.entries() if e.action == "undo" and e.status == "ok"]
        assert len(undos) == 2 and {u.reason for u in undos} == {"mistake"}
        burst(app, "r")  # reload: the broken line is not reported again
        await quiet(app, pilot)
        assert len([n for n in notifications(app) if "cannot be read" in n]) == 1
        table = app.screen.query_one("#audit-table", DataTable)
        outcomes = [str(table.get_row_at(i)[6]) for i in range(table.row_count)]
        actions = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
        assert actions == ["undo", "undo", "archive", "archive"]
        assert outcomes[2:] == ["undone", "undone"]
        table.move_cursor(row=2)
        burst(app, "z")  # undone already: said, not asked
        await quiet(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("undone already" in n for n in notifications(app))
    await workspace.close()
