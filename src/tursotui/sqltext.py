"""SQL text: a tokenizer, and what a statement will do, decided before it is sent.

A leaf of the package (it imports nothing of tursotui): the connection layer uses the tokenizer
to find parameters and the classifier to refuse writes in read-only sessions, and the console
uses the same classifier to decide what to ask.

The console and the `tursotui sql` command ask before anything that writes, ask harder before
anything destructive, and refuse what could reach another tenant's database. Those decisions
rest on this module, so it errs one way only: a statement counts as read-only when it is
*provably* a read (a SELECT, VALUES, EXPLAIN or a query PRAGMA); everything else is a write.

A real tokenizer underlies it, so comments, string literals, quoted identifiers and blobs never
fool it (`/* x */ DELETE …`, `select 'drop table t'`, `WITH x AS (…) DELETE …`).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "PARAM",
    "StatementKind",
    "StatementSpan",
    "classify",
    "split_statements",
    "statement_at",
    "tokenize",
]

# Token kinds.
_WORD = "word"  # bare identifier or keyword; value is upper-cased
_NAME = "name"  # "quoted", `quoted` or [quoted] identifier; value is the unquoted name
_STRING = "string"
_BLOB = "blob"
_NUMBER = "number"
PARAM = "param"
_PUNCT = "punct"
_COMMENT = "comment"


class Token(NamedTuple):
    kind: str
    value: str
    start: int
    end: int


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_" or ord(ch) >= 0x80


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$" or ord(ch) >= 0x80


def _scan_quoted(text: str, i: int, close: str) -> int:
    """Index just past the quoted run opened at `text[i]`; a doubled `close` is an escape.

    An unterminated quote runs to the end of the text (SQLite would reject it; we only must not
    read what follows as SQL).
    """
    n = len(text)
    j = i + 1
    while j < n:
        if text[j] == close:
            if close != "]" and j + 1 < n and text[j + 1] == close:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def tokenize(text: str) -> list[Token]:
    """Split SQL text into tokens the way SQLite's tokenizer would (close enough to be safe)."""
    tokens: list[Token] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            tokens.append(Token(_COMMENT, text[i:j], i, j))
            i = j
            continue
        if ch == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            tokens.append(Token(_COMMENT, text[i:j], i, j))
            i = j
            continue
        if ch == "'":
            j = _scan_quoted(text, i, "'")
            tokens.append(Token(_STRING, text[i + 1 : j - 1].replace("''", "'"), i, j))
            i = j
            continue
        if ch in "xX" and i + 1 < n and text[i + 1] == "'":
            j = _scan_quoted(text, i + 1, "'")
            tokens.append(Token(_BLOB, text[i + 2 : j - 1], i, j))
            i = j
            continue
        if ch in '"`[':
            close = {'"': '"', "`": "`", "[": "]"}[ch]
            j = _scan_quoted(text, i, close)
            inner = text[i + 1 : j - 1]
            if close != "]":
                inner = inner.replace(close * 2, close)
            tokens.append(Token(_NAME, inner, i, j))
            i = j
            continue
        if _is_ident_start(ch):
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            tokens.append(Token(_WORD, text[i:j].upper(), i, j))
            i = j
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "._"):
                # An exponent sign belongs to the number: 1e+5.
                j += 1
                if text[j - 1] in "eE" and j < n and text[j] in "+-":
                    j += 1
            tokens.append(Token(_NUMBER, text[i:j], i, j))
            i = j
            continue
        if ch in "?:@$":
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            tokens.append(Token(PARAM, text[i:j], i, j))
            i = j
            continue
        tokens.append(Token(_PUNCT, ch, i, i + 1))
        i += 1
    return tokens


class StatementSpan(NamedTuple):
    """One statement inside a larger text.

    Attributes:
        start: Offset of the statement's first character (a leading comment included).
        end: Offset just past its last token (trailing comments and the `;` excluded).
        sql: `text[start:end]`.
    """

    start: int
    end: int
    sql: str


