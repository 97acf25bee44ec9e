"""Where each tenant's database token comes from, and getting it when the tenant is opened.

Apps keep tenant tokens in different ways: in the registry as they are, encrypted in
the registry (a command decrypts them), not at all (one group token opens every
tenant, or the Platform API mints one per database). `choose` decides a tenant's
source without running anything, so screens can show it; `TokenResolver` gets the
token when the tenant is first connected and keeps it in memory for the session only.

Nothing here writes, logs or shows a token or what the token command printed:
failures say which source failed and why (an exit status, a timeout, an HTTP status).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, NamedTuple
from urllib.parse import urlsplit

from tursotui.db import Connection, LibsqlError, connect
from tursotui.db import errors as db_errors
from tursotui.db.base import RemoteConnection
from tursotui.db.urls import InvalidURL
from tursotui.platform.errors import PlatformError
from tursotui.secret import Secret
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.settings import Settings

if TYPE_CHECKING:
    from tursotui.platform.api import PlatformClient

Source = Literal["command", "stored", "group", "mint", "none"]

LABELS: dict[str, str] = {
    "command": "command",
    "stored": "stored",
    "group": "group",
    "mint": "minted",
    "none": "none",
}
"""What screens and `tenants --json` call each source."""

TOKEN_UNAVAILABLE = db_errors.TOKEN_UNAVAILABLE
"""Code of the error raised when a tenant's token source fails (the command, minting)."""

COMMAND_CONCURRENCY = 4
"""Token commands running at once: each is a process; a fleet of 500 must not fork 500."""

MINT_CONCURRENCY = 8
"""Mint requests to the Platform API in flight at once."""

RENEW_MARGIN_S = 60.0
"""A minted token is minted again this long before it expires, so no request carries a
token that runs out on its way."""


class Choice(NamedTuple):
    """A tenant's token source and why it was chosen (never the token itself).

    A NamedTuple, not a frozen dataclass: never changed, and a tenth of the cost to create
    (every command opening a tenant loads this module).

    Attributes:
        source: `command`, `stored`, `group`, `mint` or `none`.
        reason: Why, in words, for `tenants --explain`.
        database: For `mint`: the database name tokens are minted for.
        problem: Why the source cannot give a token (a setting is missing...), or None.
    """

    source: Source
    reason: str
    database: str | None = None
    problem: str | None = None

    @property
    def label(self) -> str:
        """The short name screens show: `stored`, `command`, `group`, `minted`, `none`."""
        return LABELS[self.source]


def _stored(tenant: Tenant) -> str:
    return tenant.token.get_secret_value() if tenant.token is not None else ""


def database_name(tenant: Tenant, org: str | None) -> tuple[str | None, str]:
    """The Turso database name of a tenant, and how it was found.

    The registry's own database-name column wins. Otherwise it comes from the URL:
    Turso names a database's host `<db>-<org>.turso.io` (or `<db>-<org>.<region>.turso.io`),
    so the first label of the host, less `-<org>`, is the database name.

    Returns:
        (name, how) or (None, why it cannot be told).
    """
    stored_name = getattr(tenant, "db_name", None)
    if stored_name:
        return str(stored_name), "the registry's database name"
    try:
        target = tenant.location.target
    except InvalidURL:
        return None, "the URL cannot be read"
    host = urlsplit(target).hostname or ""
    first = host.split(".", 1)[0]
    if not org:
        return None, f"the host {host} alone does not tell the database name without TURSO_ORG"
    suffix = f"-{org.lower()}"
    if first.lower().endswith(suffix) and len(first) > len(suffix):
        return first[: -len(suffix)], f"the host {host} is <db>-{org}.…"
    return None, f"the host {host} is not <db>-{org}.… (a Turso database of {org})"


def choose(tenant: Tenant, settings: Settings) -> Choice:
    """Where `tenant`'s token comes from under `settings`; runs nothing, asks nothing.

    Unless `token_source` pins one, the first that applies: the token command (for a
    stored value), the stored token, the group token, a token minted through the
    Platform API. A local file needs no token.
    """
    if not tenant.broken and not tenant.is_remote:
        return Choice("none", "a local file needs no token")
    stored = bool(_stored(tenant))
    pinned = settings.token_source
    if pinned is not None:
        return _pinned(pinned, tenant, settings, stored)
    if settings.token_command and stored:
        return Choice("command", "the stored value passed through TURSOTUI_TOKEN_COMMAND")
    if stored:
        return Choice("stored", "the registry row holds a token")
    if settings.group_auth_token is not None and settings.group_auth_token.get_secret_value():
        return Choice("group", "the row holds no token; the group token is set")
    if settings.uses_platform_api:
        return _mint(tenant, settings, "the row holds no token; minted through the Platform API")
    return Choice("none", "the row holds no token and no other source is set")


