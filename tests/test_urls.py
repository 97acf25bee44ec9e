"""`url_problem` answers exactly as `parse_url` does, for any text, only faster."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tursotui.db.urls import InvalidURL, parse_url, url_problem

PIECES = st.sampled_from(
    [
        "file:",
        "file://",
        "libsql://",
        "https://",
        "http://",
        "ws://",
        "wss://",
        "ftp://",
        "LIBSQL://",
        "acme",
        "-org",
        ".turso.io",
        ":8080",
        ":99999",
        ":",
        "/",
        "//",
        "?",
        "?authToken=x",
        "#",
        "@",
        "user:pw@",
        "[::1]",
        " ",
        "\t",
        "\x1c",
        "\u2003",
        "é",
        "%20",
        "..",
        "-",
        "0",
        "db.sqlite",
    ]
)


def parse_problem(url: str) -> str | None:
    try:
        parse_url(url)
    except InvalidURL as error:
        return str(error)
    return None


@given(st.lists(PIECES, max_size=8).map("".join) | st.text(max_size=40))
@example("file://")
@example("file://?mode=ro")
@example("libsql://acme-org.turso.io")
@example("http://127.0.0.1:8080/v2?x=1")
@example("http://host:65536")
@example("http://bad host")
@example("https://user:pw@host")
@example("libsql://acme\x1c.turso.io")
@example("http://host/a b")
@example("http://host/a\x1c")
@example("https://host/\u2003")
@example("wss://host/db?q=é")
def test_url_problem_agrees_with_parse_url(url: str) -> None:
    assert url_problem(url) == parse_problem(url)


@pytest.mark.parametrize(
    "url", ["file:/srv/t/acme.db", "libsql://acme-org.turso.io", "http://127.0.0.1:8080"]
)
def test_the_usual_urls_are_fine(url: str) -> None:
    assert url_problem(url) is None
