"""`tursotui posts`, `comments` and `search`: the content reads on the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from support.servers import free_port
from test_cli import one_error_line, run
from test_content_search import LONG, literal_tenant
from tursotui.cli.content import comments_subcommands


@pytest.fixture
def acme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A registered tenant `acme` holding the texts a search must take literally."""
    path = tmp_path / "acme.db"
    asyncio.run(literal_tenant(path))
    assert run(capsys, "tenants", "add", "acme", "--url", f"file:{path}")[0] == 0
    return path


def test_posts_with_a_literal_search_and_an_author_in_another_case(
    capsys: pytest.CaptureFixture[str], acme: Path
) -> None:
    before = acme.read_bytes()
    status, out, _err = run(capsys, "posts", "acme", "--search", "100%", "--json")
    assert status == 0
    [post] = json.loads(out)
    assert post["id"] == "pct" and post["status"] == "published"
    assert "100% off" in post["match"]
    status, out, _err = run(
        capsys, "posts", "acme", "--author", "MALLORY@example.com", "--limit", "3", "--json"
    )
    assert [p["id"] for p in json.loads(out)] == ["case", "long", "slash"]  # newest first
    status, out, err = run(capsys, "posts", "acme", "--search", LONG)
    assert status == 0 and "long one" in out and "1 post on acme" in err
    status, out, _err = run(capsys, "posts", "acme", "--search", "[b]bold[/b]")
    assert "[b]bold[/b] and [link=http://x]x[/link]" in out
    assert run(capsys, "posts", "acme", "--status", "draft", "--json")[1] == "[]\n"
    assert acme.read_bytes() == before  # only read


def test_comments_by_post_search_and_author(capsys: pytest.CaptureFixture[str], acme: Path) -> None:
    status, out, _err = run(capsys, "comments", "acme", "--search", "\\%", "--json")
    assert status == 0
    [comment] = json.loads(out)
    assert comment["id"] == "c-slash" and comment["post_id"] == "slash"
    assert comment["post_title"] == "paths"
    status, out, _err = run(capsys, "comments", "acme", "--post", "quote", "--json")
    assert [c["content"] for c in json.loads(out)] == ['re: it\'s "fine"; DROP TABLE posts; --']
    status, out, _err = run(capsys, "comments", "acme", "--author", "nobody@x", "--json")
    assert (status, out) == (0, "[]\n")
    status, out, err = run(capsys, "comments", "list", "acme", "--limit", "2")
    assert status == 0 and "c-case" in out and "c-long" in out and "more" in err


def test_search_across_tenants_and_a_dead_one_exits_1(
    capsys: pytest.CaptureFixture[str], acme: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    asyncio.run(literal_tenant(other))
    assert run(capsys, "tenants", "add", "other", "--url", f"file:{other}")[0] == 0
    status, out, _err = run(capsys, "search", "snake_case", "--all", "--json")
    assert status == 0
    found = json.loads(out)
    assert {(r["tenant"], r["kind"], r["id"]) for r in found} == {
        ("acme", "post", "under"),
        ("other", "post", "under"),
    }
    status, out, _err = run(capsys, "search", "100%", "acme", "--in", "comments", "--json")
    assert [(r["kind"], r["id"], r["post_id"]) for r in json.loads(out)] == [
        ("comment", "c-pct", "pct")
    ]
    assert "100% off" in json.loads(out)[0]["match"]
    port = free_port()
    assert run(capsys, "tenants", "add", "gone", "--url", f"http://127.0.0.1:{port}")[0] == 0
    status, out, err = run(capsys, "--read-only", "search", "snake_case", "--all")
    assert status == 1
    assert "acme" in out and "other" in out  # the tenants that answered are printed
    assert "FAILED" in err and "gone" in err and "1 could not be searched" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "x"],  # no tenants named, no --all
        ["search", "x", "acme", "--all"],
        ["search", "x", "--all", "--in", "users"],
        ["posts", "acme", "--limit", "0"],
        ["comments"],
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert run(capsys, *argv)[0] == 2


def test_an_unknown_tenant_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run(capsys, "posts", "nope")
    assert status == 1 and "no tenant 'nope'" in one_error_line(err)
    status, _out, err = run(capsys, "comments", "nope")
    assert status == 1 and "nope" in one_error_line(err)


def test_comments_takes_subcommands_added_later() -> None:
    """`comments delete ...` can be added by another module; `comments SLUG` still lists."""
    import argparse

    from tursotui.cli import content

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    content.register(commands)
    delete = comments_subcommands(commands).add_parser("delete")
    delete.add_argument("slug")
    delete.add_argument("ids", nargs="+")
    delete.set_defaults(handler="delete")
    args = parser.parse_args(["comments", "delete", "acme", "1", "2"])
    assert (args.handler, args.slug, args.ids) == ("delete", "acme", ["1", "2"])
    args = parser.parse_args(["comments", "acme", "--search", "delete"])
    assert (args.handler, args.slug, args.search) == (content.list_comments, "acme", "delete")
