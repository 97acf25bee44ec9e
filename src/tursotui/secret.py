"""A token held so that printing, logging or formatting it never shows its value."""

from __future__ import annotations

from typing import Any


class Secret:
    """A secret text: `str()`, `repr()` and f-strings show `**********`, never the value.

    `get_secret_value()` is the one way to the text, so every place that sends a token
    says so. Two secrets of the same text are equal (a registry row read twice is the same
    row); an empty secret is false, like an empty string.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The text itself: only for sending it where it belongs."""
        return self._value

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"Secret('{self}')"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        # copy/deepcopy/pickle keep the value (a dataclass copy of the settings must still
        # open the registry); what they make is a Secret again, which hides it.
        return (Secret, (self._value,))
