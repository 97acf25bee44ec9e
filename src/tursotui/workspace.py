"""What one session of tursotui works with: settings, registry, tenant connections, audit log.

The TUI and the CLI both build a `Workspace` and hand it to what they run;
nothing here knows about the UI.
"""

from __future__ import annotations

import asyncio

from tursotui.audit import AuditLog
from tursotui.db import Connection
from tursotui.db.http import close_shared_client
from tursotui.registry import Registry, Tenant
from tursotui.settings import Settings


class Workspace:
    """Settings, the open registry, one cached connection per tenant, and the audit log."""

    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self.audit = AuditLog(settings.data_dir / "audit.jsonl", settings.operator)
        self._connections: dict[str, tuple[Tenant, Connection]] = {}
        self._opening: dict[str, asyncio.Lock] = {}

    @classmethod
    async def open(cls, settings: Settings) -> Workspace:
        """Open the registry named by `settings` (raises RegistryError)."""
        return cls(settings, await Registry.open(settings))

    async def connection(self, tenant: Tenant) -> Connection:
        """The shared connection to `tenant`, opened on first use (raises LibsqlError)."""
        lock = self._opening.setdefault(tenant.slug, asyncio.Lock())
        async with lock:
            cached = self._connections.get(tenant.slug)
            if cached and cached[0] == tenant and not cached[1].closed:
                return cached[1]
            if cached:
                await cached[1].close()
            connection = await tenant.connect(
                read_only=self.settings.read_only, timeout=self.settings.timeout
            )
            self._connections[tenant.slug] = (tenant, connection)
            return connection

    async def forget(self, slug: str) -> None:
        """Close and drop the cached connection of a tenant (after destroy or token rotation)."""
        cached = self._connections.pop(slug, None)
        if cached:
            await cached[1].close()

    async def close(self) -> None:
        """Close every connection and the registry."""
        for slug in list(self._connections):
            await self.forget(slug)
        await self.registry.close()
        await close_shared_client()
