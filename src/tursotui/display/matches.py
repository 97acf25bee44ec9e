"""A search's matches, highlighted in untrusted text that stays literal.

The database finds a search with LIKE, which folds the case of ASCII letters only; the
highlight folds the same way, so what is highlighted is what the database matched.
Every piece, matched or not, goes through `literal()`: a match inside markup or an
escape sequence is highlighted as characters, never interpreted.
"""

from __future__ import annotations

from rich.text import Text

from tursotui.display.literal import ELLIPSIS, literal

MATCH_STYLE = "bold black on yellow"
"""How a matched part looks."""

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """`text` with its ASCII letters in lower case (as LIKE compares them); same length."""
    return text.translate(_ASCII_LOWER)


def contains(value: object, search: str | None) -> bool:
    """Whether `value` holds `search` as the database's LIKE would find it."""
    if not search or not isinstance(value, str):
        return False
    return fold(search) in fold(value)


def highlighted(
    value: object,
    search: str | None,
    max_len: int | None = None,
    *,
    style: str = "",
    lead: int = 20,
    ellipsis_before: bool = False,
) -> Text:
    """`value` as `literal()` shows it, with every match of `search` highlighted.

    When the first match would fall past `max_len`, the text shown starts `lead`
    characters before it (after an ellipsis), so the match is always in view.

    Args:
        value: Anything read from a database; only text is searched.
        search: The search as typed (None or "" highlights nothing).
        max_len: Cut the visible text to this many cells, as `literal()` does.
        style: A style for the characters that do not match.
        lead: Characters kept before a match that would otherwise be cut off.
        ellipsis_before: Start with an ellipsis: `value` is an excerpt of something longer.
    """
    if not search or not isinstance(value, str):
        return literal(value, max_len, style=style)
    haystack, needle = fold(value), fold(search)
    first = haystack.find(needle)
    if first < 0:
        return literal(value, max_len, style=style)
    start = 0
    if max_len is not None and first + len(needle) > max_len - 1 and first > lead:
        start = first - lead
    end = len(value)
    if max_len is not None:
        # Look at no more than can be shown (a 1 MB body costs what a short one does).
        end = min(end, max(start + max(1, max_len) * 2, first + len(needle)))
    text = Text(style=style, no_wrap=True, end="")
    if start or ellipsis_before:
        text.append(ELLIPSIS, style="dim")
    at = start
    found = first
    while 0 <= found < end:
        text.append_text(literal(value[at:found], style=style))
        stop = found + len(needle)
        text.append_text(literal(value[found:stop], style=MATCH_STYLE))
        at = stop
        found = haystack.find(needle, stop)
    text.append_text(literal(value[at:end], style=style))
    if max_len is not None:
        limit = max(1, max_len)
        if text.cell_len > limit or end < len(value):
            text.truncate(max(0, limit - 1))
            text.append(ELLIPSIS, style="dim")
    return text


__all__ = ["MATCH_STYLE", "contains", "fold", "highlighted"]
