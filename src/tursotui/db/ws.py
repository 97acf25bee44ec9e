"""`ws:`/`wss:` databases through libsql-client's own Hrana WebSocket client (self-hosted sqld).

libsql-client's `HranaClient` does the WebSocket work (handshake, streams, reconnecting
after a broken socket); this module sends it the same Hrana statements as the HTTP
transport (`tursotui.db.hrana`), so values, named arguments, read-only mode, forbidden
statements, results and errors behave the same on both.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import socket
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
from libsql_client.hrana.client import HranaClient
from libsql_client.hrana.conn import HranaConn, HranaStream
from libsql_client.hrana.convert import _error_from_proto

from tursotui.db import errors, hrana
from tursotui.db.base import RemoteConnection, RemoteTransaction
from tursotui.db.libsql import InArgs, InStatement, LibsqlError
from tursotui.db.result import Result
from tursotui.db.urls import DatabaseURL
from tursotui.sqltext import classify

CLOSE_TIMEOUT_S = 10.0
"""Longest wait for a closing handshake when calls themselves may wait without limit."""

T = TypeVar("T")

_LOST_CODES = {"HRANA_WEBSOCKET_ERROR", "STREAM_CLOSED", "HRANA_PROTO_ERROR"}


# libsql-client ships no types, so its HranaConn is Any to the checker.
class _Conn(HranaConn):  # type: ignore[misc]
    """libsql-client's connection, remembering why the server refused the hello.

    The server answers a bad token with `hello_error` and closes the socket; which of the
    two libsql-client reports depends on timing, so the refusal is kept here.
    """

    refused: LibsqlError | None = None

    def _receive(self, text: str) -> None:
        if not self._recvd_hello and '"hello_error"' in text:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self.refused = _error_from_proto(json.loads(text)["error"])
        super()._receive(text)


# libsql-client ships no types, so its HranaClient is Any to the checker.
class _Client(HranaClient):  # type: ignore[misc]
    def _open_conn(self) -> HranaConn:
        return _Conn(self._session, self._url, self._auth_token)


class WebSocketConnection(RemoteConnection):
    """A libSQL database spoken to with Hrana over a WebSocket.

    Call `await open()` before use (`tursotui.db.connect` does): it waits for the server to
    accept the handshake and the token, so a bad URL or token fails there, clearly.
    """

    def __init__(
        self,
        url: DatabaseURL,
        name: str,
        token: str | None,
        *,
        read_only: bool = False,
        timeout: float | None = 10.0,
    ) -> None:
        super().__init__(url, name, token, read_only=read_only, timeout=timeout)
        self._token_read_only = _claims_read_only(token)
        self._client: _Client | None = None

    async def open(self) -> WebSocketConnection:
        """Connect and authenticate.

        Raises:
            LibsqlError: DNS, CONNECTION_REFUSED, TIMEOUT, UNAUTHORIZED...
        """
        self._client = _Client(self.url.target, self._token)
        conn = self._client._conn
        try:
            await self._wait(conn.wait_connected())
            refused = getattr(conn, "refused", None)
            if refused is not None:
                raise self._translate(refused)
        except BaseException:
            await self._drop_client()
            raise
        return self

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # A dead server never answers the closing handshake; do not wait for it forever.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timeout or CLOSE_TIMEOUT_S):
                    await client.close()

    # -- errors --------------------------------------------------------------------

    def _error(self, message: str, code: str) -> LibsqlError:
        if self._token and self._token in message:
            message = message.replace(self._token, "<token>")
        return errors.database_error(self.name, message, code)

    async def _wait(self, awaitable: Awaitable[T], *, writes: bool = False) -> T:
        """Await a reply from the server within the timeout, translating every failure.

        Args:
            awaitable: The reply.
            writes: The request writes; sqld answers a write with a read-only token by
                closing the WebSocket, so that is what a lost connection then means.
        """
        try:
            async with asyncio.timeout(self.timeout):
                return await awaitable
        except (LibsqlError, aiohttp.ClientError, OSError) as error:  # TimeoutError is an OSError
            failure = self._failure(error, writes=writes)
        # Raised outside the handler so that no library exception rides along as its context.
        raise failure

    def _failure(self, error: BaseException, *, writes: bool) -> LibsqlError:
        """What went wrong, as the layer's error."""
        host = self.url.host
        if isinstance(error, TimeoutError):
            return self._error(self._no_answer(), errors.TIMEOUT)
        if isinstance(error, LibsqlError):
            # A refused hello is the real reason behind whatever broke after it.
            refused = getattr(self._client._conn, "refused", None) if self._client else None
            if refused is not None:
                return self._translate(refused)
            if writes and self._token_read_only and error.code in _LOST_CODES:
                return self._error(
                    f"the token is read-only: {host} closed the connection on a write",
                    errors.READ_ONLY_TOKEN,
                )
            return self._translate(error)
        if isinstance(error, aiohttp.WSServerHandshakeError):
            return self._handshake_error(error.status)
        if isinstance(error, aiohttp.ClientConnectorError):
            os_error = error.os_error
            if isinstance(error, aiohttp.ClientConnectorDNSError) or isinstance(
                os_error, socket.gaierror
            ):
                return self._error(f"cannot resolve the host {_hostname(host)} (DNS)", errors.DNS)
            if isinstance(os_error, ConnectionRefusedError):
                return self._error(f"{host} refused the connection", errors.REFUSED)
            reason = os_error.strerror or type(os_error).__name__
            return self._error(f"cannot connect to {host} ({reason})", errors.REFUSED)
        return self._error(
            f"the connection to {host} was lost ({type(error).__name__})", errors.CONNECTION_LOST
        )

    def _handshake_error(self, status: int) -> LibsqlError:
        host = self.url.host
        if status == 401:
            return self._error("the token was rejected (bad or expired)", errors.UNAUTHORIZED)
        if status == 404:
            return self._error(f"no libSQL database at {host}", errors.NOT_FOUND)
        if status >= 500:
            return self._error(f"{host} failed with HTTP {status}", errors.SERVER_ERROR)
        return self._error(
            f"{host} refused the WebSocket handshake (HTTP {status})", errors.PROTOCOL_ERROR
        )

    def _translate(self, error: LibsqlError) -> LibsqlError:
        said = error.explanation
        lowered = said.lower()
        if error.code in _LOST_CODES:
            return self._error(
                f"the connection to {self.url.host} was lost ({said})", errors.CONNECTION_LOST
            )
        if error.code == errors.CLOSED:
            return self._error("the connection is closed", errors.CLOSED)
        if ("permission" in lowered and "write" in lowered) or "read-only" in lowered:
            return self._error(
                f"the token is read-only: {self.url.host} refused a write ({said})",
                errors.READ_ONLY_TOKEN,
            )
        if "auth" in error.code.lower() and not self._token:
            return self._error(
                f"{self.url.host} asks for a token and none was given", errors.UNAUTHORIZED
            )
        if "jwt" in lowered or "auth" in error.code.lower() or "unauthorized" in lowered:
            return self._error(
                f"the token was rejected (bad or expired) ({said})", errors.UNAUTHORIZED
            )
        return self._error(said, error.code)

    # -- streams -------------------------------------------------------------------

    def _stream(self) -> HranaStream:
        if self._closed or self._client is None:
            raise self._error("the connection is closed", errors.CLOSED)
        return self._client._open_stream()

    def _stmt(self, stmt: InStatement, args: InArgs = None) -> dict[str, Any]:
        return hrana.encode_stmt(stmt, args, where=self.name, read_only=self.read_only)

    # -- the Client interface --------------------------------------------------------

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        proto = self._stmt(stmt, args)
        with self._stream() as stream:
            reply = stream.execute(proto)
        writes = classify(proto["sql"]).writes
        return hrana.decode_result(await self._wait(reply, writes=writes), self.name)

    async def batch(self, stmts: list[InStatement]) -> list[Result]:
        encoded = [self._stmt(s) for s in stmts]
        with self._stream() as stream:
            reply = stream.batch(hrana.batch_steps(encoded))
        writes = any(classify(stmt["sql"]).writes for stmt in encoded)
        result = await self._wait(reply, writes=writes)
        try:
            return hrana.decode_batch(result, len(encoded), self.name)
        except LibsqlError as error:
            raise self._translate(_unwrap(error, self.name)) from None

    def transaction(self) -> WebSocketTransaction:
        return WebSocketTransaction(self)

    async def close(self) -> None:
        self._closed = True
        await self._drop_client()

    @property
    def closed(self) -> bool:
        return self._closed


