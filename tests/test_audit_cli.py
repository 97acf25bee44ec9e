"""`tursotui audit [--json]` and the audit log screen."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from support.moderation_fixtures import make_test_app, settle, workspace_with
from support.screen import screen_text
from tursotui.cli import audit as cli_audit
from tursotui.cli import main
from tursotui.db import connect
from tursotui.tenant import moderation
from tursotui.ui.screens.audit import AuditScreen, settled


async def _log_some_writes(tmp_path: Path):
    workspace, made = await workspace_with(tmp_path, {"acme": dict(drafts=2, published=1)})
    path, ids = made["acme"]
    conn = await connect(f"file:{path}", name="acme")
    await moderation.set_status(
        conn, workspace.audit, "acme", [(ids["draft"][0], "draft")], "published"
    )
    await moderation.set_status(
        conn, workspace.audit, "acme", [(ids["draft"][1], "archived")], "published"
    )  # a conflict: it is a draft
    await conn.close()
    read_only = await connect(f"file:{path}", name="acme", read_only=True)
    with contextlib.suppress(moderation.ModerationError):
        await moderation.set_status(
            read_only, workspace.audit, "acme", [(ids["published"][0], "published")], "archived"
        )
    await read_only.close()
    return workspace, ids


async def test_audit_json_prints_every_entry(tmp_path, capsys):
    workspace, ids = await _log_some_writes(tmp_path)
    await workspace.close()
    assert await _run(["audit", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["status"] for e in entries] == ["pending", "ok", "pending", "ok", "pending", "failed"]
    assert entries[1]["row_ids"] == [ids["draft"][0]]
    assert entries[1]["before"] == "draft" and entries[1]["after"]["status"] == "published"
    assert list(entries[1]["after"]["published_at"]) == [ids["draft"][0]]  # the date it set
    assert entries[1]["operator"] == "tester" and entries[1]["tenant"] == "acme"
    assert entries[3]["row_ids"] == [] and "conflicts" in entries[3]["detail"]


async def test_audit_text_one_line_per_entry(tmp_path, capsys):
    workspace, ids = await _log_some_writes(tmp_path)
    await workspace.close()
    assert await _run(["audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    assert "tester  acme  publish  ok  " + ids["draft"][0] + "  draft -> published" in lines[1]
    assert "failed" in lines[5] and "read-only" in lines[5]


async def test_audit_empty_log(capsys):
    assert await _run(["audit"]) == 0
    assert "empty" in capsys.readouterr().err
    assert await _run(["audit", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


async def _run(argv: list[str]) -> int:
    """Parse with the audit command alone (other commands may be mid-edit in a shared tree)."""
    parser = argparse.ArgumentParser(prog="tursotui")
    cli_audit.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return await args.handler(args)


def test_main_dispatches_audit(capsys):
    assert main(["audit", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"


async def test_audit_screen_shows_each_write_once_with_its_outcome(tmp_path):
    workspace, ids = await _log_some_writes(tmp_path)
    assert [e.status for e in settled(workspace.audit.entries())] == ["failed", "ok", "ok"]
    app = make_test_app(workspace)
    async with app.run_test(size=(160, 50)) as pilot:
        app.push_screen(AuditScreen())
        await settle(app, pilot)
        text = screen_text(app)
        assert "3 writes · 1 failed" in text, text
        assert "draft → published" in text and "published → archived" in text
        assert ids["draft"][0] in text
    await workspace.close()


async def test_at_80_columns_the_detail_line_shows_what_the_table_leaves_out(tmp_path):
    workspace, _ids = await _log_some_writes(tmp_path)
    app = make_test_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AuditScreen())
        await settle(app, pilot)
        newest = settled(workspace.audit.entries())[0]
        detail = str(app.screen.query_one("#audit-detail").render())
        # The narrow table shows a count of rows and no outcome column in view; the
        # highlighted entry's line has its outcome, row ids and whole time.
        assert "failed" in detail and "rows " + ", ".join(newest.row_ids) in detail
        assert ":" in detail.split(" · ")[0] and len(detail.split(" · ")[0].strip()) == 19
        await pilot.press("down")
        detail = str(app.screen.query_one("#audit-detail").render())
        assert "ok" in detail and "published" in detail
    await workspace.close()
