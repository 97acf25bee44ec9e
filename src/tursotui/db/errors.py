"""The connection layer's one error type and its codes.

Every transport turns its own failures (sqlite3, httpx, websockets) into
`libsql_client.LibsqlError` here, with a code from this module and a message
that names the database and the cause, and never the token.
"""

from __future__ import annotations

from libsql_client import LibsqlError

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
CLOSED = "CLIENT_CLOSED"


def database_error(where: str, message: str, code: str) -> LibsqlError:
    """An error about the database `where` (a tenant slug or a host), for people to read."""
    return LibsqlError(f"{where}: {message}", code)


def describe(error: BaseException) -> str:
    """The human part of an error, without the code prefix LibsqlError adds."""
    if isinstance(error, LibsqlError):
        explanation: str = error.explanation
        return explanation
    return str(error) or type(error).__name__


__all__ = ["LibsqlError", "database_error", "describe"]
