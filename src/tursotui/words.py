"""Words for people: counts with the right number ("1 tenant", "2 tenants")."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`count` and the noun in the right number: `plural(1, "tenant")` is `1 tenant`.

    Args:
        count: How many.
        noun: The singular.
        nouns: The plural, when it is not the singular with an `s`.
    """
    word = noun if count == 1 else (nouns or f"{noun}s")
    return f"{count:,} {word}"


__all__ = ["plural"]
