"""`tursotui publish|archive|draft`, `comments delete` and `undo`, as a user runs them."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from pathlib import Path

import pytest

from support.moderation_fixtures import rows, workspace_with
from tursotui.cli import main
from tursotui.cli.moderate import hook_comments_delete
from tursotui.session.audit import AuditLog
from tursotui.session.settings import load_settings

SPEC = {"drafts": 2, "published": 3, "archived": 1, "comments_per_post": 2}


class Terminal(io.StringIO):
    """A stdin that is a terminal, with the answers already typed."""

    def isatty(self) -> bool:
        return True


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


@pytest.fixture
def acme(tmp_path: Path) -> tuple[Path, dict[str, list[str]]]:
    async def make() -> tuple[Path, dict[str, list[str]]]:
        workspace, made = await workspace_with(tmp_path, {"acme": SPEC})
        await workspace.close()
        return made["acme"]

    return asyncio.run(make())


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


def audit() -> AuditLog:
    settings = load_settings()
    return AuditLog(settings.data_dir / "audit.jsonl", settings.operator)


def status_of(path: Path, post: str) -> str:
    return rows(path, "SELECT status FROM posts WHERE id = ?", (post,))[0][0]


def test_archive_then_undo_with_json(capsys, acme, no_terminal) -> None:
    path, ids = acme
    a, b = ids["published"][:2]
    code, out, err = run(capsys, "archive", "acme", a, b, "--reason", "off-topic", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert sorted(record["changed"]) == sorted([a, b]) and record["conflicts"] == []
    assert "archived 2 posts on acme" in err
    assert (status_of(path, a), status_of(path, b)) == ("archived", "archived")
    entry = audit().entries()[-1]
    assert entry.id == record["audit_id"] and entry.reason == "off-topic"

    # Not a terminal and no --yes: refused, nothing written.
    code, _, err = run(capsys, "undo", record["audit_id"])
    assert code == 1 and "add --yes" in err
    assert status_of(path, a) == "archived"

    code, out, err = run(capsys, "undo", record["audit_id"][:8], "--yes", "--json")
    assert code == 0, err
    [undone] = json.loads(out)
    assert undone["entry"] == record["audit_id"] and sorted(undone["reverted"]) == sorted([a, b])
    assert (status_of(path, a), status_of(path, b)) == ("published", "published")
    assert "acme: reverted 2 rows" in err

    code, _, err = run(capsys, "undo", record["audit_id"], "--yes")
    assert code == 1 and "undone already" in err


def test_publish_reports_unchanged_missing_and_exit_status(capsys, acme) -> None:
    path, ids = acme
    draft, published = ids["draft"][0], ids["published"][0]
    code, out, err = run(capsys, "publish", "acme", draft, published, "nope", "--json")
    assert code == 1  # an id was not found
    record = json.loads(out)
    assert record["changed"] == [draft] and record["unchanged"] == [published]
    assert record["not_found"] == ["nope"]
    assert "not found on acme: nope" in err
    assert status_of(path, draft) == "published"


def test_unknown_tenant_is_one_error_line(capsys, acme) -> None:
    code, _, err = run(capsys, "draft", "nobody", "p1")
    assert code == 1 and err.strip() == "error: no tenant 'nobody' in the registry"


def test_comments_delete_refuses_without_yes_off_a_terminal(capsys, acme, no_terminal) -> None:
    path, _ = acme
    before = rows(path, "SELECT * FROM comments ORDER BY id")
    victim = before[0][0]
    code, _, err = run(capsys, "comments", "delete", "acme", victim)
    assert code == 1 and "add --yes" in err
    assert rows(path, "SELECT * FROM comments ORDER BY id") == before


def test_comments_delete_asks_on_a_terminal(capsys, acme, monkeypatch) -> None:
    path, _ = acme
    before = rows(path, "SELECT * FROM comments ORDER BY id")
    victim = before[0][0]
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, _, err = run(capsys, "comments", "delete", "acme", victim)
    assert code == 1 and "not confirmed" in err and before[0][1] in err  # the comment shown
    assert rows(path, "SELECT * FROM comments ORDER BY id") == before
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, _, err = run(capsys, "comments", "delete", "acme", victim, "--reason", "spam")
    assert code == 0, err
    assert rows(path, "SELECT count(*) FROM comments WHERE id = ?", (victim,)) == [(0,)]
    # `undo` without an id: this operator's newest undoable write, asked on the terminal.
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, _, err = run(capsys, "undo")
    assert code == 0, err
    assert "acme: delete-comment → 1 deleted comment put back (reason: spam)" in err
    assert rows(path, "SELECT * FROM comments ORDER BY id") == before


def test_comments_delete_yes_and_json(capsys, acme, no_terminal) -> None:
    path, _ = acme
    victims = [r[0] for r in rows(path, "SELECT id FROM comments ORDER BY id LIMIT 2")]
    code, out, _ = run(capsys, "comments", "delete", "acme", *victims, "gone", "--yes", "--json")
    assert code == 1  # one id was not there
    record = json.loads(out)
    assert sorted(record["deleted"]) == sorted(victims) and record["not_found"] == ["gone"]
    entry = audit().entries()[-1]
    assert sorted(r["id"] for r in entry.rows["comments"]) == sorted(victims)


def test_read_only_refuses_every_write(capsys, acme, no_terminal) -> None:
    path, ids = acme
    post = ids["published"][0]
    code, _, err = run(capsys, "--read-only", "archive", "acme", post)
    assert code == 1 and "read-only" in err
    assert run(capsys, "archive", "acme", post)[0] == 0
    code, _, err = run(capsys, "undo", "--yes", "--read-only")
    assert code == 1 and "read-only" in err
    code, _, err = run(capsys, "comments", "delete", "acme", "x", "--yes", "--read-only")
    assert code == 1 and "read-only" in err
    assert status_of(path, post) == "archived"


def test_undo_with_nothing_to_undo(capsys, acme) -> None:
    code, _, err = run(capsys, "undo", "--yes")
    assert code == 1 and "nothing to undo" in err


def test_comments_delete_hooks_into_a_listing_comments_command() -> None:
    """Another module's `comments SLUG` stays the listing; `comments delete ...` is ours."""
    parser = argparse.ArgumentParser(prog="tursotui")
    commands = parser.add_subparsers()
    listing = commands.add_parser("comments")
    listing.add_argument("slug")
    listing.add_argument("--post")
    listing.set_defaults(handler="listing")
    hook_comments_delete(commands)
    args = parser.parse_args(["comments", "acme", "--post", "p1"])
    assert (args.handler, args.slug, args.post) == ("listing", "acme", "p1")
    args = parser.parse_args(["comments", "delete", "acme", "c1", "c2", "--yes"])
    assert args.handler.__name__ == "run_delete_comments"
    assert (args.slug, args.comment_ids, args.yes) == ("acme", ["c1", "c2"], True)


