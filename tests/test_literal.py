"""Untrusted values are displayed literally: no markup, no escapes, no invisible reordering."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from tursotui.display.literal import ESCAPED_STYLE, NULL_STYLE, literal

UNSAFE = (
    {chr(c) for c in range(0x20)}
    | {chr(0x7F)}
    | {chr(c) for c in range(0x80, 0xA0)}
    | set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
)


def rendered(text: Text, width: int = 200) -> str:
    """What a terminal receives when Rich prints `text` (styles included)."""
    console = Console(width=width, force_terminal=True, color_system="truecolor", record=False)
    with console.capture() as capture:
        console.print(text)
    return capture.get()


def test_markup_is_shown_as_typed() -> None:
    value = "[bold red]Evil[/] [link=http://x]click[/link] [/]"
    text = literal(value)
    assert text.plain == value
    assert text.spans == []


def test_ansi_and_osc_escapes_are_made_visible() -> None:
    value = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x9b2J"
    text = literal(value)
    assert text.plain == "␛[31mred␛[0m ␛]0;pwned␇ \\x9b2J"
    assert all(span.style == ESCAPED_STYLE for span in text.spans)


def test_control_characters_become_control_pictures() -> None:
    assert literal("a\x00b\x08c\x7f").plain == "a␀b␈c␡"


def test_newlines_stay_on_one_line_unless_multiline() -> None:
    assert literal("one\ntwo\tthree").plain == "one␊two␉three"
    assert literal("one\ntwo\tthree", multiline=True).plain == "one\ntwo\tthree"


def test_right_to_left_overrides_are_named() -> None:
    text = literal("invoice\u202egpj.exe")
    assert text.plain == "invoice<RLO>gpj.exe"


def test_null_is_a_dim_null() -> None:
    text = literal(None)
    assert text.plain == "NULL"
    assert text.style == NULL_STYLE


def test_blob_is_described_not_decoded() -> None:
    assert literal(b"\x1b[2J").plain == "<blob 4 bytes: 1b 5b 32 4a>"


def test_numbers_and_emoji_pass_through() -> None:
    assert literal(42).plain == "42"
    assert literal("héllo 日本 🎉").plain == "héllo 日本 🎉"


def test_long_values_are_truncated_with_an_ellipsis() -> None:
    text = literal("x" * 1_000_000, 20)
    assert text.plain == "x" * 19 + "…"
    assert len(literal("short", 20).plain) == 5


def test_truncation_counts_the_stand_ins() -> None:
    text = literal("\x1b" * 50, 10)
    assert text.cell_len <= 10
    assert text.plain.endswith("…")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200), st.none() | st.integers(1, 80))
def test_no_raw_escape_or_control_character_ever_reaches_the_terminal(
    value: str, max_len: int | None
) -> None:
    text = literal(value, max_len)
    assert not (set(text.plain) & UNSAFE), text.plain
    assert not any(unicodedata.category(c) in ("Cs", "Co", "Cn") for c in text.plain)
    if max_len is not None:
        assert text.cell_len <= max_len
    output = rendered(text)
    # The only escape sequences in the output are the ones Rich writes for styles (SGR).
    stripped = re.sub(r"\x1b\[[0-9;]*m", "", output)
    assert "\x1b" not in stripped
    assert not (set(stripped) - {"\n"}) & UNSAFE


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)), st.integers(1, 60))
def test_printable_ascii_is_kept_whole_or_cut_at_its_length(value: str, max_len: int) -> None:
    # The common case (every title and name of a list) is made at C speed: the same as
    # character by character, markup included.
    text = literal(value, max_len)
    if len(value) <= max_len:
        assert text.plain == value and not text.spans
    else:
        assert text.plain == value[: max_len - 1] + "…"
        assert [(span.start, span.end, str(span.style)) for span in text.spans] == [
            (max_len - 1, max_len, "dim")
        ]
    assert literal(value, max_len, style="bold").style == "bold"
    assert literal(value).plain == value
