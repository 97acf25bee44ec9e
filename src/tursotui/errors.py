"""The root of every error tursotui raises on purpose.

Each layer has its own error type (SettingsError, RegistryError, the connection
layer's DatabaseError...), and every one of them derives from `TursotuiError`. An
error that is a `TursotuiError` carries a message a person can act on; anything
else that escapes is a bug and keeps its traceback.

This module imports nothing from tursotui, so every layer can use it.
"""

from __future__ import annotations


class TursotuiError(Exception):
    """An error with a message for people, and a short title for where it is shown.

    Attributes:
        title: A few words naming what failed (a dialog's title, a notification's title).
    """

    title: str = "Error"

    def __init__(self, message: str = "", title: str | None = None) -> None:
        super().__init__(message)
        if title is not None:
            self.title = title


__all__ = ["TursotuiError"]
