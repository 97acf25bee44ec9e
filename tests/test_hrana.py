"""The Hrana wire format, without a server: values, named arguments, batches."""

from __future__ import annotations

import math

import pytest

from tursotui.db import LibsqlError, errors
from tursotui.db.hrana import (
    UNSUPPORTED_VALUE,
    batch_steps,
    decode_batch,
    decode_value,
    encode_stmt,
    encode_value,
)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (None, {"type": "null"}),
        (True, {"type": "integer", "value": "1"}),
        (2**63 - 1, {"type": "integer", "value": "9223372036854775807"}),
        (-(2**63), {"type": "integer", "value": "-9223372036854775808"}),
        (1.5, {"type": "float", "value": 1.5}),
        (float("nan"), {"type": "null"}),
        ("é🎉", {"type": "text", "value": "é🎉"}),
        (b"", {"type": "blob", "base64": ""}),
        (memoryview(b"\x00\xff"), {"type": "blob", "base64": "AP8="}),
    ],
)
def test_values_are_encoded(value: object, wire: dict[str, object]) -> None:
    assert encode_value(value, "acme") == wire


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, math.inf, -math.inf, object()])
def test_values_the_wire_cannot_carry_are_refused(value: object) -> None:
    with pytest.raises(LibsqlError) as caught:
        encode_value(value, "acme")
    assert caught.value.code == UNSUPPORTED_VALUE
    assert caught.value.explanation.startswith("acme: ")


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ({"type": "blob", "base64": "AP8"}, b"\x00\xff"),  # padding absent
        ({"type": "blob", "base64": "AP8="}, b"\x00\xff"),
        ({"type": "blob", "base64": "YQ"}, b"a"),
        ({"type": "blob"}, b""),
        ({"type": "integer", "value": "-9223372036854775808"}, -(2**63)),
        ({"type": "float", "value": None}, None),  # how servers spell ±infinity
        ({"type": "float", "value": -0.0}, -0.0),
    ],
)
def test_values_are_decoded(wire: dict[str, object], value: object) -> None:
    assert decode_value(wire) == value


def test_named_arguments_become_numbered_ones() -> None:
    stmt = encode_stmt(
        "SELECT ':a in a string', :a, /* @b */ @b, $c, :a -- :d",
        {"a": 1, "@b": 2, "$c": 3},
        where="acme",
        read_only=False,
    )
    assert stmt["sql"] == "SELECT ':a in a string', ?1, /* @b */ ?2, ?3, ?1 -- :d"
    assert [v["value"] for v in stmt["args"]] == ["1", "2", "3"]


def test_read_only_and_forbidden_checks() -> None:
    with pytest.raises(LibsqlError) as caught:
        encode_stmt("UPDATE posts SET status = 'x'", where="acme", read_only=True)
    assert caught.value.code == errors.READ_ONLY
    with pytest.raises(LibsqlError) as caught:
        encode_stmt("ATTACH 'x' AS y", where="acme", read_only=False)
    assert caught.value.code == errors.FORBIDDEN_STATEMENT
    assert encode_stmt("SELECT 'delete'", where="acme", read_only=True)["sql"] == "SELECT 'delete'"


def test_batch_steps_are_chained_and_rolled_back() -> None:
    steps = batch_steps([{"sql": "A"}, {"sql": "B"}])["steps"]
    assert [s["stmt"]["sql"] for s in steps] == ["BEGIN", "A", "B", "COMMIT", "ROLLBACK"]
    assert [s.get("condition") for s in steps[1:4]] == [
        {"type": "ok", "step": 0},
        {"type": "ok", "step": 1},
        {"type": "ok", "step": 2},
    ]
    assert steps[4]["condition"] == {"type": "not", "cond": {"type": "ok", "step": 3}}


def test_a_batch_reports_the_failing_statement_not_the_skipped_commit() -> None:
    error = {"message": "UNIQUE constraint failed: t.id", "code": "SQLITE_CONSTRAINT"}
    result = {
        "step_results": [{"cols": [], "rows": []}, None, None, None, {"cols": [], "rows": []}],
        "step_errors": [None, error, None, None, None],
    }
    with pytest.raises(LibsqlError) as caught:
        decode_batch(result, 2, "acme")
    assert caught.value.code == "SQLITE_CONSTRAINT"
    assert caught.value.explanation == "acme: UNIQUE constraint failed: t.id"
