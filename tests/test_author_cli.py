"""`tursotui author` and `author purge`: the author screen's reads and purge, from a shell."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from support.author_fixtures import Made, local_tenant
from support.moderation_fixtures import rows
from tursotui.cli import main
from tursotui.session.settings import load_settings
from tursotui.session.workspace import Workspace

EMAIL = "Bob.Smith@Example.com"


@pytest.fixture
async def fleet(tmp_path: Path) -> dict[str, tuple[Path, Made]]:
    """Tenants a (3 comments, 2 published posts), b (30 comments), c (the email absent)."""
    workspace = await Workspace.open(load_settings())
    made = {}
    specs = {
        "a": (EMAIL, {"comments": 3, "published": 2, "drafts": 1}),
        "b": ("bob.smith@example.com", {"comments": 30}),
        "c": ("carol@example.com", {"comments": 2}),
    }
    try:
        for slug, (email, spec) in specs.items():
            path = tmp_path / f"{slug}.db"
            made[slug] = (path, await local_tenant(path, email, **spec))
            await workspace.registry.add(slug, f"file:{path}")
    finally:
        await workspace.close()
    return made


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["author", *args])
    out, err = capsys.readouterr()
    return code, out, err


class Terminal(io.StringIO):
    """A stdin that is a terminal, with what the operator types."""

    def isatty(self) -> bool:
        return True


def comments(path: Path, made: Made) -> int:
    return rows(path, "SELECT count(*) FROM comments WHERE author_id = ?", (made.author,))[0][0]


def test_show_finds_the_author_in_any_case_as_json_and_table(fleet, capsys) -> None:
    code, out, _ = run(capsys, "a", "BOB.SMITH@example.COM", "--json")
    assert code == 0
    record = json.loads(out)
    assert record["email"] == EMAIL and record["name"] == "Bob Smith"
    assert record["posts_by_status"] == {"published": 2, "draft": 1}
    assert record["comment_count"] == 3
    assert record["comments"][0]["content"] == "comment 2 <b>[red]x"
    assert len(record["posts"]) == 3
    code, out, _ = run(capsys, "a", fleet["a"][1].author)  # by id
    assert code == 0
    assert EMAIL in out and "published 2" in out and "comment 2 <b>[red]x" in out


def test_show_an_unknown_author_or_tenant_fails_with_one_line(fleet, capsys) -> None:
    code, out, err = run(capsys, "c", EMAIL)
    assert code == 1 and out == ""
    assert err.strip() == f"error: c: no author {EMAIL} (by email, in any case, or by user id)"
    code, _, err = run(capsys, "nope", EMAIL)
    assert code == 1 and "no tenant nope" in err


def test_dry_run_prints_counts_per_tenant_and_changes_nothing(fleet, capsys) -> None:
    code, out, _ = run(
        capsys, "purge", "--all", EMAIL, "--comments", "--posts", "archive", "--dry-run", "--json"
    )
    assert code == 0
    record = json.loads(out)
    counts = {t["tenant"]: (t.get("comments"), t.get("posts")) for t in record["tenants"]}
    assert counts == {"a": (3, 3), "b": (30, 0), "c": (None, None)}
    assert record["dry_run"] is True
    for slug in "ab":
        path, made = fleet[slug]
        assert comments(path, made) == len(made.comments)
    assert not (load_settings().data_dir / "audit.jsonl").exists()


def test_purge_without_a_terminal_needs_yes(fleet, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "purge", "a", EMAIL, "--comments")
    assert code == 1
    assert "add --yes to confirm" in err
    assert comments(*fleet["a"]) == 3


def test_purge_with_yes_on_named_tenants(fleet, capsys) -> None:
    code, out, err = run(
        capsys, "purge", "a", "b", EMAIL, "--comments", "--posts", "draft", "--yes", "--json",
        "--reason", "spam",
    )  # fmt: skip
    assert code == 0, err
    record = json.loads(out)
    states = {t["tenant"]: t["state"] for t in record["tenants"]}
    assert states == {"a": "done", "b": "done"}
    for slug in "ab":
        assert comments(*fleet[slug]) == 0
    path, made = fleet["a"]
    assert rows(path, "SELECT DISTINCT status FROM posts WHERE author_id = ?", (made.author,)) == [
        ("draft",)
    ]
    log = (load_settings().data_dir / "audit.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in log if json.loads(line)["status"] == "ok"]
    assert {e["group"] for e in entries} == {record["group"]}
    assert {e["reason"] for e in entries} == {"spam"}


def test_above_the_threshold_the_email_must_be_typed(fleet, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    code, _, err = run(capsys, "purge", "b", EMAIL, "--comments")
    assert code == 1 and "Type the email to confirm" in err and "not confirmed" in err
    assert comments(*fleet["b"]) == 30
    monkeypatch.setattr("sys.stdin", Terminal("bob.smith@example.com\n"))
    code, _, err = run(capsys, "purge", "b", EMAIL, "--comments")
    assert code == 0, err
    assert comments(*fleet["b"]) == 0
    assert "1 of 1 tenant done" in err


def test_below_the_threshold_y_is_enough(fleet, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, _, err = run(capsys, "purge", "a", EMAIL, "--comments")
    assert code == 0, err
    assert "[y/N]" in err
    assert comments(*fleet["a"]) == 0


def test_read_only_refuses_and_usage_errors_exit_2(fleet, capsys) -> None:
    code, _, err = run(capsys, "purge", "a", EMAIL, "--comments", "--yes", "--read-only")
    assert code == 1 and "read-only session" in err
    assert comments(*fleet["a"]) == 3
    for args in (
        ("purge", "a", EMAIL),  # nothing to purge
        ("purge", EMAIL, "--comments"),  # no tenant
        ("purge", "a", EMAIL, "--all", "--comments"),  # both
    ):
        with pytest.raises(SystemExit) as exited:
            main(["author", *args])
        assert exited.value.code == 2
