"""Literal display of untrusted values: database content is shown, never interpreted.

Textual widgets parse a plain `str` as markup, and a terminal obeys escape
sequences; `literal()` turns any value into a `rich.text.Text` in which markup is
just characters and every control, escape or bidi-override character is replaced
by a visible stand-in, so a hostile row can neither style itself, move the
cursor, reorder the line, nor break the layout.
"""

from __future__ import annotations

import unicodedata

from rich.cells import cell_len
from rich.text import Text

ELLIPSIS = "…"

NULL_STYLE = "dim italic"
"""How a SQL NULL looks: dim, so it cannot be mistaken for the text 'NULL'."""

ESCAPED_STYLE = "reverse"
"""How a stand-in for an invisible character looks, so it differs from the same text typed in."""

_BIDI = {
    "\u061c": "ALM",
    "\u200e": "LRM",
    "\u200f": "RLM",
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
}
"""Bidirectional controls: they reorder the rest of the line (the 'Trojan source' trick)."""

_OTHER_INVISIBLE = {
    "\u2028": "LS",
    "\u2029": "PS",
    "\u200b": "ZWSP",
    "\ufeff": "BOM",
    "\u00ad": "SHY",
}
"""Characters that break or hide in a terminal line although they are not C0/C1 controls."""


def stand_in(char: str) -> str | None:
    """The visible replacement for an unsafe character, or None if it may be shown as it is."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀..␟, e.g. ESC → ␛
    if code == 0x7F:
        return "␡"
    if 0x80 <= code <= 0x9F:
        return f"\\x{code:02x}"  # C1 controls (0x9b is a one-byte CSI)
    if char in _BIDI:
        return f"<{_BIDI[char]}>"
    if char in _OTHER_INVISIBLE:
        return f"<{_OTHER_INVISIBLE[char]}>"
    if unicodedata.category(char) in ("Cs", "Co", "Cn"):
        # Lone surrogates, private use and unassigned code points render unpredictably.
        return f"<U+{code:04X}>"
    return None


def _is_plain(char: str) -> bool:
    code = ord(char)
    return 0x20 <= code < 0x7F


def literal(
    value: object,
    max_len: int | None = None,
    *,
    multiline: bool = False,
    style: str = "",
) -> Text:
    """`value` as text that shows exactly what it holds and can do nothing else.

    Args:
        value: Anything read from a database: text, number, bytes, None.
        max_len: Cut the visible text to this many terminal cells, ending in an ellipsis.
        multiline: Keep newlines and tabs (for full content views); otherwise they are shown
            as ␊ and ␉ so a value stays on its line.
        style: A style for the ordinary characters.

    Returns:
        A `Text` that is never parsed as markup, with controls, ANSI/OSC escapes and bidi
        overrides replaced by visible stand-ins, and None as a dim `NULL`.
    """
    if value is None:
        return Text("NULL", style=NULL_STYLE)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        preview = data[:16].hex(" ")
        more = " …" if len(data) > 16 else ""
        return Text(f"<blob {len(data)} bytes: {preview}{more}>", style=NULL_STYLE)
    raw = value if isinstance(value, str) else str(value)
    if max_len is not None:
        max_len = max(1, max_len)
    # The common case at C speed: printable ASCII holds nothing to stand in for and takes
    # one cell a character (the loop below would keep every character as it is).
    head = raw if max_len is None else raw[: max_len * 2]
    if head.isascii() and head.isprintable():
        if max_len is None or len(raw) <= max_len:
            return Text(raw, style=style, no_wrap=not multiline, end="")
        text = Text(raw[: max_len - 1], style=style, no_wrap=not multiline, end="")
        text.append(ELLIPSIS, style="dim")
        return text
    truncated = False
    # Look at no more than needed: a 1 MB body costs the same as a short one in a list.
    if max_len is not None and len(raw) > max_len:
        raw = raw[: max_len * 2]
        truncated = True
    text = Text(style=style, no_wrap=not multiline, end="")
    plain: list[str] = []
    shown = 0
    limit = max_len if max_len is not None else None

    def flush() -> None:
        if plain:
            text.append("".join(plain))
            plain.clear()

    for char in raw:
        if limit is not None and shown >= limit:
            truncated = True
            break
        if _is_plain(char) or (multiline and char in "\n\t"):
            plain.append(char)
            shown += 1
            continue
        replacement = stand_in(char)
        if replacement is None:
            plain.append(char)
            shown += cell_len(char)
            continue
        flush()
        text.append(replacement, style=ESCAPED_STYLE)
        shown += len(replacement)
    flush()
    if limit is not None and text.cell_len > limit:
        truncated = True
    if truncated:
        if limit is not None and text.cell_len >= limit:
            text.truncate(max(0, limit - 1))
        text.append(ELLIPSIS, style="dim")
    return text


def literal_str(value: object, max_len: int | None = None) -> str:
    """The plain characters `literal()` would show (for sorting, filtering and tests)."""
    return literal(value, max_len).plain


__all__ = ["ESCAPED_STYLE", "NULL_STYLE", "literal", "literal_str", "stand_in"]