class WebSocketTransaction(RemoteTransaction):
    """An interactive transaction on a Hrana stream of its own."""

    def __init__(self, connection: WebSocketConnection) -> None:
        self._conn = connection
        self._stream: HranaStream | None = None
        self._done = False

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        conn = self._conn
        if self._done:
            raise conn._error("the transaction has ended", errors.CLOSED)
        proto = conn._stmt(stmt, args)
        if self._stream is None:
            self._stream = conn._stream()
            begin = self._stream.execute(hrana.plain_stmt("BEGIN"))
            reply = self._stream.execute(proto)
            await self._guard(begin)
        else:
            reply = self._stream.execute(proto)
        writes = classify(proto["sql"]).writes
        return hrana.decode_result(await self._guard(reply, writes=writes), conn.name)

    async def _guard(self, reply: Awaitable[T], *, writes: bool = False) -> T:
        try:
            return await self._conn._wait(reply, writes=writes)
        except LibsqlError as error:
            if error.code in (errors.CONNECTION_LOST, errors.TIMEOUT, errors.CLOSED):
                self._abandon()
            raise
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        # The stream's state is unknown; closing it makes the server roll it back.
        self._done = True
        if self._stream is not None and not self._stream.closed:
            with contextlib.suppress(Exception):
                self._stream.close()

    async def _finish(self, sql: str) -> None:
        if self._done:
            return
        self._done = True
        if self._stream is None:
            return
        stream = self._stream
        try:
            reply = stream.execute(hrana.plain_stmt(sql))
        except LibsqlError as error:
            raise self._conn._translate(error) from None
        finally:
            with contextlib.suppress(Exception):
                stream.close()
        await self._conn._wait(reply, writes=sql == "COMMIT")


def _unwrap(error: LibsqlError, name: str) -> LibsqlError:
    """The server's error without our `<name>: ` prefix, so `_translate` can add it once."""
    prefix = f"{name}: "
    message = error.explanation
    return errors.DatabaseError(
        message[len(prefix) :] if message.startswith(prefix) else message, error.code
    )


def _claims_read_only(token: str | None) -> bool:
    """Whether a JWT says it is read-only (claim `a: "ro"`), read without verifying it."""
    if not token or token.count(".") != 2:
        return False
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(claims, dict) and claims.get("a") == "ro"


def _hostname(host: str) -> str:
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
