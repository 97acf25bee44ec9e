"""`tursotui sql`: the console's rules without a screen; rows on stdout, messages on stderr."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from support.moderation_fixtures import rows, workspace_with
from tursotui.cli import main
from tursotui.console.history import History


@pytest.fixture
async def tenant(tmp_path: Path) -> Path:
    workspace, made = await workspace_with(
        tmp_path, {"acme": dict(drafts=2, published=3, comments_per_post=1)}
    )
    await workspace.close()
    return made["acme"][0]


def sql(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["sql", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_an_array_of_objects_keyed_by_column(tenant, capsys):
    code, out, err = sql(
        capsys,
        "acme",
        "SELECT title, published_at, x'0102' AS b FROM posts WHERE status = 'draft' ORDER BY title",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out) == [
        {"title": "draft 0", "published_at": None, "b": "AQI="},
        {"title": "draft 1", "published_at": None, "b": "AQI="},
    ]
    assert "2 rows" in err


def test_json_holds_infinities_and_blobs_as_text(tenant, capsys):
    # JSON has no infinity: printed as text, like the table does, with a blob beside it.
    code, out, _ = sql(
        capsys, "acme", "SELECT 1e999 AS big, -1e999 AS small, x'ff' AS b", "--format", "json"
    )
    assert code == 0 and "Infinity" not in out
    assert json.loads(out) == [{"big": "inf", "small": "-inf", "b": "/w=="}]


def test_csv_and_table(tenant, capsys):
    code, out, _ = sql(
        capsys, "acme", "SELECT status, count(*) AS n FROM posts GROUP BY 1", "--format", "csv"
    )
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["status", "n"],
        ["draft", "2"],
        ["published", "3"],
    ]
    code, out, _ = sql(capsys, "acme", "SELECT 'a\x1b[31m' AS t, NULL AS n")
    assert code == 0
    assert out.splitlines()[0].split() == ["t", "n"]
    assert "\x1b" not in out and "NULL" in out  # escapes never reach the terminal


def test_writes_need_write_and_destructive_need_yes(tenant, capsys):
    code, out, err = sql(
        capsys, "acme", "/* hi */ UPDATE posts SET title = 'x' WHERE status = 'draft'"
    )
    assert code == 1 and "--write" in err and out == ""
    assert rows(tenant, "SELECT count(*) FROM posts WHERE title = 'x'") == [(0,)]

    code, _, err = sql(capsys, "acme", "WITH a AS (SELECT 1) DELETE FROM comments", "--write")
    assert code == 1 and "--yes" in err and "EVERY row" in err
    assert rows(tenant, "SELECT count(*) FROM comments") == [(5,)]

    code, _, err = sql(
        capsys, "acme", "UPDATE posts SET title = 'x' WHERE status = 'draft'", "--write"
    )
    assert code == 0 and "2 rows changed" in err
    assert rows(tenant, "SELECT count(*) FROM posts WHERE title = 'x'") == [(2,)]

    code, _, err = sql(capsys, "acme", "DELETE FROM comments", "--write", "--yes")
    assert code == 0 and "5 rows changed" in err
    assert rows(tenant, "SELECT count(*) FROM comments") == [(0,)]


def test_every_write_is_audited_with_its_sql(tenant, capsys):
    statement = "DELETE FROM posts WHERE status = 'published' RETURNING id"
    code, out, _ = sql(capsys, "acme", statement, "--write", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 3
    code, out, _ = main(["audit", "--json"]), capsys.readouterr().out, None
    entries = json.loads(out)
    assert entries[-1]["action"] == "sql" and entries[-1]["detail"] == statement
    assert entries[-1]["status"] == "ok" and entries[-1]["after"]["rows_changed"] == 3


def test_refusals(tenant, tmp_path, capsys):
    code, _, err = sql(capsys, "acme", f"ATTACH '{tmp_path}/x.db' AS x", "--write", "--yes")
    assert code == 1 and "ATTACH is refused" in err
    assert not (tmp_path / "x.db").exists()
    code, _, err = sql(capsys, "acme", "SELECT load_extension('x')")
    assert code == 1 and "load_extension is refused" in err
    code, _, err = sql(capsys, "acme", "BEGIN", "--write")
    assert code == 1 and "transaction" in err
    # Nothing of a script runs when one statement is refused.
    code, _, err = sql(capsys, "acme", "DELETE FROM comments WHERE 1; DETACH x", "--write")
    assert code == 1
    assert rows(tenant, "SELECT count(*) FROM comments") == [(5,)]


def test_read_only_mode_refuses_even_with_write(tenant, capsys):
    code, _, err = sql(capsys, "acme", "DELETE FROM comments WHERE 1", "--write", "--read-only")
    assert code == 1 and "read-only" in err
    assert rows(tenant, "SELECT count(*) FROM comments") == [(5,)]


def test_errors_are_one_line_and_usage_is_2(tenant, capsys):
    code, out, err = sql(capsys, "acme", "SELECT * FROM nope")
    assert code == 1 and out == "" and "no such table: nope" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = sql(capsys, "acme", "selec 1")
    assert code == 1 and 'near "selec"' in err
    code, _, err = sql(capsys, "ghost", "SELECT 1")
    assert code == 1 and "ghost" in err
    code, _, _ = sql(capsys, "acme", "  -- nothing  ")
    assert code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["sql", "acme", "SELECT 1", "--format", "xml"])
    assert exit_info.value.code == 2


def test_history_is_shared_with_the_console(tenant, capsys):
    from tursotui.session.settings import load_settings

    sql(capsys, "acme", "SELECT count(*) FROM users")
    entries = History.for_tenant(load_settings().data_dir, "acme").entries()
    assert entries[0].sql == "SELECT count(*) FROM users" and entries[0].ok


def test_json_escapes_del_and_c1_controls_as_the_table_does(tenant, capsys):
    """U+009B is a one-byte CSI: printed raw, the terminal would obey what follows it."""
    code, out, _ = sql(
        capsys,
        "acme",
        "SELECT 'a' || char(127) || 'b' || char(155) || '2J' || char(8238) AS t",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out) == [{"t": "a\x7fb\x9b2J\u202e"}]
    assert not any(0x7F <= ord(ch) <= 0x9F or ch == "\u202e" for ch in out)
    assert "\\u009b" in out and "\\u007f" in out
    code, out, _ = sql(capsys, "acme", "SELECT char(155) AS t", "--format", "table")
    assert code == 0 and "\x9b" not in out