def _pinned(pinned: str, tenant: Tenant, settings: Settings, stored: bool) -> Choice:
    why = f"TURSOTUI_TOKEN_SOURCE={pinned}"
    if pinned == "command":
        if not settings.token_command:
            return Choice("command", why, problem="TURSOTUI_TOKEN_COMMAND is not set")
        if not stored:
            return Choice("command", why, problem="the row holds no token for the command")
        return Choice("command", why)
    if pinned == "stored":
        if not stored:
            return Choice("stored", why, problem="the row holds no token")
        return Choice("stored", why)
    if pinned == "group":
        if settings.group_auth_token is None or not settings.group_auth_token.get_secret_value():
            return Choice("group", why, problem="no group token is set (TURSO_GROUP_AUTH_TOKEN)")
        return Choice("group", why)
    return _mint(tenant, settings, why)


def _mint(tenant: Tenant, settings: Settings, why: str) -> Choice:
    if not settings.uses_platform_api:
        return Choice(
            "mint", why, problem="no Platform API credentials (TURSO_ORG, TURSO_PLATFORM_API_TOKEN)"
        )
    name, how = database_name(tenant, settings.turso_org)
    if name is None:
        return Choice("mint", why, problem=f"cannot tell the database name: {how}")
    return Choice("mint", f"{why}; database {name} ({how})", database=name)


def explain_source(tenant: Tenant, settings: Settings) -> str:
    """One line: which token source `tenant` uses and why (or why it cannot), never the token."""
    choice = choose(tenant, settings)
    text = f"{choice.label}: {choice.reason}"
    if choice.problem:
        text += f" — but {choice.problem}"
    return text


