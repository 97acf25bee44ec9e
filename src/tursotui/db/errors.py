"""The connection layer's one error type and its codes.

Every transport turns its own failures (sqlite3, httpx, websockets) into a
`DatabaseError` here, with a code from this module and a message that names the
database and the cause, and never the token. A `DatabaseError` is both a
`TursotuiError` (a user error, under the package's one root) and a
`libsql_client.LibsqlError`, so `except LibsqlError` and `.code` keep working.

Every error code tursotui sets or compares is defined here, once.
"""

from __future__ import annotations

from tursotui.db.libsql import LibsqlError
from tursotui.errors import TursotuiError

# Codes of our own; errors reported by SQLite or the server keep theirs (SQLITE_...).
INVALID_URL = "INVALID_URL"
NO_SUCH_DATABASE = "NO_SUCH_DATABASE"
DNS = "DNS"
REFUSED = "CONNECTION_REFUSED"
TIMEOUT = "TIMEOUT"
CONNECTION_LOST = "CONNECTION_LOST"
UNAUTHORIZED = "UNAUTHORIZED"
READ_ONLY_TOKEN = "READ_ONLY_TOKEN"
NOT_FOUND = "NOT_FOUND"
SERVER_ERROR = "SERVER_ERROR"
PROTOCOL_ERROR = "PROTOCOL_ERROR"
READ_ONLY = "READ_ONLY"
FORBIDDEN_STATEMENT = "FORBIDDEN_STATEMENT"
INTERRUPTED = "INTERRUPTED"
CLOSED = "CLIENT_CLOSED"  # the same code libsql-client gives a closed client
TRANSACTION_UNSUPPORTED = "TRANSACTION_UNSUPPORTED"
"""The server keeps no interactive transactions (tursodb); the caller may fall back."""
TOKEN_UNAVAILABLE = "TOKEN_UNAVAILABLE"
"""A tenant's token could not be had from its source (a command, a column, the environment)."""


# libsql-client ships no types, so its LibsqlError is Any to the checker.
class DatabaseError(TursotuiError, LibsqlError):  # type: ignore[misc]
    """A database could not do what was asked: `code` says what kind of failure, the message why.

    `str()` reads `CODE: message` as LibsqlError's does; `explanation` is the message alone.
    """

    title = "Database"

    def __init__(self, message: str, code: str, title: str | None = None) -> None:
        LibsqlError.__init__(self, message, code)
        if title is not None:
            self.title = title

    def __reduce__(self) -> tuple[type[DatabaseError], tuple[str, str, str]]:
        # The stored args hold `CODE: message`, not the constructor's arguments.
        return (type(self), (self.explanation, self.code, self.title))


def database_error(where: str, message: str, code: str) -> DatabaseError:
    """An error about the database `where` (a tenant slug or a host), for people to read."""
    return DatabaseError(f"{where}: {message}", code)


def describe(error: BaseException) -> str:
    """The human part of an error, without the code prefix LibsqlError adds."""
    if isinstance(error, LibsqlError):
        explanation: str = error.explanation
        return explanation
    return str(error) or type(error).__name__


__all__ = ["DatabaseError", "LibsqlError", "database_error", "describe"]
