"""One async connection interface for every libSQL URL.

`connect()` returns a `Connection` with libsql-client's `Client` interface
(`execute`, `batch`, `close`, `async with`) whatever the URL:

- `file:` runs on a persistent sqlite3 connection on its own thread (`local`);
- `libsql:`, `https:`, `http:` and bare hostnames speak Hrana over HTTP (`http`);
- `ws:`, `wss:` use libsql-client's WebSocket client (`ws`).
"""

from __future__ import annotations

import sys

from tursotui.db import errors
from tursotui.db.base import Connection, Transaction
from tursotui.db.libsql import LibsqlError, ResultSet, Row, Statement
from tursotui.db.result import Result
from tursotui.db.urls import DatabaseURL, InvalidURL, parse_url
from tursotui.secret import Secret

DEFAULT_TIMEOUT_S = 10.0
"""How long a remote call may take before it fails with TIMEOUT."""


async def connect(
    url: str | DatabaseURL,
    auth_token: str | Secret | None = None,
    *,
    name: str | None = None,
    read_only: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    create: bool = False,
) -> Connection:
    """Open a connection to the database at `url`.

    Args:
        url: Any URL form a registry holds, or an already parsed `DatabaseURL`.
        auth_token: The database token, if it needs one; never shown anywhere.
        name: What messages call this database (a tenant slug); defaults to its host.
        read_only: Refuse every write (SQLite itself for `file:`, before sending for remote).
        timeout: Seconds a remote call may take.
        create: For `file:` only, create the database file if it is missing.

    Raises:
        LibsqlError: the URL is unusable (INVALID_URL) or the database cannot be opened.
    """
    try:
        parsed = url if isinstance(url, DatabaseURL) else parse_url(url)
    except InvalidURL as error:
        raise errors.database_error(name or "database", str(error), errors.INVALID_URL) from None
    label = name or parsed.host
    token = auth_token.get_secret_value() if isinstance(auth_token, Secret) else auth_token
    if parsed.transport == "file":
        from tursotui.db.local import LocalConnection

        return await LocalConnection(parsed, label, read_only=read_only, create=create).open()
    if parsed.transport == "http":
        from tursotui.db.http import HranaHTTPConnection

        return HranaHTTPConnection(
            parsed, label, token or None, read_only=read_only, timeout=timeout
        )
    from tursotui.db.ws import WebSocketConnection

    return await WebSocketConnection(
        parsed, label, token or None, read_only=read_only, timeout=timeout
    ).open()


async def close_shared_clients() -> None:
    """Close the shared HTTP client, if this process ever made one (at application exit).

    Asked without importing the HTTP transport: a session of `file:` tenants never loads it.
    """
    http = sys.modules.get("tursotui.db.http")
    if http is not None:
        await http.close_shared_client()


__all__ = [
    "Connection",
    "DatabaseURL",
    "LibsqlError",
    "Result",
    "ResultSet",
    "Row",
    "Statement",
    "Transaction",
    "close_shared_clients",
    "connect",
    "errors",
    "parse_url",
]
