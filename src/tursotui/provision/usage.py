"""What each tenant costs: rows read and written, storage, and its top queries.

Turso tenants are asked through the Platform API (`.../databases/{db}/usage` for
this month's totals, `.../stats` for the top queries); a top query on a table
that lacks an index the screens rely on carries that index advice. Local
tenants say what SQLite can: the file's size (with its WAL), pages and free
pages. Reading usage changes nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tursotui.db import LibsqlError
from tursotui.fanout import LoopShare, bounded, merged
from tursotui.platform import PlatformError
from tursotui.provision.base import Provisioner, cause
from tursotui.provision.provisioners import LocalProvisioner, TursoProvisioner, provisioner_for
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.workspace import Workspace
from tursotui.tenant.indexes import advise


@dataclass
class TenantUsage:
    """One tenant's figures (None where unknown).

    Attributes:
        slug: The tenant.
        where: `turso`, `sqld` (its admin API), `local`, or `unknown` (no way to ask).
        rows_read, rows_written: This month's totals (Turso).
        storage_bytes: Storage (Turso), or the file and its WAL (local).
        pages, free_pages: What SQLite says of a local file.
        top_queries: `{"query", "rows_read", "rows_written", "advice"}`, most rows read first.
        error: Why the figures could not be read, in one line.
    """

    slug: str
    where: str = "unknown"
    rows_read: int | None = None
    rows_written: int | None = None
    storage_bytes: int | None = None
    pages: int | None = None
    free_pages: int | None = None
    top_queries: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "where": self.where,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "storage_bytes": self.storage_bytes,
            "pages": self.pages,
            "free_pages": self.free_pages,
            "top_queries": self.top_queries,
            "error": self.error,
        }


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mentions(text: str, name: str) -> bool:
    """Whether `name` appears in `text` as a whole word (quoted or not)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


async def _advice(workspace: Workspace, tenant: Tenant, queries: list[dict[str, Any]]) -> None:
    """Add to each query the wanted indexes it would use that the tenant lacks."""
    if not queries:
        return
    try:
        connection = await workspace.connection(tenant)
        missing = (await advise(connection)).missing
    except (LibsqlError, RegistryError):
        return
    for query in queries:
        text = str(query.get("query", ""))
        # An index helps a query on its table that filters or sorts by its first column.
        query["advice"] = [
            f"missing index {index.label}"
            for index in missing
            if _mentions(text, index.table) and _mentions(text, index.columns[0])
        ]


async def tenant_usage(
    workspace: Workspace,
    tenants: list[Tenant],
    *,
    provisioner: Provisioner | None = None,
) -> list[TenantUsage]:
    """Usage of every tenant given, most rows read first (unknown ones last).

    One tenant's failure is its `error`; the others are still read.
    """
    out = [
        usage
        async for usage in usage_stream(
            workspace, tenants, provisioner=provisioner, concurrency=1, queries=True
        )
    ]
    out.sort(key=lambda u: (u.rows_read is None, -(u.rows_read or 0), u.slug))
    return out


