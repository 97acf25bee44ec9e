"""The Hrana wire format shared by the HTTP and WebSocket transports.

Values, statements, batches and results as Hrana 3 encodes them, plus the
checks every remote transport makes before sending: read-only mode and the statements
no tenant may run (ATTACH, DETACH, load_extension).
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
from typing import Any

from tursotui.db import errors
from tursotui.db.base import to_statement
from tursotui.db.libsql import LibsqlError, Statement
from tursotui.db.result import Result, make_rows
from tursotui.sqltext import PARAM, StatementKind, classify, tokenize

UNSUPPORTED_VALUE = "UNSUPPORTED_VALUE"
"""A value the wire format cannot carry (an infinite float, an integer beyond 64 bits)."""

_MIN_INTEGER = -(2**63)
_MAX_INTEGER = 2**63 - 1

Json = dict[str, Any]


# -- values -------------------------------------------------------------------------


def encode_value(value: Any, where: str) -> Json:
    """A Python value as a Hrana `Value`.

    NaN is sent as NULL, which is what SQLite itself stores for it; an infinite float has
    no JSON spelling, so it is refused rather than silently changed.

    Raises:
        LibsqlError: UNSUPPORTED_VALUE for an infinite float or an integer beyond 64 bits.
    """
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "integer", "value": "1" if value else "0"}
    if isinstance(value, int):
        if not _MIN_INTEGER <= value <= _MAX_INTEGER:
            raise errors.database_error(
                where, f"the integer {value} does not fit in 64 bits", UNSUPPORTED_VALUE
            )
        return {"type": "integer", "value": str(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {"type": "null"}
        if math.isinf(value):
            raise errors.database_error(
                where, "an infinite float cannot be sent over Hrana (JSON has no infinity)",
                UNSUPPORTED_VALUE,
            )  # fmt: skip
        return {"type": "float", "value": value}
    if isinstance(value, str):
        return {"type": "text", "value": value}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"type": "blob", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    raise errors.database_error(
        where, f"a {type(value).__name__} cannot be stored in SQLite", UNSUPPORTED_VALUE
    )


def decode_value(value: Any) -> Any:
    """A Hrana `Value` as Python; raises ValueError/KeyError/TypeError on a malformed one."""
    kind = value["type"]
    if kind == "null":
        return None
    if kind == "integer":
        return int(value["value"])
    if kind == "text":
        text = value["value"]
        if not isinstance(text, str):
            raise TypeError("text value is not a string")
        return text
    if kind == "float":
        number = value["value"]
        # Servers serialise ±infinity as JSON null (serde): the sign is lost, so NULL is the
        # honest answer rather than a guessed infinity.
        return None if number is None else float(number)
    if kind == "blob":
        data = value.get("base64") or ""
        # Servers omit the padding; add enough back for the decoder.
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    raise ValueError(f"unknown value type {kind!r}")


# -- statements ---------------------------------------------------------------------


def _named_to_positional(sql: str, named: dict[str, Any], where: str) -> tuple[str, list[Any]]:
    """Rewrite named parameters as numbered ones (`:a` → `?1`) and bind them by position.

    The servers disagree on named arguments: tursodb 0.6 ignores Hrana `named_args` and binds
    NULL (a guarded `UPDATE … WHERE id = :id` would silently match nothing), while sqld
    refuses positional values for named parameters. `?N` with positional values works on
    both. Numbers follow SQLite's rule: each distinct `:a`/`@a`/`$a` takes the next number at
    its first appearance; the dict key may be written with or without the prefix.
    """
    index: dict[str, int] = {}
    highest = 0
    pieces: list[str] = []
    last = 0
    for token in tokenize(sql):
        if token.kind != PARAM:
            continue
        text = token.value
        if text == "?":
            raise errors.database_error(
                where, "the statement mixes ? with named arguments", "ARGS_INVALID"
            )
        if text[0] == "?":
            highest = max(highest, int(text[1:] or 0))
            continue
        if text not in index:
            highest += 1
            index[text] = highest
        pieces.append(sql[last : token.start])
        pieces.append(f"?{index[text]}")
        last = token.end
    pieces.append(sql[last:])
    values: list[Any] = [None] * highest
    for name, position in index.items():
        if name in named:
            values[position - 1] = named[name]
        elif name[1:] in named:
            values[position - 1] = named[name[1:]]
        else:
            raise errors.database_error(
                where, f"no value given for the parameter {name}", "ARGS_INVALID"
            )
    return "".join(pieces), values


_classify_cached = functools.lru_cache(maxsize=1024)(classify)


def _classify(sql: str) -> StatementKind:
    # The same statements go to every tenant of a fleet (the health batch, the fleet's
    # questions): tokenizing each again was a quarter of a remote tenant's CPU (B8). A long
    # text (a script, an import) is not kept.
    return _classify_cached(sql) if len(sql) <= 4096 else classify(sql)


def check_statement(sql: str, where: str, *, read_only: bool) -> None:
    """Refuse, before sending, what this connection must never run.

    Raises:
        LibsqlError: FORBIDDEN_STATEMENT for ATTACH/DETACH/load_extension; READ_ONLY for a
            write on a read-only connection.
    """
    kind = _classify(sql)
    if kind.forbidden:
        raise errors.database_error(where, kind.forbidden, errors.FORBIDDEN_STATEMENT)
    if read_only and kind.writes:
        raise errors.database_error(where, "read-only mode: writes are refused", errors.READ_ONLY)


def encode_stmt(
    stmt: Any, args: Any = None, *, where: str, read_only: bool, want_rows: bool = True
) -> Json:
    """A statement as a Hrana `Stmt`, after the read-only and forbidden checks."""
    statement: Statement = to_statement(stmt, args)
    check_statement(statement.sql, where, read_only=read_only)
    sql = statement.sql
    if isinstance(statement.args, dict):
        sql, positional = _named_to_positional(sql, statement.args, where)
    else:
        positional = list(statement.args or ())
    return {
        "sql": sql,
        "args": [encode_value(v, where) for v in positional],
        "want_rows": want_rows,
    }


def plain_stmt(sql: str) -> Json:
    """A statement of our own (BEGIN, COMMIT...), exempt from the checks."""
    return {"sql": sql, "want_rows": False}


def batch_steps(stmts: list[Json]) -> Json:
    """A Hrana batch running `stmts` in one transaction, all or nothing.

    BEGIN, then each statement only if the previous step succeeded, then COMMIT; ROLLBACK
    runs when COMMIT did not (any step failed or COMMIT itself did).
    """
    steps: list[Json] = [{"stmt": plain_stmt("BEGIN")}]
    for stmt in stmts:
        steps.append({"condition": {"type": "ok", "step": len(steps) - 1}, "stmt": stmt})
    commit = len(steps)
    steps.append({"condition": {"type": "ok", "step": commit - 1}, "stmt": plain_stmt("COMMIT")})
    steps.append(
        {
            "condition": {"type": "not", "cond": {"type": "ok", "step": commit}},
            "stmt": plain_stmt("ROLLBACK"),
        }
    )
    return {"steps": steps}


# -- results and errors --------------------------------------------------------------


def protocol_error(where: str, what: str) -> LibsqlError:
    return errors.database_error(
        where, f"the server's answer is not valid Hrana ({what})", errors.PROTOCOL_ERROR
    )


def server_error(where: str, error: Any) -> LibsqlError:
    """A Hrana `Error` as LibsqlError, keeping the server's code (SQLITE_CONSTRAINT...)."""
    if not isinstance(error, dict):
        return protocol_error(where, "an error without a message")
    message = str(error.get("message") or "the server reported an error")
    code = str(error.get("code") or "SERVER_ERROR")
    return errors.database_error(where, message, code)


