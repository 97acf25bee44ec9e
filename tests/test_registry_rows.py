"""Reading registry rows: the quick path for the usual row makes the tenant the full checks make.

The registry reads 10,000 rows before the tenants screen can list them, so the usual row
(text slug and name, a plain URL without a query) is checked inline; every other row takes
the full checks. Here any mix of rows, usual and odd, must give the same tenants, the same
problems, the same order and the same refusal of slugs alike but for case, either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tursotui.session.registry import Registry
from tursotui.session.settings import Settings

SLUGS = st.sampled_from(["acme", "Acme", " acme ", "", "  ", "beta", "tenant-0001", "ünï", "a\tb"])
URLS = st.sampled_from(
    [
        "file:/data/acme.db",
        " file:/data/acme.db ",
        "file:",
        "file://",
        "file:///x.db",
        "file:acme.db?mode=ro",
        "libsql://acme-org.turso.io",
        "libsql://acme-org.turso.io?authToken=from-url",
        "https://host:8080/db",
        "http://host:65536",
        "http://bad host",
        "http://host/a b",
        "http://host/a\x1cb",
        "http://host/a\u2003b",
        "https://user:pw@host",
        "wss://host/db",
        "ftp://host",
        "",
        "   ",
    ]
)
VALUES = st.none() | st.integers(-5, 2**40) | st.booleans() | st.text(max_size=6)


PLAIN = (
    st.sampled_from(["acme", "beta", "tenant-0001"]),
    st.sampled_from(
        ["file:/data/acme.db", "libsql://acme-org.turso.io", "https://host:8080/db", "wss://h/db"]
    ),
    st.sampled_from(["Acme", " Acme "]),
    st.sampled_from([None, "", "tok-en"]),
    st.sampled_from([None, "id-1"]),
    st.sampled_from([None, 1_700_000_000]),
    st.none(),
)
"""A usual row: slug, url, name, token, id, created_at, db_name (as selected)."""
ODD = (
    SLUGS | VALUES,
    URLS | VALUES,
    st.sampled_from(["Acme", " Acme ", "", None]) | VALUES,
    st.sampled_from([None, "", "tok-en"]) | VALUES,
    st.sampled_from([None, "id-1"]) | VALUES,
    st.sampled_from([None, 1_700_000_000, 1_700_000_000_000, "2024-01-02 03:04:05"]) | VALUES,
    st.sampled_from([None, None, "acme-db", ""]) | VALUES,
)
"""Any value of each column, odd ones included."""


@st.composite
def rows(draw: st.DrawFn) -> tuple[Any, ...]:
    """A usual row with up to two of its values odd, or a row of any values."""
    if draw(st.booleans()):
        return tuple(draw(odd) for odd in ODD)
    row = [draw(plain) for plain in PLAIN]
    for column in draw(st.sets(st.integers(0, len(row) - 1), max_size=2)):
        row[column] = draw(ODD[column])
    return tuple(row)


class Odd(str):
    """A text of a subclass of `str`: the quick path takes only exact `str`, so a row with it
    takes the full checks, whose result must not differ."""


def full_checks(row: tuple[Any, ...]) -> tuple[Any, ...]:
    slug, *rest = row
    return (Odd(slug) if isinstance(slug, str) else slug, *rest)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    data_dir = tmp_path_factory.mktemp("registry-rows")
    opened = asyncio.run(Registry.open(Settings(data_dir=data_dir, registry_url=None)))
    yield opened
    asyncio.run(opened.close())


def read(registry: Registry, table: list[tuple[Any, ...]], ordered: bool) -> list[tuple] | None:
    shape = registry.known_shape
    tenants = registry._read_rows(table, shape, {}, None, ordered=ordered)
    if tenants is None:
        return None
    return [
        (
            t.slug,
            t.name,
            t.url,
            None if t.token is None else t.token.get_secret_value(),
            t.id,
            t.created_at,
            t.problem,
            t.db_name,
            t.url_source,
        )
        for t in tenants
    ]


@settings(max_examples=400, deadline=None)
@given(st.lists(rows(), max_size=6), st.booleans())
@example([("acme", "file:/a.db", "A", None, "1", 5, None)] * 2, True)
@example(
    [
        ("acme", "file:/a.db", "A", None, "1", 5, None),
        ("ACME", "file:/b.db", "", "", None, None, None),
    ],
    False,
)
@example(
    [
        ("b", "file:", "B", None, None, None, None),
        ("a", "http://h/a\x1cb", "A", None, None, None, None),
    ],
    True,
)
@example([("a", "http://h/a b", "A", None, None, None, None)], True)
@example([("a", "file:/a.db", "A", None, None, 1_700_000_000_000, None)], False)
def test_the_quick_path_reads_rows_as_the_full_checks_do(
    registry: Registry, table: list[tuple[Any, ...]], ordered: bool
) -> None:
    assert read(registry, table, ordered) == read(
        registry, [full_checks(r) for r in table], ordered
    )


def test_a_bad_row_among_usual_ones_still_says_what_is_wrong(registry: Registry) -> None:
    usual = [(f"t{i}", f"file:/data/t{i}.db", f"T {i}", "", f"id-{i}", i, None) for i in range(50)]
    bad = [
        ("", "file:/data/x.db", "No slug", "", "id-x", 1, None),
        ("t3", "file:/data/again.db", "Again", "", "id-y", 2, None),
        ("broken", "http://bad host", "Bad", "", "id-z", 3, None),
        ("nofile", "file:", "No file", "", "id-w", 4, None),
    ]
    got = read(registry, usual + bad, ordered=True)
    assert got is not None
    problems = {(slug, problem) for slug, _, _, _, _, _, problem, *_ in got if problem}
    assert problems == {
        ("", "the row has no slug"),
        ("t3", "duplicate slug 't3' (an earlier row has it)"),
        ("broken", "the URL 'http://bad host' contains white space"),
        ("nofile", "the URL 'file:' names no file"),
    }
    assert sum(1 for row in got if row[6] is None) == 50


def test_the_registry_file_is_real(registry: Registry) -> None:
    assert Path(registry.connection.url.target).exists()


async def test_a_created_at_of_odd_digits_reads_as_unknown(tmp_path: Path) -> None:
    # `²` passes `str.isdigit` but not int(): it once stopped the whole registry's reading.
    registry = await Registry.open(Settings(data_dir=tmp_path, registry_url=None))
    try:
        await registry.connection.batch(
            [
                (
                    "INSERT INTO organizations (id, name, slug, db_url, db_token, created_at) "
                    "VALUES (?, ?, ?, ?, '', ?)",
                    [f"id-{slug}", slug.title(), slug, f"file:{tmp_path}/{slug}.db", created],
                )
                for slug, created in (("odd", "²"), ("even", "1700000000"))
            ]
        )
        tenants = await registry.tenants()
    finally:
        await registry.close()
    assert [(t.slug, t.created_at, t.broken) for t in tenants] == [
        ("even", 1_700_000_000, False),
        ("odd", None, False),
    ]
