"""SQL classification under attack: no write is ever classified as a read (issue 7).

`tests/test_classify.py` disguises a fixed list of writes with comments and case.
This goes further: statements are built from templates whose truth is known (does it
write? is it forbidden?) and disguised by hypothesis in every way SQLite still accepts:
comments that hold keywords, semicolons and quotes; string literals and quoted
identifiers that look like keywords; CTEs; nested parentheses; `RETURNING`;
`REPLACE`; `PRAGMA x=y`; `VACUUM INTO`; triggers whose bodies hold `;`. SQLite itself
checks every generated statement is valid (`EXPLAIN` compiles it without running it),
so the classifier is judged on real SQL only. Scripts of several statements must be
split where SQLite would split them, each part keeping its verdict.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from adversarial_stats import count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tursotui.sqltext import classify, split_statements

EXAMPLES = 300

# (template, writes, forbidden). In a template every space is a place where hypothesis may
# put any whitespace or comment; text inside quotes is kept as it is.
WRITE = [
    "DELETE FROM posts WHERE id = 'x;SELECT 1'",
    "DELETE FROM posts",
    "WITH a AS ( SELECT 'DELETE' ) DELETE FROM posts WHERE id IN ( SELECT * FROM a )",
    "WITH RECURSIVE c(n) AS ( VALUES(1) UNION ALL SELECT n+1 FROM c WHERE n < 3 ) "
    "INSERT INTO t(a) SELECT n FROM c",
    "UPDATE posts SET title = '--' WHERE ( ( id = 1 ) AND ( status = ';' ) )",
    "UPDATE posts SET title = ( SELECT 'x' FROM t WHERE ( a = ( 1 ) ) ) RETURNING id",
    "INSERT INTO t(a) VALUES ('/*') RETURNING *",
    "INSERT OR REPLACE INTO t(a) VALUES (1)",
    "REPLACE INTO t(a) VALUES (1)",
    "replace into \"t\" (a) values (x'00')",
    "INSERT INTO t DEFAULT VALUES",
    "INSERT INTO t SELECT * FROM t WHERE a IN ( SELECT a FROM t )",
    "WITH x AS ( SELECT 1 ) UPDATE t SET a = 2",
    "UPDATE OR IGNORE t SET a = 1 WHERE a = 2",
    "DELETE FROM t WHERE a = 1 RETURNING ( SELECT count(*) FROM ( SELECT 1 ) )",
    'DELETE FROM "select" WHERE "where" = 1',
    "UPDATE [select] SET [from] = 'SELECT'",
    "INSERT INTO `values` VALUES ( ')' )",
    "PRAGMA user_version = 7",
    "PRAGMA main.user_version=7",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA foreign_keys = ON",
    "PRAGMA main.cache_size(100)",
    "VACUUM",
    "VACUUM INTO '/nonexistent/x.db'",
    "CREATE TABLE z (a)",
    "CREATE TEMP TABLE z (a)",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM posts; UPDATE t SET a = ';'; END",
    "CREATE INDEX i ON t(a)",
    "CREATE VIEW v AS SELECT 1",
    "DROP TABLE IF EXISTS z",
    "DROP VIEW IF EXISTS v",
    "ALTER TABLE t ADD COLUMN b",
    "ALTER TABLE t RENAME TO t2",
    "ANALYZE",
    "REINDEX",
    "PRAGMA writable_schema = 1",
    "INSERT INTO t VALUES ( ( ( ( ( 1 ) ) ) ) ) , ( ( SELECT ( 2 ) ) )",
    "CREATE TRIGGER IF NOT EXISTS tr2 BEFORE DELETE ON t FOR EACH ROW WHEN ( old.a = 'END' ) "
    "BEGIN SELECT RAISE(IGNORE); END",
]
FORBIDDEN = [
    "ATTACH DATABASE ':memory:' AS x",
    "attach ':memory:' as y",
    "DETACH DATABASE x",
    "DETACH x",
    "SELECT load_extension('evil')",
    "SELECT LOAD_EXTENSION ('evil', 'entry')",
    "WITH a AS ( SELECT load_extension('x') ) SELECT * FROM a",
    "SELECT * FROM t WHERE a = ( load_extension('x') )",
    "SELECT \"load_extension\"('x')",
    "SELECT 1 UNION SELECT load_extension('x')",
]
READ = [
    "SELECT 'DELETE FROM t' AS \"update\"",
    "SELECT * FROM posts WHERE title LIKE '%;drop%'",
    "WITH d AS ( SELECT 1 ) SELECT * FROM d",
    "PRAGMA table_info(posts)",
    "EXPLAIN QUERY PLAN SELECT * FROM t",
    "SELECT replace(title, 'a', 'b') FROM posts",
    "VALUES (1), ('x')",
    "SELECT [delete] FROM ( SELECT 1 AS [delete] )",
]
CASES = [(s, True, False) for s in WRITE] + [(s, None, True) for s in FORBIDDEN]
CASES += [(s, False, False) for s in READ]

NOISE = [" ", "\n", "\t", "\r\n", "/* c */", "/* DELETE; */", "-- x;\n", "/*\n;*/", "/**/",
         "-- 'quote\n", "/* \"q */", "--\n", "/* END; */", "\f", "\x0b"]  # fmt: skip


def _schema() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE posts (id, title, status); CREATE TABLE t (a);"
        'CREATE TABLE "select" ("where"); CREATE TABLE [values] (x);'
    )
    db.execute("ATTACH ':memory:' AS x")
    return db


_DB = _schema()


def _valid(sql: str) -> bool:
    """Whether SQLite compiles `sql` (EXPLAIN compiles without running)."""
    # An EXPLAIN runs nothing itself; anything else is compiled under one.
    prefix = "" if classify(sql).verb == "EXPLAIN" else "EXPLAIN "
    try:
        _DB.execute(prefix + sql).fetchall()
    except sqlite3.Error as error:
        return "syntax error" not in str(error) and "incomplete input" not in str(error)
    return True


_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\[[^\]]*\]|`[^`]*`)")


@st.composite
def disguised(draw: st.DrawFn, template: str) -> str:
    """`template` with random case outside quotes and random noise at every space."""
    pieces = _QUOTED.split(template)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:  # a quoted literal or identifier: as it is
            out.append(piece)
            continue
        chars = []
        for ch in piece:
            if ch == " ":
                chars.append(draw(st.sampled_from(NOISE)))
                if draw(st.booleans()):
                    chars.append(draw(st.sampled_from(NOISE)))
                if chars[-1].startswith("--"):
                    chars.append("\n")  # a line comment must not eat what follows
            elif ch.isalpha() and draw(st.booleans()):
                chars.append(ch.swapcase())
            else:
                chars.append(ch)
        out.append("".join(chars))
    prefix = draw(st.sampled_from(["", "  ", "/* lead */ ", "-- lead\n", "\n\n"]))
    suffix = draw(st.sampled_from(["", ";", " ; ", " -- tail", " /* tail */"]))
    return prefix + "".join(out) + suffix


CASE = st.sampled_from(CASES).flatmap(lambda case: disguised(case[0]).map(lambda sql: (case, sql)))


def _check(case: tuple[str, bool | None, bool], sql: str) -> None:
    _template, writes, forbidden = case
    kind = classify(sql)
    if forbidden:
        assert kind.forbidden, sql
    elif writes:
        assert kind.writes, sql
        assert kind.forbidden is None, sql
    else:
        assert kind.forbidden is None, sql


@pytest.mark.parametrize(("template", "writes", "forbidden"), CASES)
def test_every_template_is_valid_sql_and_classified_right_as_written(
    template: str, writes: bool | None, forbidden: bool
) -> None:
    assert _valid(template), template
    _check((template, writes, forbidden), template)


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(CASE)
def test_no_disguise_turns_a_write_into_a_read(generated) -> None:
    case, sql = generated
    count("classify_statements")
    assert _valid(sql), sql
    _check(case, sql)


@settings(max_examples=EXAMPLES // 3, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.lists(CASE, min_size=2, max_size=5))
def test_scripts_split_where_sqlite_splits_and_keep_each_verdict(generated) -> None:
    count("classify_scripts")
    parts = [sql.rstrip().rstrip(";") if not sql.rstrip().endswith("-- tail") else sql + "\n"
             for _case, sql in generated]  # fmt: skip
    script = ";\n".join(parts)
    spans = split_statements(script)
    code = [s for s in spans if classify(s.sql).verb]  # not just comments
    assert len(code) == len(generated), (script, [s.sql for s in spans])
    for (case, _sql), span in zip(generated, code, strict=True):
        _check(case, span.sql)
