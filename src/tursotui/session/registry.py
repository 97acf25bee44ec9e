"""The tenant registry: the table of the app's metadata database that lists its tenants.

Apps name that table's columns their own way (snake_case by hand, camelCase by
Drizzle's defaults, only a database name in the most common starters), so the
columns are read first and each role (slug, name, url, db_name, token, id,
created_at) is found by the names apps use, or by an explicit mapping
(`registry_columns`). Reading changes nothing; writes (`add`, `remove`,
`set_token`) fill the columns the registry actually has.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import unquote

from tursotui import heap
from tursotui.db import Connection, LibsqlError, connect
from tursotui.db.errors import describe
from tursotui.db.urls import PLAIN_REMOTE, DatabaseURL, InvalidURL, parse_url, url_problem
from tursotui.errors import TursotuiError
from tursotui.secret import Secret
from tursotui.session.settings import REGISTRY_ROLES, Settings


class RegistryError(TursotuiError):
    """The registry cannot be read or changed; the message says which registry and why."""

    title = "Registry"


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

ROLE_NAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "slug": (("slug",), ("tenantslug", "orgslug", "organizationslug", "subdomain")),
    "name": (("name",), ("displayname", "title", "tenantname", "orgname", "organizationname")),
    "url": (("dburl", "databaseurl", "libsqlurl", "tursourl"), ("url",)),
    "db_name": (("dbname", "databasename", "tursodbname"),),
    "token": (
        ("dbtoken", "databasetoken", "authtoken", "dbauthtoken", "databaseauthtoken"),
        ("token",),
    ),
    "id": (("id",),),
    "created_at": (("createdat",), ("created",)),
}
"""The column names each role is recognised by, compared in lower case without `_`
(`db_url`, `dbUrl` and `DB_URL` are one name); an earlier group wins over a later one
(`db_url` is the database's URL even when the table also has a generic `url`)."""


_NO_FILE = ("file:", "file://")
"""The `file:` URLs without a query that name no file (see `url_problem`)."""

_MS_FROM = 100_000_000_000
"""A created-at number above this is in milliseconds (in seconds it would be past 5000 AD)."""

RELIST_AFTER_S = 60.0
"""How long the Platform API's list of databases stands for names it does not have."""


def _plain(name: str) -> str:
    return name.lower().replace("_", "")


def quote_name(name: str) -> str:
    """An SQL identifier for any column or table name."""
    return '"' + name.replace('"', '""') + '"'


class Column(NamedTuple):
    """One column of the registry table, as `PRAGMA table_info` describes it."""

    name: str
    type: str
    not_null: bool
    default: str | None
    primary_key: bool

    @property
    def integer(self) -> bool:
        """SQLite's integer affinity (the declared type holds INT)."""
        return "INT" in self.type.upper()

    @property
    def rowid_alias(self) -> bool:
        """An `INTEGER PRIMARY KEY`: SQLite numbers new rows itself."""
        return self.primary_key and self.type.upper() == "INTEGER"


class Shape(NamedTuple):
    """How the registry table was understood: its columns and the column of each role.

    Attributes:
        table: The table's name.
        columns: Its columns in table order.
        roles: Role -> column name, for the roles the table has.
        found: Role -> how its column was found (`by name`, `explicit mapping`), or why
            there is none (`not found`, `mapped to none`).
    """

    table: str
    columns: tuple[Column, ...]
    roles: dict[str, str]
    found: dict[str, str]

    def column(self, role: str) -> Column | None:
        """The column holding `role`, if the table has one."""
        name = self.roles.get(role)
        return next((c for c in self.columns if c.name == name), None) if name else None

    def summary(self) -> str:
        """`organizations · url=dbUrl token=dbToken`: the table and its telling roles."""
        parts = [
            f"{role}={self.roles[role]}"
            for role in ("url", "db_name", "token")
            if role in self.roles
        ]
        if "token" not in self.roles:
            parts.append("no token column")
        return f"{self.table} · {' '.join(parts)}"


def understand(table: str, columns: list[Column], mapping: dict[str, str]) -> Shape:
    """Find each role's column: the explicit `mapping` first, then by the names apps use.

    Raises:
        RegistryError: a mapping names a column the table lacks, two columns both look
            like one role, or the table has no slug or no URL/database name column. The
            message starts with the table (the caller adds the registry).
    """
    names = [c.name for c in columns]
    by_lower = {n.lower(): n for n in names}
    roles: dict[str, str] = {}
    found: dict[str, str] = {}
    for role, column in mapping.items():
        if not column:
            found[role] = "mapped to none"
            continue
        actual = column if column in names else by_lower.get(column.lower())
        if actual is None:
            raise RegistryError(
                f"setting registry_columns maps {role} to {column!r}, but table {table!r} "
                f"has no such column (columns: {', '.join(names)})"
            )
        roles[role] = actual
        found[role] = "explicit mapping"
    taken = set(roles.values())
    for role in REGISTRY_ROLES:
        if role in found:
            continue
        for group in ROLE_NAMES[role]:
            matches = [n for n in names if _plain(n) in group and n not in taken]
            if len(matches) > 1:
                raise RegistryError(
                    f"table {table!r}: columns {' and '.join(repr(m) for m in matches)} both "
                    f"look like the {role} column; say which with "
                    f"TURSOTUI_REGISTRY_COLUMNS={role}=<column>"
                )
            if matches:
                roles[role] = matches[0]
                found[role] = "by name"
                taken.add(matches[0])
                break
        else:
            found[role] = "not found"
    if "slug" not in roles:
        raise RegistryError(
            f"table {table!r} has no slug column (columns: {', '.join(names)}); say which "
            "with TURSOTUI_REGISTRY_COLUMNS=slug=<column>"
        )
    if "url" not in roles and "db_name" not in roles:
        raise RegistryError(
            f"table {table!r} has no database URL or database name column (columns: "
            f"{', '.join(names)}); say which with TURSOTUI_REGISTRY_COLUMNS=url=<column> "
            "(or db_name=<column>)"
        )
    return Shape(table, tuple(columns), roles, found)


class Tenant:
    """One registry row: a frozen record, equal to another of the same fields.

    Written out rather than a frozen dataclass: making that class cost 1.5 ms of every start
    (the TUI's first frame and each command read the registry), for what these few lines do.

    Attributes:
        slug: The tenant's unique short name.
        name: Its display name.
        url: The database URL (holds no token): as stored, or found from its database name.
        token: The token as STORED in the registry (`Secret`, so it never prints); it may
            be ciphertext that a token command turns into the real one. Not in the repr.
        id: The row's id, when the registry has that column.
        created_at: Seconds since the epoch, when known.
        problem: Why the row cannot be used (broken), or None for a healthy tenant.
        db_name: The row's database name, when the registry keeps one.
        url_source: Where `url` came from: `column`, `platform` (the Platform API's
            hostname for `db_name`) or `template` (`tenant_url_template`); empty when none.
    """

    __match_args__ = (
        "slug",
        "name",
        "url",
        "token",
        "id",
        "created_at",
        "problem",
        "db_name",
        "url_source",
    )
    """Its fields, in order: what it is made of, compared, hashed and shown by."""

    slug: str
    name: str
    url: str
    token: Secret | None
    id: str | None
    created_at: int | None
    problem: str | None
    db_name: str | None
    url_source: str

    def __init__(
        self,
        slug: str,
        name: str,
        url: str,
        token: Secret | None = None,
        id: str | None = None,
        created_at: int | None = None,
        problem: str | None = None,
        db_name: str | None = None,
        url_source: str = "column",
    ) -> None:
        # The instance's dictionary at once: fields cannot be set one by one (frozen).
        object.__setattr__(
            self,
            "__dict__",
            {
                "slug": slug,
                "name": name,
                "url": url,
                "token": token,
                "id": id,
                "created_at": created_at,
                "problem": problem,
                "db_name": db_name,
                "url_source": url_source,
            },
        )

    @classmethod
    def of_row(
        cls,
        slug: str,
        name: str,
        url: str,
        token: Secret | None,
        id: str | None,
        created_at: int | None,
        problem: str | None,
        db_name: str | None,
        url_source: str,
    ) -> Tenant:
        """`Tenant(...)` of every field, by position: for reading a registry (10,000 rows at
        a time)."""
        return cls(slug, name, url, token, id, created_at, problem, db_name, url_source)

    def _fields(self) -> tuple[object, ...]:
        values = self.__dict__
        return tuple(values[name] for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Tenant)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={self.__dict__[name]!r}" for name in self.__match_args__ if name != "token"
        )
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a Tenant is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a Tenant is frozen")

    @property
    def broken(self) -> bool:
        """True when the row cannot be used; `problem` says why."""
        return self.problem is not None

    @property
    def location(self) -> DatabaseURL:
        """The parsed URL (only for healthy tenants), parsed once: screens and the fleet's
        code ask for it (`host`, `is_remote`) several times per tenant, 10,000 tenants at a
        time. It is kept in the instance's dictionary beside the fields (not compared, not
        shown; `functools.cached_property` takes a lock on every first use).
        """
        parsed = self.__dict__.get("_location")
        if parsed is None:
            parsed = self.__dict__["_location"] = parse_url(self.url)
        return parsed

    @property
    def host(self) -> str:
        """Where the tenant lives, for display: host or file path, never the token."""
        try:
            return self.location.host
        except InvalidURL:
            return self.url or (self.db_name or "")

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
        `Workspace.open_tenant`, which gets the token from its source (`tursotui.session.tokens`).
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


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _seconds(value: Any) -> int | None:
    """A created-at value as seconds since the epoch: seconds, milliseconds or date text."""
    if type(value) is int:  # the usual case first
        return value // 1000 if value > _MS_FROM else value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = int(value)
        return number // 1000 if number > _MS_FROM else number  # milliseconds
    text = str(value).strip()
    if text.isdecimal():  # not `isdigit`: `²` is a digit that int() refuses
        return _seconds(int(text))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # SQLite's CURRENT_TIMESTAMP is UTC
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