def test_comments_delete_works_whichever_module_registers_first() -> None:
    """Registered before the listing: the listing's `comments` takes the word later."""
    parser = argparse.ArgumentParser(prog="tursotui")
    commands = parser.add_subparsers()
    hook_comments_delete(commands)
    listing = commands.add_parser("comments", help="list comments")
    listing.add_argument("slug")
    listing.add_argument("--limit", type=int)
    listing.set_defaults(handler="listing")
    args = parser.parse_args(["comments", "acme", "--limit", "5"])
    assert (args.handler, args.slug, args.limit) == ("listing", "acme", 5)
    args = parser.parse_args(["comments", "delete", "acme", "c1", "--reason", "spam"])
    assert args.handler.__name__ == "run_delete_comments"
    assert (args.slug, args.comment_ids, args.reason) == ("acme", ["c1"], "spam")
    assert "list comments" in parser.format_help() and "delete comments" not in (
        parser.format_help()
    )


def test_undo_with_a_conflict_exits_1_and_says_which(capsys, acme, no_terminal) -> None:
    path, ids = acme
    a, b = ids["published"][:2]
    code, out, _ = run(capsys, "archive", "acme", a, b, "--json")
    assert code == 0
    audit_id = json.loads(out)["audit_id"]
    code, _, _ = run(capsys, "draft", "acme", b)  # someone moves b on meanwhile
    assert code == 0
    code, out, err = run(capsys, "undo", audit_id, "--yes", "--json")
    assert code == 1
    [undone] = json.loads(out)
    assert undone["reverted"] == [a]
    assert undone["conflicts"] == {b: "post changed since (now draft)"}
    assert f"{b} post changed since (now draft)" in err
    assert (status_of(path, a), status_of(path, b)) == ("published", "draft")
