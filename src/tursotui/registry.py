"""The tenant registry: the `organizations` table of the app's metadata database (SPEC §2.1)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote

from pydantic import SecretStr

from tursotui.db import Connection, LibsqlError, connect
from tursotui.db.errors import describe
from tursotui.db.urls import DatabaseURL, InvalidURL, parse_url
from tursotui.settings import Settings


class RegistryError(Exception):
    """The registry cannot be read or changed; the message says which registry and why."""


REGISTRY_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS `{table}` (\n"
    "\t`id` text PRIMARY KEY NOT NULL,\n"
    "\t`name` text NOT NULL,\n"
    "\t`slug` text NOT NULL,\n"
    "\t`db_url` text NOT NULL,\n"
    "\t`db_token` text NOT NULL,\n"
    "\t`created_at` integer\n"
    ")",
    "CREATE UNIQUE INDEX IF NOT EXISTS `{table}_slug_unique` ON `{table}` (`slug`)",
)
"""The same shape drizzle-kit makes (fixtures/drizzle-registry), for a registry tursotui owns."""

REQUIRED_COLUMNS = ("slug", "db_url")


@dataclass(frozen=True)
class Tenant:
    """One registry row.

    Attributes:
        slug: The tenant's unique short name.
        name: Its display name.
        url: The database URL as stored (holds no token).
        token: The database token; `SecretStr`, so it never prints.
        id: The row's id, when the registry has that column.
        created_at: Seconds since the epoch, when known.
        problem: Why the row cannot be used (broken), or None for a healthy tenant.
        db_name: The Turso database name, when the registry stores it.
    """

    slug: str
    name: str
    url: str
    token: SecretStr | None = field(default=None, repr=False)
    id: str | None = None
    created_at: int | None = None
    problem: str | None = None
    db_name: str | None = None

    @property
    def broken(self) -> bool:
        """True when the row cannot be used; `problem` says why."""
        return self.problem is not None

    @property
    def location(self) -> DatabaseURL:
        """The parsed URL (only for healthy tenants)."""
        return parse_url(self.url)

    @property
    def host(self) -> str:
        """Where the tenant lives, for display: host or file path, never the token."""
        try:
            return self.location.host
        except InvalidURL:
            return self.url

    @property
    def is_remote(self) -> bool:
        """True for tenants served over the network."""
        try:
            return self.location.is_remote
        except InvalidURL:
            return False

    @property
    def masked_token(self) -> str:
        """The token as it may be shown: whether there is one, never its value."""
        return "••••••" if self.token and self.token.get_secret_value() else "(none)"

    async def connect(self, *, read_only: bool = False, timeout: float = 10.0) -> Connection:
        """Open a connection to this tenant's database, named after the tenant in messages.

        It sends the stored token as it is; tursotui itself opens tenants through
        `Workspace.open_tenant`, which gets the token from its source (`tursotui.tokens`).
        """
        if self.problem:
            raise RegistryError(f"tenant {self.slug}: {self.problem}")
        return await connect(
            self.url, self.token, name=self.slug, read_only=read_only, timeout=timeout
        )


_TOKEN_PARAMS = {"authtoken", "auth_token", "token", "jwt"}


def split_token(url: str) -> tuple[str, str | None]:
    """`(url without its token, the token)` for URLs like `libsql://db?authToken=...`.

    libsql clients accept the token in the URL's query; tursotui keeps tokens out of
    URLs (they are shown everywhere), so such a token is moved to the tenant's token.
    """
    base, mark, query = url.partition("?")
    if not mark:
        return url, None
    token = None
    kept = []
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key.lower() in _TOKEN_PARAMS:
            token = unquote(value) or token
        elif part:
            kept.append(part)
    return (f"{base}?{'&'.join(kept)}" if kept else base), token


def _check(slug: str, url: str, seen: set[str]) -> str | None:
    if not slug:
        return "the row has no slug"
    if slug in seen:
        return f"duplicate slug {slug!r} (an earlier row has it)"
    if not url:
        return "the row has no database URL"
    try:
        parse_url(url)
    except InvalidURL as error:
        return str(error)
    return None


class Registry:
    """Reads and changes the tenant registry table, tolerating what drizzle and hands left in it."""

    def __init__(self, connection: Connection, table: str = "organizations") -> None:
        self.connection = connection
        self.table = table
        self._columns: set[str] | None = None
        self.label = f"registry {connection.url.host}"
        """What messages call this registry: its host or file, never its token."""

    @classmethod
    async def open(cls, settings: Settings) -> Registry:
        """Connect to the registry in `settings`; create its table when tursotui owns it.

        Raises:
            RegistryError: the registry cannot be reached or has no usable table.
        """
        url = settings.registry_location
        try:
            connection = await connect(
                url,
                settings.registry_auth_token,
                name="registry",
                read_only=settings.read_only,
                timeout=settings.timeout,
                create=settings.owns_registry,
            )
        except LibsqlError as error:
            cause = describe(error).removeprefix("registry: ")
            raise RegistryError(f"registry {parse_url(url).host}: {cause}") from None
        registry = cls(connection, settings.registry_table)
        try:
            # Only a missing table is created: on an existing one the unique index would
            # fail over duplicate slugs (a hand-edited registry) and make every tenant unusable.
            if settings.owns_registry and not settings.read_only and not await registry._exists():
                await registry.create_table()
            await registry.columns()
        except BaseException:
            await connection.close()
            raise
        return registry

    async def _exists(self) -> bool:
        try:
            result = await self.connection.execute(
                "SELECT count(*) FROM pragma_table_info(?)", [self.table]
            )
        except LibsqlError as error:
            raise RegistryError(self._explain(error)) from None
        return bool(result.rows[0][0])

    async def create_table(self) -> None:
        """Create the registry table (same shape as drizzle makes) if it does not exist."""
        await self._run_batch([s.format(table=self.table) for s in REGISTRY_SCHEMA])
        self._columns = None

    async def _run_batch(self, statements: list) -> None:
        try:
            await self.connection.batch(statements)
        except LibsqlError as error:
            raise RegistryError(self._explain(error)) from None

    async def columns(self) -> set[str]:
        """The registry table's columns (RegistryError if it lacks the ones tursotui needs)."""
        if self._columns is None:
            try:
                result = await self.connection.execute(
                    "SELECT name FROM pragma_table_info(?)", [self.table]
                )
            except LibsqlError as error:
                raise RegistryError(self._explain(error)) from None
            columns = {str(row[0]) for row in result.rows}
            if not columns:
                raise RegistryError(
                    f"{self.label}: there is no table {self.table!r} "
                    "(is TURSOTUI_REGISTRY_TABLE right?)"
                )
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise RegistryError(
                    f"{self.label}: table {self.table!r} has no column {', '.join(missing)}"
                )
            self._columns = columns
        return self._columns

    async def tenants(self) -> list[Tenant]:
        """Every registry row, healthy ones and broken ones (with their problem), by slug."""
        columns = await self.columns()
        wanted = ["slug", "db_url", "name", "db_token", "id", "created_at"]
        select = ", ".join(f"`{c}`" if c in columns else "NULL" for c in wanted)
        order = "rowid" if "id" not in columns else "created_at, rowid"
        try:
            result = await self.connection.execute(
                f"SELECT {select} FROM `{self.table}` ORDER BY {order}"
            )
        except LibsqlError as error:
            raise RegistryError(self._explain(error)) from None
        tenants: list[Tenant] = []
        seen: set[str] = set()
        for slug, url, name, token, id_, created_at in result.rows:
            slug_text = "" if slug is None else str(slug).strip()
            url_text, url_token = split_token("" if url is None else str(url).strip())
            token = token or url_token
            problem = _check(slug_text, url_text, seen)
            seen.add(slug_text)
            tenants.append(
                Tenant(
                    slug=slug_text,
                    name=str(name) if name is not None else slug_text,
                    url=url_text,
                    token=SecretStr(str(token)) if token else None,
                    id=None if id_ is None else str(id_),
                    created_at=created_at if isinstance(created_at, int) else None,
                    problem=problem,
                )
            )
        tenants.sort(key=lambda t: (t.slug.lower(), t.broken))
        return tenants

    async def get(self, slug: str) -> Tenant:
        """The healthy tenant with this slug, or the broken row's problem as a RegistryError."""
        for tenant in await self.tenants():
            if tenant.slug == slug and not tenant.broken:
                return tenant
        for tenant in await self.tenants():
            if tenant.slug == slug:
                raise RegistryError(f"tenant {slug}: {tenant.problem}")
        raise RegistryError(f"no tenant {slug!r} in the registry")

    async def add(
        self, slug: str, url: str, token: str | SecretStr | None = None, name: str | None = None
    ) -> Tenant:
        """Insert a registry row (with a UUID id and a timestamp in seconds, like the app does).

        A token in the URL's query (`?authToken=`) is moved to the row's token.
        """
        url, url_token = split_token(url.strip())
        token = token or url_token
        try:
            parse_url(url)
        except InvalidURL as error:
            raise RegistryError(f"tenant {slug}: {error}") from None
        if any(t.slug == slug for t in await self.tenants()):
            raise RegistryError(f"tenant {slug} is already in the registry")
        secret = token.get_secret_value() if isinstance(token, SecretStr) else (token or "")
        columns = await self.columns()
        values: dict[str, object] = {
            "slug": slug,
            "db_url": url,
            "name": name or slug,
            "db_token": secret,
            "id": str(uuid.uuid4()),
            "created_at": int(time.time()),
        }
        values = {k: v for k, v in values.items() if k in columns}
        names = ", ".join(f"`{k}`" for k in values)
        marks = ", ".join("?" for _ in values)
        await self._run_batch(
            [(f"INSERT INTO `{self.table}` ({names}) VALUES ({marks})", list(values.values()))]
        )
        return await self.get(slug)

    async def remove(self, slug: str) -> None:
        """Delete the registry row; the tenant's database is left alone."""
        result = await self._execute(
            f"DELETE FROM `{self.table}` WHERE slug = ? RETURNING slug", [slug]
        )
        if not result.rows:
            raise RegistryError(f"no tenant {slug!r} in the registry")

    async def set_token(self, slug: str, token: str | SecretStr) -> None:
        """Replace a tenant's token (after a rotation)."""
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        result = await self._execute(
            f"UPDATE `{self.table}` SET db_token = ? WHERE slug = ? RETURNING slug", [secret, slug]
        )
        if not result.rows:
            raise RegistryError(f"no tenant {slug!r} in the registry")

    async def _execute(self, sql: str, args: list) -> object:
        try:
            return await self.connection.execute(sql, args)
        except LibsqlError as error:
            raise RegistryError(self._explain(error)) from None

    def _explain(self, error: LibsqlError) -> str:
        """`registry <host>: <cause>`, without the connection's own name prefix."""
        cause = describe(error).removeprefix(f"{self.connection.name}: ")
        return f"{self.label}: {cause}"

    async def close(self) -> None:
        """Close the registry's connection."""
        await self.connection.close()