class Registry:
    """Reads and changes the tenant registry table, tolerating what drizzle and hands left in it."""

    def __init__(
        self,
        connection: Connection,
        table: str = "organizations",
        settings: Settings | None = None,
    ) -> None:
        self.connection = connection
        self.table = table
        self.settings = settings
        self.mapping: dict[str, str] = dict(settings.registry_columns) if settings else {}
        self.template: str | None = settings.tenant_url_template if settings else None
        self._shape: Shape | None = None
        self._hostnames: dict[str, str] | None = None
        """Database name -> hostname, from the Platform API's last listing."""
        self._listed_at = 0.0
        self._primed: list[Tenant] | None = None
        """What the next `tenants()` answers without reading (see `prime`)."""
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
        registry = cls(connection, settings.registry_table, settings)
        try:
            # Only a missing table is created: on an existing one the unique index would
            # fail over duplicate slugs (a hand-edited registry) and make every tenant unusable.
            if settings.owns_registry and not settings.read_only and not await registry._exists():
                await registry.create_table()
            await registry.shape()
        except BaseException:
            await connection.close()
            raise
        return registry

    async def _exists(self) -> bool:
        result = await self._execute("SELECT count(*) FROM pragma_table_info(?)", [self.table])
        return bool(result.rows[0][0])

    async def create_table(self) -> None:
        """Create the registry table (same shape as drizzle makes) if it does not exist."""
        await self._run_batch([s.format(table=self.table) for s in REGISTRY_SCHEMA])
        self._shape = None

    async def _run_batch(self, statements: list) -> None:
        try:
            await self.connection.batch(statements)
        except LibsqlError as error:
            raise RegistryError(self._explain(error)) from None

    # -- understanding the table ---------------------------------------------------------

    async def shape(self) -> Shape:
        """How the table was understood (RegistryError if it cannot serve as a registry)."""
        if self._shape is None:
            columns = await self._table_columns(self.table)
            if not columns:
                raise RegistryError(await self._no_table())
            try:
                self._shape = understand(self.table, columns, self.mapping)
            except RegistryError as error:
                raise RegistryError(f"{self.label}: {error}") from None
        return self._shape

    @property
    def known_shape(self) -> Shape:
        """The shape read when the registry was opened (`shape()` reads it if need be)."""
        if self._shape is None:
            raise RegistryError(f"{self.label}: the table has not been read yet")
        return self._shape

    async def columns(self) -> set[str]:
        """The names of the registry table's columns."""
        return {c.name for c in (await self.shape()).columns}

    async def keeps_tokens(self) -> bool:
        """Whether the registry has a column for tenant tokens."""
        return "token" in (await self.shape()).roles

    def summary(self) -> str:
        """One line on how the registry was understood (empty before it was read)."""
        if self._shape is None:
            return ""
        line = f"registry {self._shape.summary()}"
        if "db_name" in self._shape.roles:
            line += f" · URLs of names from {self.url_origin() or 'nowhere'}"
        return line

    @property
    def shown_template(self) -> str | None:
        """The URL template as it may be printed: a token in its query is masked."""
        if not self.template:
            return None
        base, token = split_token(self.template)
        return f"{base} (with a token)" if token else base

    def url_origin(self) -> str | None:
        """Where the URL of a row with only a database name comes from, or None."""
        if self.settings is not None and self.settings.uses_platform_api:
            return "the Platform API"
        if self.template:
            return "the URL template"
        return None

    async def _table_columns(self, table: str) -> list[Column]:
        result = await self._execute(
            'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)', [table]
        )
        return [
            Column(str(r[0]), str(r[1] or ""), bool(r[2]), r[3], bool(r[4])) for r in result.rows
        ]

    async def _no_table(self) -> str:
        """The missing table's error: which tables there are, and which look like a registry."""
        message = f"{self.label}: there is no table {self.table!r}"
        try:
            result = await self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                "AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name"
            )
            tables = [str(r[0]) for r in result.rows]
            likely = []
            for name in tables[:200]:
                try:
                    understand(name, await self._table_columns(name), {})
                    likely.append(name)
                except RegistryError:
                    pass
        except (LibsqlError, RegistryError):
            return f"{message} (is TURSOTUI_REGISTRY_TABLE right?)"
        if not tables:
            return f"{message}; the database has no tables (is TURSOTUI_REGISTRY_URL right?)"
        listed = ", ".join(tables[:20]) + (
            f" and {len(tables) - 20} more" if len(tables) > 20 else ""
        )
        if likely:
            hint = f"{', '.join(likely)} look{'s' if len(likely) == 1 else ''} like a registry"
            return f"{message}; it has {listed}; {hint} (set TURSOTUI_REGISTRY_TABLE={likely[0]})"
        return f"{message}; it has {listed}, none of which looks like a registry"

    # -- reading -------------------------------------------------------------------------

    def prime(self, tenants: list[Tenant]) -> None:
        """Let the next `tenants()` answer `tenants`, just read by the caller, instead of
        reading the table again: the TUI reads the registry before its first screen (a bad
        registry is one line on stderr), and that screen reads it too, 10,000 rows each time.
        Only the next read: any later one, and any after a change through this registry, reads.
        """
        self._primed = list(tenants)

    async def tenants(self) -> list[Tenant]:
        """Every registry row, healthy ones and broken ones (with their problem), by slug."""
        primed, self._primed = self._primed, None
        if primed is not None:
            return primed
        shape = await self.shape()
        wanted = ("slug", "url", "name", "token", "id", "created_at", "db_name")
        select = ", ".join(
            quote_name(shape.roles[r]) if r in shape.roles else "NULL" for r in wanted
        )
        # In the table's order first: the order of creation decides only between rows whose
        # slugs are the same (or the same but for case), which are rare, and sorting by it
        # in SQL was a quarter of reading 10,000 rows.
        rows = await self._rows(f"SELECT {select} FROM {quote_name(self.table)}")
        names = {  # rows that need their URL found (most registries have no such column)
            _text(row[6])
            for row in rows
            if row[6] is not None and _text(row[6]) and not _text(row[1])
        }
        found, failure = await self._find_urls(names)
        # 10,000 rows make some 30,000 objects, none of them garbage: a seventh of the reading
        # went to the collector looking for cycles every 700 of them (measured).
        with heap.paused():
            tenants = self._read_rows(rows, shape, found, failure, ordered=False)
        if tenants is not None:
            return tenants
        created = shape.roles.get("created_at")
        order = f"{quote_name(created)}, rowid" if created else "rowid"
        try:
            result = await self.connection.execute(
                f"SELECT {select} FROM {quote_name(self.table)} ORDER BY {order}"
            )
            rows = [row.astuple() for row in result.rows]
        except LibsqlError as error:
            if "rowid" not in str(error):
                raise RegistryError(self._explain(error)) from None
            # a WITHOUT ROWID table: the stored order is the primary key's, as read above
        with heap.paused():
            ordered = self._read_rows(rows, shape, found, failure, ordered=True)
        assert ordered is not None
        return ordered

    async def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query as plain tuples.

        Unpacking libsql-client's `Row` goes through the generic Sequence iterator, a
        Python call per value (70,000 for 10,000 rows); its tuple is there as it is.
        """
        result = await self._execute(sql, [])
        return [row.astuple() for row in result.rows]

    def _read_rows(
        self,
        rows: list[tuple[Any, ...]],
        shape: Shape,
        found: dict[str, str],
        failure: str | None,
        *,
        ordered: bool,
    ) -> list[Tenant] | None:
        """The tenants of `rows` by slug, each row checked; this runs once per registry row.

        Rows `ordered` by creation: a later row with an earlier row's slug is a duplicate.
        Rows in any other order: None when two slugs are the same but for case (which row
        is the duplicate, and the order of the two, then needs the order of creation).

        The usual row (text slug and name, a `file:` URL or a plain remote one without a
        query, no token in it) is checked and made inline; any other takes `_read_row`,
        which checks it in full. Both give the same tenant (a property test compares them).
        """
        has_db_name = "db_name" in shape.roles
        by_slug: dict[str, Tenant] = {}
        tenants: list[Tenant] = []
        seen: set[str] = set()
        seen_add = seen.add
        plain_remote = PLAIN_REMOTE.fullmatch
        new = object.__new__
        set_dict = object.__setattr__
        for row in rows:
            slug, url, name, token, id_, created_at, db_name = row
            # The usual row, checked as the full path below would: the same tenant.
            if (
                type(slug) is str
                and type(url) is str
                and type(name) is str
                and db_name is None
                and (id_ is None or type(id_) is str)
                and (token is None or type(token) is str)
                and (created_at is None or (type(created_at) is int and created_at <= _MS_FROM))
                and "?" not in url
            ):
                slug_text = slug.strip()
                url_text = url.strip()
                if (
                    slug_text
                    and slug_text not in seen
                    and (
                        (url_text.startswith("file:") and url_text not in _NO_FILE)
                        or (
                            url_text.isascii()
                            and url_text.isprintable()
                            and " " not in url_text
                            and plain_remote(url_text) is not None
                        )
                    )
                ):
                    key = slug_text.lower()
                    if not ordered and key in by_slug:
                        return None
                    seen_add(slug_text)
                    tenant = new(Tenant)
                    set_dict(
                        tenant,
                        "__dict__",
                        {
                            "slug": slug_text,
                            "name": name.strip() or slug_text,
                            "url": url_text,
                            "token": Secret(token) if token else None,
                            "id": id_,
                            "created_at": created_at,
                            "problem": None,
                            "db_name": None,
                            "url_source": "column",
                        },
                    )
                    if ordered:
                        tenants.append(tenant)
                    else:
                        by_slug[key] = tenant
                    continue
            tenant = self._read_row(row, has_db_name, seen, found, failure)
            if ordered:
                tenants.append(tenant)
            else:
                key = tenant.slug.lower()
                if key in by_slug:
                    return None
                by_slug[key] = tenant
        if not ordered:  # no two slugs alike, even in case: the slug alone orders them
            return [by_slug[key] for key in sorted(by_slug)]
        tenants.sort(key=lambda t: (t.slug.lower(), t.broken))
        return tenants

    def _read_row(
        self,
        row: tuple[Any, ...],
        has_db_name: bool,
        seen: set[str],
        found: dict[str, str],
        failure: str | None,
    ) -> Tenant:
        """One registry row as a tenant, every check made (broken, with its problem)."""
        slug, url, name, token, id_, created_at, db_name = row
        slug_text = _text(slug)
        url_text = _text(url)
        url_token = None
        if "?" in url_text:
            url_text, url_token = split_token(url_text)
        db_name_text = _text(db_name)
        token = token or url_token
        source = "column"
        problem = None
        if not slug_text:
            problem = "the row has no slug"
        elif slug_text in seen:
            problem = f"duplicate slug {slug_text!r} (an earlier row has it)"
        elif url_text:
            problem = url_problem(url_text)
        elif db_name_text:
            url_text, source, problem = self._url_of(slug_text, db_name_text, found, failure)
            # a token written into the template (`?authToken=`) is kept out of the URL too
            url_text, template_token = split_token(url_text)
            token = token or template_token
        elif has_db_name:
            problem = "the row has no database URL or database name"
        else:
            problem = "the row has no database URL"
        seen.add(slug_text)
        return Tenant.of_row(
            slug_text,
            _text(name) or slug_text,
            url_text,
            Secret(str(token)) if token else None,
            None if id_ is None else str(id_),
            _seconds(created_at),
            problem,
            db_name_text or None,
            source if problem is None else "",
        )

    async def _find_urls(self, names: set[str]) -> tuple[dict[str, str], str | None]:
        """Hostnames of the databases `names` from the Platform API (when it is the source).

        The organization's databases are listed once and kept for the session; the list
        is asked again when a row names a database it does not have (a new one), at most
        once per RELIST_AFTER_S, and after `add`.
        Returns `(name -> hostname, why the listing failed)`.
        """
        if not names or self.url_origin() != "the Platform API":
            return {}, None
        if self._hostnames is not None and (
            names <= self._hostnames.keys() or time.monotonic() - self._listed_at < RELIST_AFTER_S
        ):
            return self._hostnames, None
        from tursotui.platform.api import PlatformClient
        from tursotui.platform.errors import PlatformError

        assert self.settings is not None
        try:
            async with PlatformClient.from_settings(self.settings) as api:
                # The API answers the whole list at once: its spec has no pages here.
                databases = await api.list_databases()
        except PlatformError as error:
            return self._hostnames or {}, str(error)
        self._hostnames = {d.name: d.hostname for d in databases if d.name and d.hostname}
        self._listed_at = time.monotonic()
        return self._hostnames, None

    def _url_of(
        self, slug: str, db_name: str, found: dict[str, str], failure: str | None
    ) -> tuple[str, str, str | None]:
        """`(url, source, problem)` for a row that keeps only a database name."""
        origin = self.url_origin()
        if origin == "the Platform API":
            assert self.settings is not None
            hostname = found.get(db_name)
            if hostname:
                url = f"libsql://{hostname}"
                return url, "platform", url_problem(url)
            if failure:
                return "", "", f"cannot find the URL of database {db_name!r}: {failure}"
            return (
                "",
                "",
                (f"the organization {self.settings.turso_org} has no database {db_name!r}"),
            )
        if origin == "the URL template":
            assert self.template is not None
            org = self.settings.turso_org if self.settings else None
            url = self.template.format(db_name=db_name, slug=slug, org=org or "")
            problem = url_problem(split_token(url)[0])
            if problem:
                shown = split_token(url)[0]  # never a token written into the template
                return (
                    shown,
                    "",
                    (f"the URL template (tenant_url_template) makes {shown!r}: {problem}"),
                )
            return url, "template", None
        return (
            "",
            "",
            (
                f"the row has only a database name ({db_name!r}); set "
                "TURSOTUI_TENANT_URL_TEMPLATE, or TURSO_ORG and TURSO_PLATFORM_API_TOKEN, "
                "to find its URL"
            ),
        )

    async def get(self, slug: str) -> Tenant:
        """The healthy tenant with this slug, or the broken row's problem as a RegistryError."""
        tenants = await self.tenants()
        for tenant in tenants:
            if tenant.slug == slug and not tenant.broken:
                return tenant
        for tenant in tenants:
            if tenant.slug == slug:
                raise RegistryError(f"tenant {slug}: {tenant.problem}")
        raise RegistryError(f"no tenant {slug!r} in the registry")

    # -- writing -------------------------------------------------------------------------

    async def add(
        self,
        slug: str,
        url: str | None,
        token: str | Secret | None = None,
        name: str | None = None,
        *,
        db_name: str | None = None,
    ) -> Tenant:
        """Insert a registry row into the columns the registry has, like the app would.

        A token in the URL's query (`?authToken=`) is moved to the row's token. A new id
        is a UUID when the id column is text without a default (SQLite numbers an
        `INTEGER PRIMARY KEY` itself); created-at is written in the unit the rows already
        use (seconds unless they hold milliseconds), or left to the column's default.
        Returns the row as read back (broken, with its problem, if its URL cannot be found).

        Raises:
            RegistryError: the registry's shape cannot hold what was asked (a token with no
                token column, a URL with only a database name column...); nothing is written.
        """
        self._primed = None
        shape = await self.shape()
        token_text = token.get_secret_value() if isinstance(token, Secret) else token
        url_text = None
        if url is not None and not url.strip():
            raise RegistryError(f"tenant {slug}: the database URL is empty")
        if url:
            url_text, url_token = split_token(url.strip())
            token_text = token_text or url_token
            try:
                parse_url(url_text)
            except InvalidURL as error:
                raise RegistryError(f"tenant {slug}: {error}") from None
        db_name = (db_name or "").strip() or None
        where = f"{self.label}: table {self.table!r}"
        if url_text and "url" not in shape.roles and not db_name:
            raise RegistryError(
                f"{where} keeps database names ({shape.roles['db_name']}), not URLs: "
                "give the database name (--db-name) instead"
            )
        if db_name and not url_text and "db_name" not in shape.roles:
            raise RegistryError(
                f"{where} keeps URLs ({shape.roles['url']}), not database names: "
                "give the URL (--url) instead"
            )
        if not url_text and not db_name:
            raise RegistryError(f"tenant {slug}: give its database URL or database name")
        if token_text and "token" not in shape.roles:
            raise RegistryError(
                f"{where} has no token column, so it cannot keep a token for {slug}"
            )
        if any(t.slug == slug for t in await self.tenants()):
            raise RegistryError(f"tenant {slug} is already in the registry")
        values: dict[str, tuple[str, list[Any]]] = {}

        def put(role: str, value: Any) -> None:
            column = shape.roles.get(role)
            if column is not None:
                values[column] = ("?", [value])

        put("slug", slug)
        put("name", name or slug)
        if url_text:
            put("url", url_text)
        if db_name:
            put("db_name", db_name)
        token_column = shape.column("token")
        if token_text or (token_column and token_column.not_null and token_column.default is None):
            put("token", token_text or "")
        id_column = shape.column("id")
        if id_column and id_column.default is None and not id_column.rowid_alias:
            if id_column.integer:
                table = quote_name(self.table)
                column = quote_name(id_column.name)
                values[id_column.name] = (
                    f"(SELECT coalesce(max({column}), 0) + 1 FROM {table})",
                    [],
                )
            else:
                # Here, not at the top: every command reads the registry, few add to it,
                # and `uuid` loads `platform` with it (5 ms of a command's start).
                import uuid

                values[id_column.name] = ("?", [str(uuid.uuid4())])
        created = shape.column("created_at")
        if created and created.default is None:
            values[created.name] = ("?", [await self._now(created)])
        missing = [
            c.name
            for c in shape.columns
            if c.not_null and c.default is None and not c.rowid_alias and c.name not in values
        ]
        if missing:
            raise RegistryError(
                f"{where} needs a value in {', '.join(missing)} (NOT NULL, no default), "
                "which tursotui cannot know; add the row with the app"
            )
        names = ", ".join(quote_name(k) for k in values)
        marks = ", ".join(mark for mark, _ in values.values())
        args = [a for _, value_args in values.values() for a in value_args]
        await self._run_batch(
            [(f"INSERT INTO {quote_name(self.table)} ({names}) VALUES ({marks})", args)]
        )
        self._hostnames = None  # a database made just now is not in the last listing
        for tenant in await self.tenants():
            if tenant.slug == slug:
                return tenant
        raise RegistryError(f"{self.label}: the row of {slug} was written but cannot be read")

    async def _now(self, column: Column) -> Any:
        """Now, as the column's other rows keep time (seconds, milliseconds or date text)."""
        latest = await self._execute(
            f"SELECT max({quote_name(column.name)}) FROM {quote_name(self.table)}", []
        )
        sample = latest.rows[0][0] if latest.rows else None
        now = time.time()
        if isinstance(sample, str) and not sample.strip().isdigit():
            moment = datetime.fromtimestamp(now, UTC)
            if "T" in sample:
                return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        declared = column.type.upper()
        if sample is None and not column.integer and ("TEXT" in declared or "DATE" in declared):
            return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(sample, int | float) and sample > 100_000_000_000:
            return int(now * 1000)
        return int(now)

    async def remove(self, slug: str) -> None:
        """Delete the registry row; the tenant's database is left alone."""
        self._primed = None
        column = quote_name((await self.shape()).roles["slug"])
        result = await self._execute(
            f"DELETE FROM {quote_name(self.table)} WHERE {column} = ? RETURNING {column}", [slug]
        )
        if not result.rows:
            raise RegistryError(f"no tenant {slug!r} in the registry")

    async def set_token(self, slug: str, token: str | Secret) -> None:
        """Replace a tenant's stored token (after a rotation)."""
        self._primed = None
        shape = await self.shape()
        if "token" not in shape.roles:
            raise RegistryError(
                f"{self.label}: table {self.table!r} has no token column, so it cannot keep "
                f"a token for {slug}"
            )
        secret = token.get_secret_value() if isinstance(token, Secret) else token
        slug_column = quote_name(shape.roles["slug"])
        result = await self._execute(
            f"UPDATE {quote_name(self.table)} SET {quote_name(shape.roles['token'])} = ? "
            f"WHERE {slug_column} = ? RETURNING {slug_column}",
            [secret, slug],
        )
        if not result.rows:
            raise RegistryError(f"no tenant {slug!r} in the registry")

    async def _execute(self, sql: str, args: list) -> Any:
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