def decode_result(result: Any, where: str) -> Result:
    """A Hrana `StmtResult` as a `Result`.

    Raises:
        LibsqlError: PROTOCOL_ERROR when the result is not the shape Hrana promises.
    """
    try:
        columns = tuple(str(col.get("name") or "") for col in result["cols"])
        values = [tuple(map(decode_value, row)) for row in result["rows"]]
        rowid = result.get("last_insert_rowid")
        return Result(
            columns,
            make_rows(columns, values),
            int(result.get("affected_row_count") or 0),
            int(rowid) if rowid is not None else None,
            rows_read=_optional_int(result.get("rows_read")),
            rows_written=_optional_int(result.get("rows_written")),
            duration_ms=_optional_float(result.get("query_duration_ms")),
        )
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as error:
        raise protocol_error(where, f"bad statement result: {type(error).__name__}") from None


def decode_batch(result: Any, count: int, where: str) -> list[Result]:
    """The results of the statements of a `batch_steps` batch; the first failure is raised.

    Raises:
        LibsqlError: the error of the step that failed (server code kept), or PROTOCOL_ERROR.
    """
    try:
        step_results = result["step_results"]
        step_errors = result["step_errors"]
    except (KeyError, TypeError):
        raise protocol_error(where, "a batch result without steps") from None
    if len(step_results) != count + 3 or len(step_errors) != count + 3:
        raise protocol_error(where, "a batch result with the wrong number of steps")
    # The statements' own errors first: they say why; BEGIN/COMMIT errors come after.
    for error in [*step_errors[1 : count + 1], step_errors[0], step_errors[count + 1]]:
        if error is not None:
            raise server_error(where, error)
    results = []
    for stmt_result in step_results[1 : count + 1]:
        if stmt_result is None:
            raise protocol_error(where, "a batch step that did not run")
        results.append(decode_result(stmt_result, where))
    return results


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