def _split_tokens(text: str, tokens: list[Token]) -> list[tuple[StatementSpan, list[Token]]]:
    """Group tokens into statements at top-level semicolons (trigger bodies included whole)."""
    out: list[tuple[StatementSpan, list[Token]]] = []
    current: list[Token] = []
    in_trigger_body = False
    case_depth = 0

    def flush() -> None:
        code = [t for t in current if t.kind != _COMMENT]
        if code:
            # Leading comments belong to the statement; trailing ones do not, so that the
            # statement can always be followed by `;` (a trailing `--` comment would eat it).
            start, end = current[0].start, code[-1].end
            out.append((StatementSpan(start, end, text[start:end]), list(current)))
        current.clear()

    for tok in tokens:
        if tok.kind == _PUNCT and tok.value == ";" and not in_trigger_body:
            flush()
            continue
        current.append(tok)
        if tok.kind != _WORD:
            continue
        if in_trigger_body:
            if tok.value == "CASE":
                case_depth += 1
            elif tok.value == "END":
                if case_depth:
                    case_depth -= 1
                else:
                    in_trigger_body = False
        elif tok.value == "BEGIN" and _is_create_trigger(current):
            in_trigger_body = True
            case_depth = 0
    flush()
    return out


def _is_create_trigger(tokens: list[Token]) -> bool:
    words = [t.value for t in tokens if t.kind != _COMMENT][:3]
    if words[:1] != ["CREATE"]:
        return False
    if len(words) > 1 and words[1] in ("TEMP", "TEMPORARY"):
        return len(words) > 2 and words[2] == "TRIGGER"
    return len(words) > 1 and words[1] == "TRIGGER"


def split_statements(text: str) -> list[StatementSpan]:
    """Split a script into its statements.

    Semicolons inside strings, comments, quoted identifiers and `CREATE TRIGGER … BEGIN … END`
    bodies do not split. Statements that are empty or only comments are left out.

    Args:
        text: Any SQL text.

    Returns:
        The statements in order, with their offsets in `text`.
    """
    return [span for span, _ in _split_tokens(text, tokenize(text))]


def statement_at(text: str, offset: int) -> StatementSpan | None:
    """The statement the cursor at `offset` is in (or just after), for "run under cursor".

    Args:
        text: The editor's text.
        offset: A character offset into `text`.

    Returns:
        The statement whose extent (up to its `;`) holds the offset; else the nearest one before
        it; else the first one; None when the text has no statement at all.
    """
    spans = split_statements(text)
    if not spans:
        return None
    best = None
    for span in spans:
        if span.start <= offset:
            best = span
        else:
            break
    if best is None:
        return spans[0]
    return best


class StatementKind(NamedTuple):
    """What one statement does.

    Attributes:
        sql: The statement as given.
        verb: Its first keyword after comments and any WITH clause, upper-case (`SELECT`,
            `DELETE`, `PRAGMA`, …); `""` for an empty statement.
        writes: True unless the statement is provably read-only.
        destructive: DELETE/UPDATE without a top-level WHERE, DROP, ALTER, VACUUM.
        forbidden: Why the statement is refused (ATTACH, DETACH, load_extension), else None.
        tables: Tables (or views) it names, best effort, in order of appearance.
    """

    sql: str
    verb: str
    writes: bool
    destructive: bool
    forbidden: str | None
    tables: tuple[str, ...]

    @property
    def is_known(self) -> bool:
        """True when the verb is one SQLite knows (else the statement cannot be valid SQL)."""
        return self.verb in KNOWN_VERBS

    @property
    def is_transaction_control(self) -> bool:
        """BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT or RELEASE."""
        return self.verb in _TRANSACTION_VERBS


_READ_VERBS = frozenset({"SELECT", "VALUES", "EXPLAIN"})
KNOWN_VERBS = frozenset(
    {
        "ALTER", "ANALYZE", "ATTACH", "BEGIN", "COMMIT", "CREATE", "DELETE", "DETACH", "DROP",
        "END", "EXPLAIN", "INSERT", "PRAGMA", "REINDEX", "RELEASE", "REPLACE", "ROLLBACK",
        "SAVEPOINT", "SELECT", "UPDATE", "VACUUM", "VALUES", "WITH",
    }
)  # fmt: skip
"""Verbs SQLite knows; any other first word is a syntax error (or not SQL at all)."""
_TRANSACTION_VERBS = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
_DML_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "VALUES")

