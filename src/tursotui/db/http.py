"""Hrana over HTTP (`POST <base>/v2/pipeline`): Turso Cloud, sqld and tursodb.

Every call is exactly one HTTP request: `execute` and `batch` send a pipeline
without a baton, followed in the same request by `close`, so the server frees the stream
at once. That `close` matters: sqld keeps an unclosed stream (and its database
connection) until it expires, and answers HTTP 429 after a few thousand quick calls.
tursodb 0.6 rejects `close` as a whole request (HTTP 500, nothing executed); such a server
is remembered and sent no `close` from then on. Interactive transactions hold a stream
through the baton (and `base_url`) and close it when they end.

Requests go out on `db.wire`'s kept-alive HTTP/1.1 connections, one pool per event loop
shared by every connection (a pool cannot cross event loops, and tests run a fresh loop
each); through httpx only when the environment names a proxy, which httpx speaks.
Every failure becomes a `LibsqlError` with a code of `tursotui.db.errors` and a message
naming the database and the cause; the token is never part of any message (httpx's
exceptions are never chained, they carry the request and its headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import errno
import json
import os
import socket
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tursotui import __version__
from tursotui.db import errors, hrana, wire
from tursotui.db.base import RemoteConnection, RemoteTransaction
from tursotui.db.libsql import InArgs, InStatement, LibsqlError
from tursotui.db.result import Result

if TYPE_CHECKING:
    import httpx

_HEAD = f"content-type: application/json\r\nuser-agent: tursotui/{__version__}\r\n"
"""The header lines of every request but the token's (a server's logs can tell tursotui)."""

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
"""JSON as httpx sent it: compact, UTF-8, no NaN (values are checked before, see hrana)."""

NO_INTERACTIVE_TRANSACTIONS = errors.TRANSACTION_UNSUPPORTED
"""The server keeps no streams (tursodb 0.6), so interactive transactions are impossible."""

_closeless: set[str] = set()
"""Base URLs of servers that reject the `close` request (tursodb)."""


class _CloseRejected(Exception):
    """The server refused a pipeline because it does not know `close`; nothing ran."""


RATE_LIMIT_RETRIES = 3
"""How many times a request refused with HTTP 429 is sent again before the 429 is the answer."""

RATE_LIMIT_DEFAULT_WAIT_S = 0.5
"""The first wait after a 429 without `Retry-After` (doubled after each)."""

rate_limited: dict[str, float] = {}
"""Databases (by connection name: a tenant's slug) waiting out a 429 now, and until when
(`time.monotonic()`), so a screen can say `waiting (rate limited)` on their row."""


class _RateLimited(Exception):
    """HTTP 429: the server did nothing and asks to come back after `wait` seconds (or None)."""

    def __init__(self, wait: float | None, error: LibsqlError) -> None:
        super().__init__(str(error))
        self.wait = wait
        self.error = error


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


_LIMITS_ARGS = {"max_connections": 64, "max_keepalive_connections": 32, "keepalive_expiry": 30}
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, wire.Pool] = (
    weakref.WeakKeyDictionary()
)
_proxy_named: weakref.WeakKeyDictionary[wire.Pool, bool] = weakref.WeakKeyDictionary()
"""Whether the environment named any proxy when the pool was made (read once, not per request)."""
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def shared_pool() -> wire.Pool:
    """The kept-alive connections of the running event loop, made on first use."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None or pool.closed:
        pool = wire.Pool()
        _pools[loop] = pool
        _proxy_named[pool] = proxied("http:") or proxied("https:")
    return pool


def shared_client() -> httpx.AsyncClient:
    """The httpx client of the running event loop (for requests through a proxy)."""
    import httpx

    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        # Timeouts are per call (asyncio.timeout around the whole request), not per phase:
        # a server trickling bytes must not escape the deadline.
        client = httpx.AsyncClient(
            limits=httpx.Limits(**_LIMITS_ARGS), timeout=None, follow_redirects=False
        )
        _clients[loop] = client
    return client


def proxied(url: str) -> bool:
    """The environment names a proxy for `url`'s scheme (httpx honours it, and NO_PROXY)."""
    names = ("all_proxy", "https_proxy" if url.startswith("https:") else "http_proxy")
    return any(os.environ.get(n) or os.environ.get(n.upper()) for n in names)


async def close_shared_client() -> None:
    """Close the running loop's connections and httpx client (at application exit)."""
    loop = asyncio.get_running_loop()
    pool = _pools.pop(loop, None)
    if pool is not None:
        await pool.close()
    client = _clients.pop(loop, None)
    if client is not None:
        await client.aclose()


class HranaHTTPConnection(RemoteConnection):
    """A libSQL database spoken to with Hrana over HTTP.

    Args:
        url: The parsed URL (`target` is the base URL, e.g. `https://db-org.turso.io`).
        name: What messages call the database (a tenant slug, or its host).
        token: The bearer token, or None.
        read_only: Refuse every write before sending it.
        timeout: Seconds any one call may take, end to end.
    """

    # -- one request -------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        return headers

    def _error(self, message: str, code: str) -> LibsqlError:
        if self._token and self._token in message:
            message = message.replace(self._token, "<token>")
        return errors.database_error(self.name, message, code)

    async def pipeline(
        self,
        requests: list[dict[str, Any]],
        *,
        baton: str | None = None,
        base_url: str | None = None,
    ) -> tuple[list[Any], str | None, str | None]:
        """Send one `/v2/pipeline` request.

        Returns:
            The results (one per request, each `{"type": "ok"|"error", ...}`), the baton
            and the base URL the server gave back.

        Raises:
            LibsqlError: the request failed (network, HTTP status, malformed answer).
        """
        default_wait = RATE_LIMIT_DEFAULT_WAIT_S
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                return await self._pipeline_renewing(requests, baton=baton, base_url=base_url)
            except _RateLimited as limited:
                # A 429 means nothing was done: sending the same request again is safe,
                # after the wait the server asked for, a bounded number of times, and
                # never past the call's own timeout.
                wait = limited.wait if limited.wait is not None else default_wait
                default_wait *= 2
                if attempt == RATE_LIMIT_RETRIES or (
                    self.timeout is not None and wait > self.timeout
                ):
                    raise limited.error from None
                rate_limited[self.name] = time.monotonic() + wait
                try:
                    await asyncio.sleep(wait)
                finally:
                    rate_limited.pop(self.name, None)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def _pipeline_renewing(
        self,
        requests: list[dict[str, Any]],
        *,
        baton: str | None = None,
        base_url: str | None = None,
    ) -> tuple[list[Any], str | None, str | None]:
        try:
            return await self._pipeline_once(requests, baton=baton, base_url=base_url)
        except LibsqlError as error:
            if error.code != errors.UNAUTHORIZED or self.renew_token is None or not self._token:
                raise
            rejected = self._token
        # The server refused the token before doing anything: get a new one, send it again.
        self._token = await self.renew_token(rejected)
        return await self._pipeline_once(requests, baton=baton, base_url=base_url)

    async def _pipeline_once(
        self,
        requests: list[dict[str, Any]],
        *,
        baton: str | None = None,
        base_url: str | None = None,
    ) -> tuple[list[Any], str | None, str | None]:
        if self._closed:
            raise self._error("the connection is closed", errors.CLOSED)
        endpoint = (base_url or self.url.target).rstrip("/") + "/v2/pipeline"
        body = _dumps({"baton": baton, "requests": requests}).encode()
        pool = shared_pool()
        if _proxy_named[pool] and proxied(endpoint):
            return await self._pipeline_httpx(endpoint, body, len(requests))
        head = self._head()
        failure: LibsqlError
        try:
            async with asyncio.timeout(self.timeout):
                answer = await pool.post(endpoint, body, head)
        except TimeoutError:
            failure = self._error(self._no_answer(), errors.TIMEOUT)
        except wire.WireError as error:
            failure = self._wire_error(error)
        except ValueError:
            failure = hrana.protocol_error(self.name, f"an unusable URL {endpoint!r}")
        else:
            return self._answer(answer.status, answer.headers.get, answer.content, len(requests))
        raise failure

    def _head(self) -> str:
        """The request's own header lines (the token's among them)."""
        if self._token:
            token = self._token
            if not token.isascii() or "\r" in token or "\n" in token:  # not a header value
                raise self._error("the token is not a valid header value", errors.UNAUTHORIZED)
            return f"{_HEAD}authorization: Bearer {token}\r\n"
        return _HEAD

    async def _pipeline_httpx(
        self, endpoint: str, body: bytes, expected: int
    ) -> tuple[list[Any], str | None, str | None]:
        """The same request through httpx, which speaks the proxy the environment names."""
        import httpx

        failure: LibsqlError
        try:
            async with asyncio.timeout(self.timeout):
                response = await shared_client().post(
                    endpoint, content=body, headers=self._headers()
                )
        except TimeoutError:
            failure = self._error(self._no_answer(), errors.TIMEOUT)
        except httpx.HTTPError as error:
            failure = self._transport_error(error)
        except httpx.InvalidURL:
            failure = hrana.protocol_error(self.name, f"an unusable URL {endpoint!r}")
        else:
            return self._answer(
                response.status_code, response.headers.get, response.content, expected
            )
        # Raised outside the handler: httpx's exception holds the request and its headers
        # (the token), so it must not ride along as the context.
        raise failure

    def _answer(
        self,
        status: int,
        header: Callable[[str], str | None],
        content: bytes,
        expected: int,
    ) -> tuple[list[Any], str | None, str | None]:
        if status != 200:
            if status == 500 and b"unknown variant `close`" in content:
                raise _CloseRejected
            error = self._status_error(status, content)
            if status == 429:
                raise _RateLimited(retry_after(header("retry-after")), error)
            raise error
        try:
            answer = json.loads(content)
            results = answer["results"]
            if not isinstance(results, list) or len(results) != expected:
                raise ValueError("wrong number of results")
            new_baton = answer.get("baton")
            new_base = answer.get("base_url")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise hrana.protocol_error(self.name, "not the JSON of a pipeline answer") from None
        return results, new_baton, new_base

    def _wire_error(self, error: wire.WireError) -> LibsqlError:
        host = self.url.host
        cause = error.cause
        if error.connecting:
            return self._connect_error(cause, error.reason)
        return self._error(
            f"the connection to {host} was lost ({error.reason})", errors.CONNECTION_LOST
        )

    def _connect_error(self, cause: OSError | None, reason: str) -> LibsqlError:
        """A connection that was never made: DNS, refused, or why not (TLS, unreachable)."""
        host = self.url.host
        if isinstance(cause, socket.gaierror):
            return self._error(f"cannot resolve the host {_hostname(host)} (DNS)", errors.DNS)
        if isinstance(cause, ConnectionRefusedError) or (
            cause is not None and cause.errno == errno.ECONNREFUSED
        ):
            return self._error(f"{host} refused the connection", errors.REFUSED)
        return self._error(f"cannot connect to {host} ({reason})", errors.REFUSED)

    def _transport_error(self, error: httpx.HTTPError) -> LibsqlError:
        import httpx

        host = self.url.host
        if isinstance(error, httpx.TimeoutException):
            return self._error(self._no_answer(), errors.TIMEOUT)
        if isinstance(error, httpx.ConnectError):
            cause = _root_os_error(error)
            return self._connect_error(cause, _reason(cause))
        return self._error(
            f"the connection to {host} was lost ({_reason(_root_os_error(error) or error)})",
            errors.CONNECTION_LOST,
        )

    def _status_error(self, status: int, content: bytes) -> LibsqlError:
        host = self.url.host
        said = _server_text(content)
        if status == 401:
            if not self._token:
                return self._error(
                    f"{host} asks for a token and none was given", errors.UNAUTHORIZED
                )
            return self._error(
                f"the token was rejected (bad or expired){_suffix(said)}", errors.UNAUTHORIZED
            )
        if status == 403:
            lowered = said.lower()
            if any(word in lowered for word in ("write", "read-only", "readonly", "read only")):
                return self._error(
                    f"the token is read-only: {host} refused a write{_suffix(said)}",
                    errors.READ_ONLY_TOKEN,
                )
            return self._error(f"the token is not allowed here{_suffix(said)}", errors.UNAUTHORIZED)
        if status == 404:
            return self._error(f"no libSQL database at {host}", errors.NOT_FOUND)
        if status == 429:
            return self._error(
                f"{host} is overloaded (HTTP 429){_suffix(said)}", errors.SERVER_ERROR
            )
        if status >= 500:
            return self._error(
                f"{host} failed with HTTP {status}{_suffix(said)}", errors.SERVER_ERROR
            )
        if status == 400 and "baton" in said.lower():
            return self._error(
                f"{host} no longer knows this transaction (it expired){_suffix(said)}",
                errors.CONNECTION_LOST,
            )
        return self._error(f"{host} answered HTTP {status}{_suffix(said)}", errors.PROTOCOL_ERROR)

    def _ok(self, result: Any, kind: str) -> Any:
        """The response of an ok result of type `kind`, or the server's error raised."""
        if not isinstance(result, dict):
            raise hrana.protocol_error(self.name, "a result that is not an object")
        if result.get("type") == "error":
            raise hrana.server_error(self.name, result.get("error"))
        response = result.get("response")
        if result.get("type") != "ok" or not isinstance(response, dict):
            raise hrana.protocol_error(self.name, "a result neither ok nor error")
        if response.get("type") != kind:
            raise hrana.protocol_error(self.name, f"a {response.get('type')!r} response")
        return response.get("result")

    def _stmt(self, stmt: InStatement, args: InArgs = None) -> dict[str, Any]:
        return hrana.encode_stmt(stmt, args, where=self.name, read_only=self.read_only)

    # -- the Client interface --------------------------------------------------------

    async def _one_shot(self, request: dict[str, Any]) -> Any:
        """Send one request on a stream of its own, closed in the same HTTP request."""
        if self.url.target in _closeless:
            results, _, _ = await self.pipeline([request])
            return results[0]
        try:
            results, _, _ = await self.pipeline([request, {"type": "close"}])
        except _CloseRejected:
            # The server parsed nothing of it; send it again, and never `close` there again.
            _closeless.add(self.url.target)
            results, _, _ = await self.pipeline([request])
        return results[0]

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        request = {"type": "execute", "stmt": self._stmt(stmt, args)}
        result = await self._one_shot(request)
        return hrana.decode_result(self._ok(result, "execute"), self.name)

    async def batch(self, stmts: list[InStatement]) -> list[Result]:
        encoded = [self._stmt(s) for s in stmts]
        request = {"type": "batch", "batch": hrana.batch_steps(encoded)}
        result = await self._one_shot(request)
        return hrana.decode_batch(self._ok(result, "batch"), len(encoded), self.name)

    def transaction(self) -> HTTPTransaction:
        return HTTPTransaction(self)

    async def close(self) -> None:
        # The shared client belongs to the event loop, not to this connection.
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed


class HTTPTransaction(RemoteTransaction):
    """An interactive transaction on a Hrana stream held by the server through the baton.

    BEGIN travels with the first statement; COMMIT or ROLLBACK travel with the `close` of
    the stream. A server that hands out no baton (tursodb) cannot hold the transaction
    open: the first statement is rolled back at once and TRANSACTION_UNSUPPORTED raised.
    """

    def __init__(self, connection: HranaHTTPConnection) -> None:
        self._conn = connection
        self._baton: str | None = None
        self._base_url: str | None = None
        self._started = False
        self._done = False
        self._lock = asyncio.Lock()

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        conn = self._conn
        request = {"type": "execute", "stmt": conn._stmt(stmt, args)}
        async with self._lock:
            if self._done:
                raise conn._error("the transaction has ended", errors.CLOSED)
            requests = [request]
            if not self._started:
                requests.insert(0, {"type": "execute", "stmt": hrana.plain_stmt("BEGIN")})
            results = await self._send(requests)
            if not self._started:
                self._started = True
                if self._baton is None:
                    await self._abandon_streamless()
                conn._ok(results[0], "execute")
            return hrana.decode_result(conn._ok(results[-1], "execute"), conn.name)

    async def _send(self, requests: list[dict[str, Any]]) -> list[Any]:
        try:
            results, self._baton, base_url = await self._conn.pipeline(
                requests, baton=self._baton, base_url=self._base_url
            )
        except BaseException:
            # Whatever happened to the stream (cancelled, lost), it cannot be trusted again;
            # the server rolls it back when it expires.
            self._done = True
            raise
        if base_url and base_url != self._base_url:
            self._base_url = self._checked_base_url(base_url)
        return results

    def _checked_base_url(self, base_url: str) -> str:
        # The token follows the stream to `base_url`: never over plain HTTP when the tenant
        # is reached over HTTPS.
        ours = self._conn.url.target
        if not base_url.startswith(("https://", "http://")) or (
            ours.startswith("https://") and not base_url.startswith("https://")
        ):
            self._done = True
            raise hrana.protocol_error(self._conn.name, f"a base_url it cannot use ({base_url!r})")
        return base_url

    async def _abandon_streamless(self) -> None:
        self._done = True
        conn = self._conn
        # The BEGIN opened a transaction on the server's shared connection: undo it.
        rollback = {"type": "execute", "stmt": hrana.plain_stmt("ROLLBACK")}
        with contextlib.suppress(LibsqlError):
            await conn.pipeline([rollback])
        raise conn._error(
            f"{conn.url.host} does not support interactive transactions "
            "(it keeps no streams); use a batch",
            NO_INTERACTIVE_TRANSACTIONS,
        )

    async def _finish(self, sql: str) -> None:
        async with self._lock:
            if self._done:
                return
            self._done = True
            if not self._started:
                return
            requests: list[dict[str, Any]] = [
                {"type": "execute", "stmt": hrana.plain_stmt(sql)},
                {"type": "close"},
            ]
            try:
                results, _, _ = await self._conn.pipeline(
                    requests, baton=self._baton, base_url=self._base_url
                )
            except _CloseRejected:
                results, _, _ = await self._conn.pipeline(
                    requests[:1], baton=self._baton, base_url=self._base_url
                )
            self._conn._ok(results[0], "execute")


def _root_os_error(error: BaseException) -> OSError | None:
    seen: BaseException | None = error
    found: OSError | None = None
    while seen is not None:
        if isinstance(seen, OSError):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


def _reason(error: BaseException | None) -> str:
    if error is None:
        return "no reason given"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _hostname(host: str) -> str:
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _server_text(content: bytes, limit: int = 200) -> str:
    """What the server said in an error answer: `{"error": ...}` or plain text, shortened."""
    text = content.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            text = data["error"]
        elif isinstance(data, dict) and isinstance(data.get("message"), str):
            text = data["message"]
    except ValueError:
        pass
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _suffix(said: str) -> str:
    return f" ({said})" if said else ""
