"""Statement classification: never fooled into calling a write a read."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tursotui.sqltext import classify, split_statements, statement_at


@pytest.mark.parametrize(
    ("sql", "verb"),
    [
        ("SELECT * FROM posts", "SELECT"),
        ("select 'drop table t'", "SELECT"),
        ("select 'x'';DELETE FROM t;--'", "SELECT"),
        ("/* DELETE FROM t */ SELECT 1", "SELECT"),
        ("-- DELETE\nSELECT 1", "SELECT"),
        ('SELECT "delete" FROM t', "SELECT"),
        ("SELECT [drop] FROM t", "SELECT"),
        ("VALUES (1), (2)", "VALUES"),
        ("EXPLAIN QUERY PLAN DELETE FROM t", "EXPLAIN"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "SELECT"),
        (
            "WITH RECURSIVE c(n) AS (VALUES(1) UNION ALL SELECT n+1 FROM c) SELECT n FROM c",
            "SELECT",
        ),
        ("WITH a AS NOT MATERIALIZED (SELECT 1), b AS (SELECT 2) SELECT * FROM a, b", "SELECT"),
        ("PRAGMA journal_mode", "PRAGMA"),
        ("PRAGMA main.user_version", "PRAGMA"),
        ("PRAGMA table_info(posts)", "PRAGMA"),
        ("PRAGMA index_list('posts')", "PRAGMA"),
        ("select replace(title, 'a', 'b') from posts;", "SELECT"),
        ("SELECT x'00ff', 1e+5, ?1, :name FROM t", "SELECT"),
    ],
)
def test_reads_are_reads(sql: str, verb: str) -> None:
    kind = classify(sql)
    assert kind.verb == verb
    assert not kind.writes
    assert not kind.destructive
    assert kind.forbidden is None


@pytest.mark.parametrize(
    ("sql", "verb", "destructive"),
    [
        ("/* x */ DELETE FROM posts WHERE id = 1", "DELETE", False),
        ("/* x */ DELETE FROM posts", "DELETE", True),
        ("WITH x AS (SELECT 1) DELETE FROM t", "DELETE", True),
        ("WITH x AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM x)", "DELETE", False),
        ("DELETE FROM t RETURNING (SELECT 1 FROM u WHERE 1)", "DELETE", True),
        ("UPDATE t SET a = (SELECT b FROM c WHERE d)", "UPDATE", True),
        ("update t set a = 1 where id = 2", "UPDATE", False),
        ("INSERT INTO t VALUES (1)", "INSERT", False),
        ("insert or replace into t values (1)", "INSERT", False),
        ("REPLACE INTO t VALUES (1)", "REPLACE", False),
        ("CREATE TABLE t (a)", "CREATE", False),
        ("DROP TABLE IF EXISTS t", "DROP", True),
        ("ALTER TABLE t ADD COLUMN b", "ALTER", True),
        ("VACUUM", "VACUUM", True),
        ("PRAGMA journal_mode = DELETE", "PRAGMA", False),
        ("PRAGMA user_version(5)", "PRAGMA", False),
        ("PRAGMA optimize", "PRAGMA", False),
        ("BEGIN", "BEGIN", False),
        ("COMMIT", "COMMIT", False),
        ("REINDEX", "REINDEX", False),
        ("ANALYZE", "ANALYZE", False),
        ("(SELECT 1)", "", False),
        ("WITH x AS SELECT 1", "WITH", False),
        ("SELECT 1; DELETE FROM t", "SELECT", True),
    ],
)
def test_writes_are_writes(sql: str, verb: str, destructive: bool) -> None:
    kind = classify(sql)
    assert kind.verb == verb
    assert kind.writes
    assert kind.destructive is destructive


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH 'other.db' AS o",
        "attach database 'x' as y",
        "/* hi */ DETACH o",
        "SELECT load_extension('evil')",
        "SELECT \"load_extension\"('evil')",
        "SELECT 1; ATTACH 'x' AS y",
    ],
)
def test_reaching_out_is_forbidden(sql: str) -> None:
    assert classify(sql).forbidden


@pytest.mark.parametrize(
    "sql", ["SELECT 'attach x as y'", "-- ATTACH\nSELECT 1", 'SELECT "attach_date" FROM t']
)
def test_forbidden_words_in_literals_are_fine(sql: str) -> None:
    assert classify(sql).forbidden is None


def test_transaction_control_is_flagged() -> None:
    assert classify("begin immediate").is_transaction_control
    assert classify("ROLLBACK TO sp").is_transaction_control
    assert not classify("SELECT 1").is_transaction_control


def test_empty_statement() -> None:
    kind = classify("  -- nothing\n ")
    assert kind.verb == ""
    assert not kind.writes


def test_tables_best_effort() -> None:
    assert classify("SELECT * FROM posts p JOIN users u ON u.id = p.author_id").tables == (
        "posts",
        "users",
    )
    assert classify("DELETE FROM main.comments WHERE 1").tables == ("main.comments",)
    assert classify('UPDATE OR IGNORE "my posts" SET a = 1').tables == ("my posts",)
    assert classify("INSERT INTO t SELECT * FROM u").tables == ("t", "u")
    assert classify("SELECT * FROM a, b AS bb, c WHERE 1").tables == ("a", "b", "c")


def test_split_respects_strings_comments_and_triggers() -> None:
    text = (
        "select 1; select ';' ; /* ; */ select 2 -- ;\n;"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN 1 THEN 2 END;"
        " DELETE FROM u; END;\n-- trailing comment only\n"
    )
    spans = split_statements(text)
    assert [s.sql for s in spans] == [
        "select 1",
        "select ';'",
        "/* ; */ select 2",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN 1 THEN 2 END;"
        " DELETE FROM u; END",
    ]
    for span in spans:
        assert text[span.start : span.end] == span.sql
    # Each piece is one complete statement as SQLite sees it.
    for span in spans:
        assert sqlite3.complete_statement(span.sql + ";")


def test_split_runs_in_sqlite() -> None:
    db = sqlite3.connect(":memory:")
    text = (
        "CREATE TABLE t (a); CREATE TABLE log (x);"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END;"
        "INSERT INTO t VALUES ('a;b');"
    )
    for span in split_statements(text):
        db.execute(span.sql)
    assert db.execute("SELECT x FROM log").fetchall() == [("a;b",)]


def test_statement_at_cursor() -> None:
    text = "select 1;\nselect 2;\n\nselect 3"
    assert statement_at(text, 0).sql == "select 1"
    assert statement_at(text, 8).sql == "select 1"
    assert statement_at(text, 12).sql == "select 2"
    assert statement_at(text, len(text)).sql == "select 3"
    assert statement_at("  -- nothing", 3) is None


# --- property: no write is ever read-only ------------------------------------------------

_WRITES = [
    "DELETE FROM posts",
    "DELETE FROM posts WHERE id = 1",
    "UPDATE posts SET status = 'archived'",
    "INSERT INTO posts (id) VALUES ('x')",
    "INSERT OR REPLACE INTO posts (id) VALUES ('x')",
    "REPLACE INTO posts (id) VALUES ('x')",
    "DROP TABLE posts",
    "DROP INDEX i",
    "ALTER TABLE posts RENAME TO p",
    "CREATE TABLE z (a)",
    "CREATE INDEX zi ON posts (title)",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA user_version = 3",
    "PRAGMA foreign_keys(0)",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT s",
    "ATTACH 'x' AS y",
    "DETACH y",
]
_DESTRUCTIVE = {
    "DELETE FROM posts",
    "UPDATE posts SET status = 'archived'",
    "DROP TABLE posts",
    "DROP INDEX i",
    "ALTER TABLE posts RENAME TO p",
    "VACUUM",
}

_noise = st.sampled_from(
    [
        " ",
        "\n",
        "\t",
        "/* SELECT */",
        "/* a ; b */",
        "-- SELECT 1;\n",
        "/* 'x */",
        "-- ' \n",
        "/**/",
        "/* multi\nline */",
    ]
)
_padding = st.lists(_noise, max_size=3).map(" ".join)
_cte = st.sampled_from(
    [
        "",
        "WITH x AS (SELECT 1) ",
        "WITH x(a) AS (SELECT ';') ",
        "with recursive c(n) as (values(1) union all select n + 1 from c) ",
        "WITH a AS MATERIALIZED (SELECT 'delete'), b AS (SELECT 2) ",
    ]
)


def _random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=True))


@st.composite
def _disguised_writes(draw: st.DrawFn) -> tuple[str, str]:
    base = draw(st.sampled_from(_WRITES))
    cte = draw(_cte) if base.split()[0] in ("DELETE", "UPDATE", "INSERT", "REPLACE") else ""
    # Word separators become random comments/whitespace, never inside string literals.
    words = (cte + base).split(" ")
    joined = words[0]
    in_string = words[0].count("'") % 2 == 1
    for word in words[1:]:
        sep = " " if in_string else " " + draw(_padding) + " "
        joined += sep + word
        if word.count("'") % 2 == 1:
            in_string = not in_string
    text = draw(_padding) + _random_case(draw, joined) + draw(st.sampled_from(["", ";", " ; "]))
    text += draw(_padding)
    return base, text


@settings(max_examples=400, deadline=None)
@given(_disguised_writes())
def test_no_write_is_ever_read_only(case: tuple[str, str]) -> None:
    base, text = case
    kind = classify(text)
    assert kind.writes, text
    if base in _DESTRUCTIVE:
        assert kind.destructive, text
    if base.startswith(("ATTACH", "DETACH")):
        assert kind.forbidden, text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_never_crashes_and_spans_are_consistent(text: str) -> None:
    kind = classify(text)
    assert isinstance(kind.writes, bool)
    for span in split_statements(text):
        assert text[span.start : span.end] == span.sql