async def usage_stream(
    workspace: Workspace,
    tenants: list[Tenant],
    *,
    provisioner: Provisioner | None = None,
    concurrency: int,
    queries: bool = False,
) -> AsyncIterator[TenantUsage]:
    """The usage of each tenant as it is read, `concurrency` at a time (the fleet's columns).

    Without `queries`, only the totals are asked (no top queries, no index advice): what a
    column needs, at one request per tenant. A tenant's failure is its `error`, never raised.
    """
    settings = workspace.settings
    local = LocalProvisioner(settings.data_dir / "tenants")
    turso: Provisioner | None = None
    own = False
    if isinstance(provisioner, TursoProvisioner) or (
        provisioner is None and settings.uses_platform_api
    ):
        own = provisioner is None
        turso = provisioner or provisioner_for(settings)
    try:
        databases: dict[str, str] = {}
        if isinstance(turso, TursoProvisioner):
            try:
                for database in await turso.client.list_databases():
                    if database.hostname and database.name:
                        databases[database.hostname] = database.name
                        databases[turso.url_for(database.hostname)] = database.name
            except PlatformError as error:
                for tenant in tenants:
                    yield TenantUsage(tenant.slug, error=str(error))
                return

        def route(tenant: Tenant) -> str | None:
            """Where `tenant`'s figures come from: a Turso database's name, `local`,
            `sqld`, or None (no way to ask)."""
            host = _host(tenant)
            name = databases.get(tenant.url) or (databases.get(host) if host else None)
            if isinstance(turso, TursoProvisioner) and name is not None:
                return name
            if local.owned_database(tenant) is not None or not tenant.is_remote:
                return LOCAL
            if settings.sqld_admin_url:
                return SQLD
            return None

        async def one(tenant: Tenant) -> TenantUsage:
            if tenant.broken:
                return TenantUsage(tenant.slug, error=tenant.problem)
            where = route(tenant)
            if where == LOCAL:
                return await _local_usage(workspace, tenant, pages=queries)
            if where == SQLD and settings.sqld_admin_url:
                return await _sqld_usage(
                    workspace, tenant, settings.sqld_admin_url, queries=queries
                )
            if isinstance(turso, TursoProvisioner) and where is not None:
                return await _turso_usage(workspace, turso, tenant, where, queries=queries)
            why = (
                "no Platform API credentials (TURSO_ORG, TURSO_PLATFORM_API_TOKEN) nor "
                "sqld admin URL (TURSOTUI_SQLD_ADMIN_URL) are set"
            )
            if turso is not None:
                why = "no database of the organization has its host"
            return TenantUsage(tenant.slug, error=why)

        # A column needs only a local file's size: those are read in chunks, a thread hop
        # per chunk. One hop per tenant was 10,000 hops (each a few callbacks on the event
        # loop) that a key typed meanwhile waited behind.
        sizes: list[Tenant] = []
        asked: list[Tenant] = []
        share = LoopShare()
        for tenant in tenants:  # thousands: in slices, keys typed meanwhile first
            if share.due():
                await share.turn()
            by_size = not queries and not tenant.broken and route(tenant) == LOCAL
            (sizes if by_size else asked).append(tenant)
        streams: list[AsyncIterator[TenantUsage]] = []
        if asked:
            streams.append(bounded(asked, one, concurrency))
        if sizes:
            streams.append(_local_sizes(sizes))
        if len(streams) == 1:
            async for usage in streams[0]:
                yield usage
        else:
            async for usage in merged(*streams):
                yield usage
    finally:
        if own and turso is not None:
            await turso.close()


LOCAL = "\0local"
SQLD = "\0sqld"
"""Where a tenant's figures come from, besides a Turso database's name (never one of these)."""

SIZES_CHUNK = 256
"""Local files whose size is read in one thread hop (a few milliseconds of `stat`s)."""


def _local_file(usage: TenantUsage, tenant: Tenant) -> Path | None:
    """A local tenant's file, or None with why not in `usage.error`."""
    try:
        return Path(tenant.location.target)
    except ValueError as error:
        usage.error = f"{tenant.slug}: {error}"
        return None


def _size_only(tenant: Tenant) -> TenantUsage:
    """A local tenant's file size (with its WAL), or why it has none."""
    usage = TenantUsage(tenant.slug, where="local")
    path = _local_file(usage, tenant)
    return usage if path is None else _file_size(usage, path)


async def _local_sizes(tenants: list[Tenant]) -> AsyncIterator[TenantUsage]:
    """Local tenants' file sizes, `SIZES_CHUNK` at a time off the event loop."""
    for start in range(0, len(tenants), SIZES_CHUNK):
        chunk = tenants[start : start + SIZES_CHUNK]
        for usage in await asyncio.to_thread(_sizes_of, chunk):
            yield usage


def _sizes_of(tenants: list[Tenant]) -> list[TenantUsage]:
    return [_size_only(tenant) for tenant in tenants]


def namespace_of(host: str | None) -> str:
    """The sqld namespace a host reaches: its first label (`acme.db.example` → `acme`);
    `default` for an address or a single-label name (a server without namespaces)."""
    if not host:
        return "default"
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if "." not in name or name.replace(".", "").isdigit() or ":" in name:
        return "default"
    return name.split(".")[0]