# Pragmas that take an argument and still only read.
_QUERY_PRAGMAS_WITH_ARG = frozenset(
    {
        "TABLE_INFO",
        "TABLE_XINFO",
        "TABLE_LIST",
        "INDEX_INFO",
        "INDEX_XINFO",
        "INDEX_LIST",
        "FOREIGN_KEY_LIST",
        "FOREIGN_KEY_CHECK",
        "INTEGRITY_CHECK",
        "QUICK_CHECK",
    }
)
# Pragmas that act even without an argument.
_ACTING_PRAGMAS = frozenset(
    {"OPTIMIZE", "WAL_CHECKPOINT", "INCREMENTAL_VACUUM", "SHRINK_MEMORY", "VACUUM"}
)

_FORBIDDEN_NAMES = {
    "ATTACH": "ATTACH is refused: the console stays on this tenant's database",
    "DETACH": "DETACH is refused: the console stays on this tenant's database",
    "LOAD_EXTENSION": "load_extension is refused: extensions can reach outside the database",
}


def _forbidden(tokens: list[Token]) -> str | None:
    for tok in tokens:
        if tok.kind == _WORD and tok.value in _FORBIDDEN_NAMES:
            return _FORBIDDEN_NAMES[tok.value]
        # SQLite accepts a quoted function name: "load_extension"('x').
        if tok.kind == _NAME and tok.value.upper() == "LOAD_EXTENSION":
            return _FORBIDDEN_NAMES["LOAD_EXTENSION"]
    return None


def _skip_parens(code: list[Token], i: int) -> int:
    """Given `code[i]` is `(`, the index just past its matching `)` (or the end)."""
    depth = 0
    while i < len(code):
        tok = code[i]
        if tok.kind == _PUNCT:
            if tok.value == "(":
                depth += 1
            elif tok.value == ")":
                depth -= 1
                if depth == 0:
                    return i + 1
        i += 1
    return i


def _is_punct(code: list[Token], i: int, value: str) -> bool:
    return i < len(code) and code[i].kind == _PUNCT and code[i].value == value


def _is_word(code: list[Token], i: int, *values: str) -> bool:
    return i < len(code) and code[i].kind == _WORD and code[i].value in values


def _is_ident(code: list[Token], i: int) -> bool:
    return i < len(code) and code[i].kind in (_WORD, _NAME)


def _skip_with(code: list[Token], i: int) -> int | None:
    """Given `code[i]` is WITH, the index of the main statement's verb; None if unparsable.

    Grammar: WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (select) [, …]
    """
    i += 1
    if _is_word(code, i, "RECURSIVE"):
        i += 1
    while True:
        if not _is_ident(code, i):
            return None
        i += 1
        if _is_punct(code, i, "("):
            i = _skip_parens(code, i)
        if not _is_word(code, i, "AS"):
            return None
        i += 1
        if _is_word(code, i, "NOT"):
            i += 1
            if not _is_word(code, i, "MATERIALIZED"):
                return None
        if _is_word(code, i, "MATERIALIZED"):
            i += 1
        if not _is_punct(code, i, "("):
            return None
        i = _skip_parens(code, i)
        if _is_punct(code, i, ","):
            i += 1
            continue
        return i


def _has_top_level_where(code: list[Token], i: int) -> bool:
    depth = 0
    for tok in code[i:]:
        if tok.kind == _PUNCT:
            if tok.value == "(":
                depth += 1
            elif tok.value == ")":
                depth -= 1
        elif depth == 0 and tok.kind == _WORD and tok.value == "WHERE":
            return True
    return False


def _pragma_writes(code: list[Token], i: int) -> bool:
    """Given `code[i]` is PRAGMA: whether it can change anything."""
    i += 1
    if _is_ident(code, i) and _is_punct(code, i + 1, "."):
        i += 2  # schema prefix
    if not _is_ident(code, i):
        return True
    name = code[i].value.upper()
    rest = code[i + 1 :]
    if not rest:
        return name in _ACTING_PRAGMAS
    if _is_punct(rest, 0, "(") and _skip_parens(rest, 0) == len(rest):
        return name not in _QUERY_PRAGMAS_WITH_ARG
    return True


