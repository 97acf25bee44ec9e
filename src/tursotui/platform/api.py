"""An async client of the Turso Platform API, on httpx.

Every call goes through `PlatformClient._request`, the one place where HTTP and
transport failures become `PlatformError`, where retries happen and where the
platform token is added to the request (and nowhere else: it is a `Secret`
that no message, log line or repr ever shows).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from tursotui.db.http import retry_after
from tursotui.platform.errors import PlatformError
from tursotui.platform.models import Database, Group
from tursotui.secret import Secret

ModelT = TypeVar("ModelT", bound=BaseModel)

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.turso.tech"
RETRY_STATUSES = frozenset({408, 429})
"""Statuses retried besides every 5xx; other 4xx are the caller's mistake and never retried."""

TokenAuthorization = Literal["full-access", "read-only"]


class PlatformClient:
    """The calls tursotui makes to the Turso Platform API, for one organization.

    Use as `async with PlatformClient(...) as api:` or call `close()`.

    Args:
        org: The organization slug (`TURSO_ORG`).
        token: The platform API token (`TURSO_PLATFORM_API_TOKEN`).
        base_url: The API's base URL (`TURSOTUI_PLATFORM_URL`).
        timeout: Seconds one HTTP request may take.
        attempts: How many times a retryable failure is tried in all (>= 1).
        backoff: First wait between attempts, in seconds; it doubles each time, with jitter.
        max_wait: The longest single wait, also the cap on what `Retry-After` may ask.
        sleep: How to wait (tests pass a recorder); defaults to `asyncio.sleep`.
    """

    def __init__(
        self,
        org: str,
        token: Secret | str,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        if not org:
            raise PlatformError(None, "no organization is set (TURSO_ORG)")
        self.org = org
        self._token = token if isinstance(token, Secret) else Secret(token)
        if not self._token.get_secret_value():
            raise PlatformError(None, "no platform API token is set (TURSO_PLATFORM_API_TOKEN)")
        self.base_url = base_url.rstrip("/")
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep or asyncio.sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": "tursotui", "Accept": "application/json"},
        )

    @classmethod
    def from_settings(cls, settings: Any) -> PlatformClient:
        """A client for the org, token, URL and timeout in `settings` (a `Settings`)."""
        return cls(
            settings.turso_org or "",
            settings.platform_api_token or Secret(""),
            base_url=settings.platform_url,
            timeout=settings.timeout,
        )

    def __repr__(self) -> str:
        return f"<PlatformClient org={self.org} {self.base_url}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    # -- the one place requests are made ---------------------------------------------------

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        """How long to wait before attempt `attempt + 1`: Retry-After, else backoff with jitter."""
        if response is not None:
            asked = retry_after(response.headers.get("Retry-After"))
            if asked is not None:
                return min(asked, self.max_wait)
        base = min(self.backoff * (2**attempt), self.max_wait)
        # Full jitter keeps many clients (a fleet operation) from retrying in lockstep.
        return random.uniform(base / 2, base)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        what: str,
    ) -> Any:
        """Send one API call, retrying 408/429/5xx and lost connections; return the JSON body.

        Raises:
            PlatformError: the call failed for good (the API's `error` text and status).
        """
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        last: PlatformError | None = None
        for attempt in range(self.attempts):
            response: httpx.Response | None = None
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, headers=headers
                )
            except httpx.TimeoutException:
                last = PlatformError(None, f"{what}: timed out")
                # A POST that timed out may have been done; the caller finds out (409) on retry.
            except httpx.TransportError as error:
                cause = _cause(error)
                last = PlatformError(None, f"{what}: cannot reach {self.base_url} ({cause})")
            else:
                if response.status_code < 400:
                    return _body(response)
                last = PlatformError(response.status_code, f"{what}: {_error_text(response)}")
                retryable = response.status_code in RETRY_STATUSES or response.status_code >= 500
                if not retryable:
                    raise last
            if attempt + 1 < self.attempts:
                wait = self._wait(attempt, response)
                log.info("%s failed (%s); retrying in %.2fs", what, last, wait)
                await self._sleep(wait)
        assert last is not None
        raise last

    def _db_path(self, name: str, suffix: str = "") -> str:
        return f"{self._org_path}/databases/{quote(name, safe='')}{suffix}"

    @property
    def _org_path(self) -> str:
        return f"/v1/organizations/{quote(self.org, safe='')}"

    # -- the calls ---------------------------------------------------------------------------

    async def list_databases(self, group: str | None = None) -> list[Database]:
        """Every database of the organization (of one group when `group` is given)."""
        params = {"group": group} if group else None
        body = await self._request(
            "GET", f"{self._org_path}/databases", params=params, what="listing databases"
        )
        return [_model(Database, item) for item in _field(body, "databases", list) or []]

    async def create_database(
        self,
        name: str,
        group: str,
        *,
        size_limit: str | None = None,
        seed: dict[str, str] | None = None,
    ) -> Database:
        """Create database `name` in `group`; the answer has its name, id and hostname.

        `seed` makes it a copy of another database (`{"type": "database", "name": ...,
        "timestamp": ...}`: as that database was at the time, a point-in-time branch).

        Raises:
            PlatformError: 409 when it exists already, 400 for a bad name or unknown group.
        """
        payload: dict[str, Any] = {"name": name, "group": group}
        if size_limit:
            payload["size_limit"] = size_limit
        if seed:
            payload["seed"] = seed
        body = await self._request(
            "POST", f"{self._org_path}/databases", json=payload, what=f"creating database {name}"
        )
        return _model(Database, _field(body, "database", dict) or {})

    async def get_database(self, name: str) -> Database:
        """The database called `name` (PlatformError with status 404 if there is none)."""
        body = await self._request("GET", self._db_path(name), what=f"reading database {name}")
        return _model(Database, _field(body, "database", dict) or {})

    async def delete_database(self, name: str) -> str:
        """Delete the database called `name`; returns the name the API reports deleted."""
        body = await self._request("DELETE", self._db_path(name), what=f"deleting database {name}")
        deleted = _field(body, "database", str)
        return deleted or name

    async def create_token(
        self,
        name: str,
        *,
        expiration: str = "never",
        authorization: TokenAuthorization = "full-access",
    ) -> Secret:
        """Mint a token for database `name` (`expiration` like `never` or `2w1d`)."""
        return await self._mint(
            self._db_path(name, "/auth/tokens"), f"database {name}", expiration, authorization
        )

    async def _mint(
        self, path: str, of: str, expiration: str, authorization: TokenAuthorization
    ) -> Secret:
        """The token the API mints at `path` (a database's or a group's), kept secret."""
        what = f"minting a token for {of}"
        body = await self._request(
            "POST",
            path,
            params={"expiration": expiration, "authorization": authorization},
            what=what,
        )
        jwt = _field(body, "jwt", str)
        if not jwt:
            raise PlatformError(200, f"{what}: the answer has no jwt")
        return Secret(jwt)

    async def rotate_tokens(self, name: str) -> None:
        """Invalidate every token of database `name` (mint a new one afterwards)."""
        await self._request(
            "POST", self._db_path(name, "/auth/rotate"), what=f"rotating tokens of database {name}"
        )

    # -- configuration, groups' tokens, undelete, usage (the tenant lifecycle) ----------

    async def get_database_configuration(self, name: str) -> dict[str, Any]:
        """Database `name`'s configuration (`delete_protection`, `block_reads`, ...)."""
        body = await self._request(
            "GET", self._db_path(name, "/configuration"), what=f"reading database {name}'s settings"
        )
        return body if isinstance(body, dict) else {}

    async def update_database_configuration(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change database `name`'s configuration (e.g. `delete_protection=True`); the answer
        is the configuration after the change."""
        body = await self._request(
            "PATCH",
            self._db_path(name, "/configuration"),
            json=changes,
            what=f"changing database {name}'s settings",
        )
        return body if isinstance(body, dict) else {}

    def _group_path(self, group: str, suffix: str = "") -> str:
        return f"{self._org_path}/groups/{quote(group, safe='')}{suffix}"

    async def get_group_configuration(self, group: str) -> dict[str, Any]:
        """Group `group`'s configuration (`delete_protection`)."""
        body = await self._request(
            "GET",
            self._group_path(group, "/configuration"),
            what=f"reading group {group}'s settings",
        )
        return body if isinstance(body, dict) else {}

    async def update_group_configuration(self, group: str, **changes: Any) -> dict[str, Any]:
        """Change group `group`'s configuration; the answer is the configuration after it."""
        body = await self._request(
            "PATCH",
            self._group_path(group, "/configuration"),
            json=changes,
            what=f"changing group {group}'s settings",
        )
        return body if isinstance(body, dict) else {}

    async def create_group_token(
        self,
        group: str,
        *,
        expiration: str = "never",
        authorization: TokenAuthorization = "full-access",
    ) -> Secret:
        """Mint a token that opens every database of `group`."""
        return await self._mint(
            self._group_path(group, "/auth/tokens"), f"group {group}", expiration, authorization
        )

    async def rotate_group_tokens(self, group: str) -> None:
        """Invalidate every token of group `group` (every database's too)."""
        await self._request(
            "POST",
            self._group_path(group, "/auth/rotate"),
            what=f"rotating tokens of group {group}",
        )

    async def organization_id(self) -> str:
        """The organization's UUID, which the v3 calls (undelete) name it by."""
        body = await self._request("GET", self._org_path, what="reading the organization")
        org = _field(body, "organization", dict) or {}
        found = org.get("id") if isinstance(org.get("id"), str) else None
        if not found:
            raise PlatformError(200, "reading the organization: the answer has no id")
        return str(found)

    async def list_deleted_databases(self, org_id: str | None = None) -> list[Database]:
        """Databases deleted lately that can still be restored (paid plans; v3 API)."""
        org_id = org_id or await self.organization_id()
        body = await self._request(
            "GET",
            f"/v3/organizations/{quote(org_id, safe='')}/databases",
            params={"deleted": "true"},
            what="listing deleted databases",
        )
        return [_model(Database, item) for item in _field(body, "databases", list) or []]

    async def restore_database(
        self, database_id: str, *, name: str | None = None, org_id: str | None = None
    ) -> Database:
        """Bring back a deleted database by its UUID (under `name` if given; v3 API)."""
        org_id = org_id or await self.organization_id()
        path = f"/v3/organizations/{quote(org_id, safe='')}/databases/{quote(database_id, safe='')}"
        body = await self._request(
            "POST",
            path + "/restore",
            json={"name": name} if name else None,
            what=f"restoring database {name or database_id}",
        )
        return _model(Database, _field(body, "database", dict) or {})

    async def database_usage(self, name: str) -> dict[str, Any]:
        """Database `name`'s usage this month: `total` rows read/written, storage bytes."""
        body = await self._request(
            "GET", self._db_path(name, "/usage"), what=f"reading database {name}'s usage"
        )
        return _field(body, "database", dict) or {}

    async def database_stats(self, name: str) -> list[dict[str, Any]]:
        """Database `name`'s top queries (query text, rows read and written)."""
        body = await self._request(
            "GET", self._db_path(name, "/stats"), what=f"reading database {name}'s top queries"
        )
        return [q for q in _field(body, "top_queries", list) or [] if isinstance(q, dict)]

    async def list_groups(self) -> list[Group]:
        """Every group of the organization."""
        body = await self._request("GET", f"{self._org_path}/groups", what="listing groups")
        return [_model(Group, item) for item in _field(body, "groups", list) or []]

    async def validate_token(self) -> int:
        """Check the platform token; returns its expiry (epoch seconds, -1 for never)."""
        body = await self._request("GET", "/v1/auth/validate", what="validating the API token")
        exp = _field(body, "exp", int)
        return -1 if exp is None else exp


def _cause(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.ConnectError):
        return "connection refused or DNS failure"
    return type(error).__name__


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise PlatformError(response.status_code, "the answer is not JSON") from None


def _error_text(response: httpx.Response) -> str:
    """The API's own `error` message, or a short description of a non-JSON answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    for key in ("error", "message"):
        said = body.get(key) if isinstance(body, dict) else None
        if isinstance(said, str) and said:
            return said
    return response.reason_phrase or f"HTTP {response.status_code}"


def _field(body: Any, name: str, kind: type) -> Any:
    if not isinstance(body, dict):
        return None
    value = body.get(name)
    if isinstance(value, bool) and kind is not bool:
        return None  # bool is an int subclass; `{"exp": true}` is not an expiry
    return value if isinstance(value, kind) else None


def _model(model: type[ModelT], data: Any) -> ModelT:
    if not isinstance(data, dict):
        return model()
    try:
        return model.model_validate(data)
    except ValidationError:
        # Tolerate a field of an unexpected type: keep the ones that fit.
        good = {}
        for key, value in data.items():
            try:
                model.model_validate({key: value})
            except ValidationError:
                continue
            good[key] = value
        return model.model_validate(good)