async def _sqld_usage(
    workspace: Workspace, tenant: Tenant, admin_url: str, *, queries: bool = True
) -> TenantUsage:
    """Figures of a self-hosted sqld namespace from its admin API (`/v1/namespaces/{ns}/stats`)."""
    import httpx  # only when an admin URL is set

    usage = TenantUsage(tenant.slug, where="sqld")
    namespace = namespace_of(_host(tenant))
    url = f"{admin_url.rstrip('/')}/v1/namespaces/{namespace}/stats"
    try:
        async with httpx.AsyncClient(timeout=workspace.settings.timeout) as client:
            answer = await client.get(url)
        if answer.status_code != 200:
            usage.error = f"{tenant.slug}: sqld admin API answered HTTP {answer.status_code}"
            return usage
        body = answer.json()
    except (httpx.HTTPError, ValueError) as error:
        usage.error = f"{tenant.slug}: sqld admin API at {admin_url}: {type(error).__name__}"
        return usage
    if not isinstance(body, dict):
        usage.error = f"{tenant.slug}: sqld admin API: not a stats object"
        return usage
    usage.rows_read = _int(body.get("rows_read_count"))
    usage.rows_written = _int(body.get("rows_written_count"))
    usage.storage_bytes = _int(body.get("storage_bytes_used"))
    if not queries:
        return usage
    found: list[dict[str, Any]] = []
    for key in ("slowest_queries", "top_queries"):
        for item in body.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("query"), str):
                if any(q["query"] == item["query"] for q in found):
                    continue
                found.append(
                    {
                        "query": item["query"],
                        "rows_read": _int(item.get("rows_read")),
                        "rows_written": _int(item.get("rows_written")),
                        "elapsed_ms": item.get("elapsed_ms"),
                        "advice": [],
                    }
                )
    await _advice(workspace, tenant, found)
    usage.top_queries = found
    return usage


def _host(tenant: Tenant) -> str | None:
    try:
        return tenant.location.host
    except ValueError:
        return None


async def _turso_usage(
    workspace: Workspace, turso: TursoProvisioner, tenant: Tenant, name: str, *, queries: bool
) -> TenantUsage:
    usage = TenantUsage(tenant.slug, where="turso")
    try:
        answer = await turso.client.database_usage(name)
        given = answer.get("total")
        total: dict[str, Any] = given if isinstance(given, dict) else {}
        usage.rows_read = _int(total.get("rows_read"))
        usage.rows_written = _int(total.get("rows_written"))
        usage.storage_bytes = _int(total.get("storage_bytes"))
        if not queries:
            return usage
        found: list[dict[str, Any]] = [
            {
                "query": str(q.get("query", "")),
                "rows_read": _int(q.get("rows_read")),
                "rows_written": _int(q.get("rows_written")),
                "advice": [],
            }
            for q in await turso.client.database_stats(name)
        ]
    except PlatformError as error:
        usage.error = f"{tenant.slug}: {error}"
        return usage
    found.sort(key=lambda q: -(q["rows_read"] or 0))
    await _advice(workspace, tenant, found)
    usage.top_queries = found
    return usage


def _size(path: Path) -> int:
    """The file's size with its WAL's."""
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def _file_size(usage: TenantUsage, path: Path) -> TenantUsage:
    """`usage` with the file's size, or why it has none."""
    if not path.is_file():
        usage.error = f"{usage.slug}: no database file at {path}"
        return usage
    try:
        usage.storage_bytes = _size(path)
    except OSError as error:
        usage.error = f"{usage.slug}: {error.strerror or error}"
    return usage


async def _local_usage(workspace: Workspace, tenant: Tenant, *, pages: bool) -> TenantUsage:
    """The file's size (with its WAL); with `pages`, what SQLite says of it (a connection:
    the fleet's column needs only the size, for thousands of tenants)."""
    if not pages:
        # Off the event loop: a file system may be slow (see `_local_sizes` for many).
        return await asyncio.to_thread(_size_only, tenant)
    usage = TenantUsage(tenant.slug, where="local")
    path = _local_file(usage, tenant)
    if path is None:
        return usage
    if not path.is_file():
        usage.error = f"{tenant.slug}: no database file at {path}"
        return usage
    try:
        usage.storage_bytes = _size(path)
        connection = await workspace.connection(tenant)
        usage.pages = _int((await connection.execute("PRAGMA page_count")).rows[0][0])
        usage.free_pages = _int((await connection.execute("PRAGMA freelist_count")).rows[0][0])
    except (OSError, LibsqlError, RegistryError) as error:
        usage.error = f"{tenant.slug}: {getattr(error, 'strerror', None) or cause(error)}"
    return usage