_TABLE_KEYWORDS = frozenset({"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "VIEW"})
_NOT_TABLES = frozenset({"SELECT", "VALUES", "WITH", "IF", "OR", "ONLY"})


def _tables(code: list[Token], source: str) -> tuple[str, ...]:
    found: list[str] = []
    i = 0
    while i < len(code):
        tok = code[i]
        if tok.kind == _WORD and tok.value in _TABLE_KEYWORDS:
            j = i + 1
            if tok.value == "UPDATE" and _is_word(code, j, "OR"):
                j += 2  # UPDATE OR REPLACE t
            if tok.value in ("TABLE", "VIEW") and _is_word(code, j, "IF"):
                j += 1
                if _is_word(code, j, "NOT"):
                    j += 1
                if _is_word(code, j, "EXISTS"):
                    j += 1
            while True:
                if _is_word(code, j, *_NOT_TABLES) or not _is_ident(code, j):
                    break
                name, j = _read_name_src(code, j, source)
                if name and name not in found:
                    found.append(name)
                if tok.value != "FROM":
                    break
                # FROM a [AS] x, b …: skip an alias, follow commas.
                if _is_word(code, j, "AS"):
                    j += 1
                if _is_ident(code, j) and not _is_word(code, j, *_CLAUSE_WORDS):
                    j += 1
                if _is_punct(code, j, ","):
                    j += 1
                    continue
                break
            i = max(j, i + 1)
            continue
        i += 1
    return tuple(found)


_CLAUSE_WORDS = frozenset(
    {
        "WHERE",
        "GROUP",
        "ORDER",
        "LIMIT",
        "JOIN",
        "INNER",
        "LEFT",
        "RIGHT",
        "FULL",
        "CROSS",
        "NATURAL",
        "ON",
        "USING",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "HAVING",
        "WINDOW",
        "RETURNING",
        "SET",
        "INDEXED",
        "NOT",
    }
)


def _read_name_src(code: list[Token], i: int, source: str) -> tuple[str | None, int]:
    if not _is_ident(code, i):
        return None, i

    def text_of(tok: Token) -> str:
        return tok.value if tok.kind == _NAME else source[tok.start : tok.end]

    parts = [text_of(code[i])]
    i += 1
    while _is_punct(code, i, ".") and _is_ident(code, i + 1):
        parts.append(text_of(code[i + 1]))
        i += 2
    return ".".join(parts), i


def _classify_tokens(sql: str, tokens: list[Token], source: str) -> StatementKind:
    """Classify one statement's tokens; offsets in `tokens` are into `source`."""
    code = [t for t in tokens if t.kind != _COMMENT]
    forbidden = _forbidden(code)
    if not code:
        return StatementKind(sql, "", False, False, forbidden, ())
    tables = _tables(code, source)
    first = code[0]
    if first.kind != _WORD:
        # Not a statement SQLite knows; whatever it is, it is not provably a read.
        return StatementKind(sql, "", True, False, forbidden, tables)
    verb = first.value
    i = 0
    if verb == "WITH":
        j = _skip_with(code, 0)
        if j is None or not _is_word(code, j, *_DML_VERBS):
            return StatementKind(sql, "WITH", True, False, forbidden, tables)
        i = j
        verb = code[j].value
    if verb in _READ_VERBS:
        writes = False
    elif verb == "PRAGMA":
        writes = _pragma_writes(code, i)
    else:
        writes = True
    destructive = verb in ("DROP", "ALTER", "VACUUM") or (
        verb in ("DELETE", "UPDATE") and not _has_top_level_where(code, i + 1)
    )
    return StatementKind(sql, verb, writes, destructive, forbidden, tables)


def classify(sql: str) -> StatementKind:
    """Classify one SQL statement.

    Given a text holding several statements, the result is the most cautious of them: it
    writes if any does, is destructive if any is, forbidden if any is; `verb` and `tables`
    describe all of them (verb from the first).

    Args:
        sql: The statement; a trailing `;`, comments and whitespace are fine.

    Returns:
        What the statement does.
    """
    tokens = tokenize(sql)
    parts = _split_tokens(sql, tokens)
    if len(parts) <= 1:
        return _classify_tokens(sql, tokens if not parts else parts[0][1], sql)
    kinds = [_classify_tokens(span.sql, toks, sql) for span, toks in parts]
    tables: list[str] = []
    for kind in kinds:
        tables.extend(t for t in kind.tables if t not in tables)
    return StatementKind(
        sql=sql,
        verb=kinds[0].verb,
        writes=any(k.writes for k in kinds),
        destructive=any(k.destructive for k in kinds),
        forbidden=next((k.forbidden for k in kinds if k.forbidden), None),
        tables=tuple(tables),
    )