def expiration(seconds: int) -> str:
    """`seconds` in the Platform API's expiration format (`2w1d30m`), rounded up to minutes."""
    minutes = max(1, -(-seconds // 60))
    parts = []
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


class _Minted(NamedTuple):
    token: Secret
    expires: float
    """`time.monotonic()` after which it is minted again."""


class TokenResolver:
    """Gets each tenant's token from its source, once per session, and opens tenants with it.

    Args:
        settings: The session's settings (sources, read-only, timeouts).
        platform: A Platform API client factory (tests pass their own); default from settings.
        on_secret: Told every token obtained, so a process can keep it out of its messages.
        clock: `time.monotonic` (tests pass their own to expire minted tokens).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        platform: Callable[[], PlatformClient] | None = None,
        on_secret: Callable[[Secret], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.on_secret = on_secret
        self._platform_factory = platform
        self._platform: PlatformClient | None = None
        self._clock = clock
        self._commands: dict[str, tuple[str, Secret]] = {}
        """slug -> (the stored value, what the command made of it); a new stored value runs
        the command again."""
        self._minted: dict[tuple[str, str], _Minted] = {}
        """(database, authorization) -> the token minted for it."""
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}
        self._command_gate = asyncio.Semaphore(COMMAND_CONCURRENCY)
        self._mint_gate = asyncio.Semaphore(MINT_CONCURRENCY)
        self.command_runs = 0
        """How many times the token command ran (for tests and figures)."""
        self.mints = 0
        """How many tokens were minted."""

    def choose(self, tenant: Tenant) -> Choice:
        """`tenant`'s token source (see `choose`)."""
        return choose(tenant, self.settings)

    def explain(self, tenant: Tenant) -> str:
        """`explain_source` under this session's settings."""
        return explain_source(tenant, self.settings)

    # -- getting the token -----------------------------------------------------------

    async def token(self, tenant: Tenant) -> Secret | None:
        """The token to send for `tenant` (None when it needs none).

        Raises:
            LibsqlError: code TOKEN_UNAVAILABLE, naming the tenant and why its source failed.
        """
        choice = self.choose(tenant)
        if choice.problem:
            raise self._failure(tenant, f"no token ({choice.label}): {choice.problem}")
        if choice.source == "none":
            return tenant.token
        if choice.source == "stored":
            return tenant.token
        if choice.source == "group":
            return self.settings.group_auth_token
        if choice.source == "command":
            return await self._from_command(tenant)
        assert choice.database is not None
        return await self._mint(tenant, choice.database)

    def _failure(self, tenant: Tenant, message: str) -> LibsqlError:
        return db_errors.database_error(tenant.slug, message, TOKEN_UNAVAILABLE)

    def _lock(self, *key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def _remember(self, token: Secret) -> Secret:
        if self.on_secret is not None:
            self.on_secret(token)
        return token

    async def _from_command(self, tenant: Tenant) -> Secret:
        stored = _stored(tenant)
        async with self._lock("command", tenant.slug):
            cached = self._commands.get(tenant.slug)
            if cached is not None and cached[0] == stored:
                return cached[1]
            async with self._command_gate:
                token = await self._run_command(tenant)
            self._commands[tenant.slug] = (stored, token)
            return token

    async def _run_command(self, tenant: Tenant) -> Secret:
        command = self.settings.token_command
        assert command
        limit = self.settings.token_command_timeout
        self.command_runs += 1
        what = "the token command (TURSOTUI_TOKEN_COMMAND)"
        try:
            process = await asyncio.create_subprocess_shell(
                command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                # Its stderr may echo what it was given (the ciphertext) or the key: dropped.
                stderr=asyncio.subprocess.DEVNULL,
                env={**os.environ, "TURSOTUI_TENANT_SLUG": tenant.slug},
                start_new_session=True,  # its own process group: a timeout kills its children too
            )
        except OSError as error:
            raise self._failure(tenant, f"{what} could not start ({error.strerror})") from None
        try:
            async with asyncio.timeout(limit):
                out, _ = await process.communicate((_stored(tenant) + "\n").encode())
        except TimeoutError:
            await _kill(process)
            raise self._failure(
                tenant, f"{what} did not finish within {limit:g} s and was stopped"
            ) from None
        except BaseException:
            await _kill(process)
            raise
        status = process.returncode
        if status is not None and status < 0:
            raise self._failure(tenant, f"{what} was killed by signal {-status}")
        if status:
            raise self._failure(tenant, f"{what} failed with exit status {status}")
        try:
            text = out.decode("utf-8")
        except UnicodeDecodeError:
            raise self._failure(tenant, f"{what} printed something that is not text") from None
        if text.endswith("\n"):
            text = text[:-1]
        text = text.removesuffix("\r")
        if "\n" in text or "\r" in text:
            raise self._failure(tenant, f"{what} printed more than one line (expected the token)")
        if not text.strip():
            raise self._failure(tenant, f"{what} printed no token")
        return self._remember(Secret(text.strip()))

    def _client(self) -> PlatformClient:
        if self._platform is None:
            if self._platform_factory is not None:
                self._platform = self._platform_factory()
            else:
                from tursotui.platform.api import PlatformClient

                self._platform = PlatformClient.from_settings(self.settings)
        return self._platform

    @property
    def _authorization(self) -> Literal["read-only", "full-access"]:
        # A read-only session gets read-only tokens: the server refuses writes too.
        return "read-only" if self.settings.read_only else "full-access"

    async def _mint(self, tenant: Tenant, database: str, *, rejected: str | None = None) -> Secret:
        key = (database, self._authorization)
        async with self._lock("mint", *key):
            cached = self._minted.get(key)
            fresh = cached is not None and self._clock() < cached.expires
            if cached is not None and fresh and cached.token.get_secret_value() != rejected:
                return cached.token
            ttl = self.settings.minted_token_ttl
            try:
                async with self._mint_gate:
                    token = await self._client().create_token(
                        database, expiration=expiration(ttl), authorization=self._authorization
                    )
            except PlatformError as error:
                self._minted.pop(key, None)
                raise self._failure(tenant, f"cannot mint a token: {error}") from None
            self.mints += 1
            self._remember(token)
            margin = min(RENEW_MARGIN_S, ttl / 4)
            self._minted[key] = _Minted(token, self._clock() + ttl - margin)
            return token

    # -- opening tenants -------------------------------------------------------------

    async def connect(
        self, tenant: Tenant, *, read_only: bool = False, timeout: float = 10.0
    ) -> Connection:
        """Open `tenant` with its token from its source.

        A minted token the database rejects (expired, keys rotated) is minted again
        once, on opening and on any later request over HTTP.

        Raises:
            RegistryError: the row is broken.
            LibsqlError: the token's source failed (TOKEN_UNAVAILABLE) or the database did.
        """
        if tenant.problem:
            raise RegistryError(f"tenant {tenant.slug}: {tenant.problem}")
        choice = self.choose(tenant)
        token = await self.token(tenant)

        async def open_with(token: Secret | None) -> Connection:
            return await connect(
                tenant.url, token, name=tenant.slug, read_only=read_only, timeout=timeout
            )

        if choice.source != "mint" or choice.database is None:
            return await open_with(token)
        database = choice.database
        try:
            connection = await open_with(token)
        except LibsqlError as error:
            if error.code != db_errors.UNAUTHORIZED or token is None:
                raise
            token = await self._mint(tenant, database, rejected=token.get_secret_value())
            connection = await open_with(token)
        if isinstance(connection, RemoteConnection):

            async def renew(rejected: str) -> str:
                renewed = await self._mint(tenant, database, rejected=rejected)
                return renewed.get_secret_value()

            connection.renew_token = renew
        return connection

    def forget(self, slug: str) -> None:
        """Drop what was obtained for tenant `slug` (after its token was rotated)."""
        self._commands.pop(slug, None)

    def forget_database(self, database: str) -> None:
        """Drop the tokens minted for `database` (its tokens were rotated)."""
        self._minted = {k: v for k, v in self._minted.items() if k[0] != database}

    async def close(self) -> None:
        """Forget every token and close the Platform API client."""
        self._commands.clear()
        self._minted.clear()
        if self._platform is not None:
            await self._platform.close()
            self._platform = None


async def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill a token command and everything it started, and reap it."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        await process.wait()
