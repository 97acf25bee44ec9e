"""The Platform API layer's one error type."""

from __future__ import annotations

from tursotui.errors import TursotuiError


class PlatformError(TursotuiError):
    """A Turso Platform API call failed.

    Attributes:
        status: The HTTP status, or None when no answer came (network failure, timeout).
        message: The API's own `error` text, or what went wrong on the way; never a token.
    """

    title = "Turso Platform"

    def __init__(self, status: int | None, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no answer"
        return f"Turso Platform API: {self.message} ({where})"

    @property
    def not_found(self) -> bool:
        """True for a 404 (the database or group does not exist)."""
        return self.status == 404

    @property
    def conflict(self) -> bool:
        """True for a 409 (the database already exists)."""
        return self.status == 409
