"""What one session of tursotui works with: settings, registry, tenant connections, audit log.

The TUI and the CLI both build a `Workspace` and hand it to what they run;
nothing here knows about the UI.
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Callable
from typing import TYPE_CHECKING

from tursotui.db import Connection, close_shared_clients
from tursotui.db.local import LocalConnection
from tursotui.session.registry import Registry, Tenant
from tursotui.session.settings import Settings

if TYPE_CHECKING:  # loaded with the first replica: a session of local tenants never needs them
    from tursotui.secret import Secret
    from tursotui.session.audit import AuditLog
    from tursotui.session.replicas import ReplicaConnection, Replicas
    from tursotui.session.tokens import TokenResolver

MAX_CACHED_LOCAL_CONNECTIONS = 512
"""Most local tenants whose connection stays open between uses (each holds a thread)."""


def local_connection_cap() -> int:
    """How many local tenants' connections may stay open between uses.

    Each holds a thread and three file descriptors (the database, its `-wal` and `-shm`):
    a quarter of the process's open-file limit, so that three quarters at most go to
    them, and at most MAX_CACHED_LOCAL_CONNECTIONS. With every connection kept open, a
    fleet of local tenants ran out of files at about 340 tenants under the common limit
    of 1024, and its later tenants showed as unreachable.
    """
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ValueError, OSError):
        soft = 1024
    if soft == resource.RLIM_INFINITY:
        return MAX_CACHED_LOCAL_CONNECTIONS
    return max(8, min(MAX_CACHED_LOCAL_CONNECTIONS, soft // 4))


class Workspace:
    """Settings, the open registry, cached connections to tenants, and the audit log."""

    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self._audit: AuditLog | None = None
        self._connections: dict[str, tuple[Tenant, Connection]] = {}
        """By slug, least recently used first."""
        self._without_replica: set[str] = set()
        """Tenants whose cached connection is their primary only because a fleet-wide
        question opened it (`connection(new_replica=False)`); their next plain use adds it."""
        self._opening: dict[str, asyncio.Lock] = {}
        self._closing: set[asyncio.Task[None]] = set()
        """Closes of least used connections, in flight (nobody waits for them but `close`)."""
        self.local_connection_cap = local_connection_cap()
        """Local connections kept open; beyond, the least recently used idle one is closed."""
        self._tokens: TokenResolver | None = None
        self._on_secret: Callable[[Secret], None] | None = None
        self._replicas: Replicas | None = None

    # The audit log and the token sources are made when first used (a write; the first
    # tenant opened), not with the workspace: the first frame of the TUI needs neither,
    # and their modules are a few ms of its start.

    @property
    def audit(self) -> AuditLog:
        """The audit log of every write (`data_dir/audit.jsonl`)."""
        if self._audit is None:
            from tursotui.session.audit import AuditLog

            self._audit = AuditLog(self.settings.data_dir / "audit.jsonl", self.settings.operator)
        return self._audit

    @property
    def tokens(self) -> TokenResolver:
        """Each tenant's token from its source (stored, command, group, minted), per session."""
        if self._tokens is None:
            from tursotui.session.tokens import TokenResolver

            self._tokens = TokenResolver(self.settings, on_secret=self._on_secret)
        return self._tokens

    @tokens.setter
    def tokens(self, resolver: TokenResolver) -> None:
        self._tokens = resolver

    @property
    def on_secret(self) -> Callable[[Secret], None] | None:
        """Told every token obtained (see `TokenResolver.on_secret`)."""
        return self._on_secret

    @on_secret.setter
    def on_secret(self, tell: Callable[[Secret], None] | None) -> None:
        self._on_secret = tell
        if self._tokens is not None:
            self._tokens.on_secret = tell

    @property
    def replicas(self) -> Replicas:
        """Remote tenants read from local replicas (`settings.replicas`), their freshness.

        Made when first asked for (by a remote tenant's connection, or the replica screens
        and commands): no replica-backed connection exists before it.
        """
        if self._replicas is None:
            from tursotui.session.replica_store import ReplicaStore
            from tursotui.session.replicas import Replicas

            store = ReplicaStore(self.settings.data_dir)
            self._replicas = Replicas(store, self.settings.replicas, self.tokens)
        return self._replicas

    @classmethod
    async def open(cls, settings: Settings) -> Workspace:
        """Open the registry named by `settings` (raises RegistryError)."""
        return cls(settings, await Registry.open(settings))

    async def connection(self, tenant: Tenant, *, new_replica: bool = True) -> Connection:
        """The shared connection to `tenant`, opened on first use (raises LibsqlError).

        `new_replica=False` is for questions asked of many tenants at once (health, the
        fleet overview): a replica already on disk serves them, but none is made for them.
        With replicas `always`, a first look at a fleet of thousands would otherwise copy
        every database to this machine. The tenant gets its replica when it is opened.
        """
        lock = self._opening.setdefault(tenant.slug, asyncio.Lock())
        async with lock:
            cached = self._connections.pop(tenant.slug, None)
            if cached and cached[0] == tenant and not cached[1].closed:
                connection = cached[1]
                if new_replica and tenant.slug in self._without_replica:
                    self._without_replica.discard(tenant.slug)
                    connection = await self.with_replica(tenant, connection)
                self._connections[tenant.slug] = (tenant, connection)  # the most recently used
                return connection
            if cached:
                await cached[1].close()
            self._without_replica.discard(tenant.slug)
            connection = await self.open_tenant(tenant)
            # Only a remote tenant reads from a replica (asked first: see `replicas`).
            if tenant.is_remote and self.replicas.wanted(tenant):
                if new_replica or self.replicas.store.has(tenant.slug):
                    connection = await self.with_replica(tenant, connection)
                else:
                    self._without_replica.add(tenant.slug)
            self._connections[tenant.slug] = (tenant, connection)
        if isinstance(connection, LocalConnection):
            self._close_least_used(keep=connection)
        return connection

    async def with_replica(self, tenant: Tenant, primary: Connection) -> Connection:
        """`primary` behind a replica-backed connection, or alone when no replica can be had
        (the freshness then says why, and the header shows `primary`)."""
        from tursotui.session.replica_store import ReplicaError

        try:
            return await self.replicas.open(tenant, primary)
        except ReplicaError:
            return primary

    def replica_of(self, slug: str) -> ReplicaConnection | None:
        """The open replica-backed connection of `slug`, if its tenant reads from one."""
        if self._replicas is None:
            return None  # none was ever opened
        from tursotui.session.replicas import ReplicaConnection

        cached = self._connections.get(slug)
        if cached and isinstance(cached[1], ReplicaConnection):
            return cached[1]
        return None

    async def sync_replica(self, slug: str) -> bool:
        """Sync the replica `slug` reads from, if it reads from one (the `r` key).

        Returns False when the tenant reads from its primary.

        Raises:
            ReplicaError: the sync failed; the replica is still served, marked stale.
        """
        replica = self.replica_of(slug)
        if replica is None:
            return False
        await replica.sync()
        return True

    def reads_replicas(self) -> bool:
        """Some tenant of this session is read from its replica."""
        if self._replicas is None:
            return False
        from tursotui.session.replicas import ReplicaConnection

        return any(isinstance(c, ReplicaConnection) for _, c in self._connections.values())

    async def sync_replicas(self) -> list[str]:
        """Sync every replica this session reads from, a few at a time (`r` on the fleet
        and queue screens); returns the reasons of those that failed (served stale)."""
        if self._replicas is None:
            return []
        from tursotui.session.replica_store import ReplicaError
        from tursotui.session.replicas import ReplicaConnection

        replicas = [c for _, c in self._connections.values() if isinstance(c, ReplicaConnection)]
        gate = asyncio.Semaphore(4)
        failures: list[str] = []

        async def one(replica: ReplicaConnection) -> None:
            async with gate:
                try:
                    await replica.sync()
                except ReplicaError as error:
                    failures.append(str(error))

        await asyncio.gather(*(one(r) for r in replicas))
        return failures

    def freshness_label(self, tenant: Tenant) -> tuple[str, bool] | None:
        """What the header says of where `tenant` is read from, and whether it is stale:
        `replica · synced 12 s ago`, or `primary`; None for a local tenant."""
        if not tenant.is_remote or tenant.broken:
            return None
        replica = self.replica_of(tenant.slug)
        if replica is None:
            return "primary", False
        return replica.freshness.label(), replica.freshness.stale is not None

    async def open_tenant(
        self, tenant: Tenant, *, read_only: bool | None = None, timeout: float | None = None
    ) -> Connection:
        """A new connection of the caller's own to `tenant`, with the token from its source.

        Every way tursotui reaches a tenant goes through here (or `connection`), so the
        token command, the group token and minted tokens apply everywhere alike.

        Args:
            read_only: Default: the session's read-only setting.
            timeout: Default: the session's timeout.

        Raises:
            RegistryError: the row is broken.
            LibsqlError: the tenant or its token's source failed.
        """
        return await self.tokens.connect(
            tenant,
            read_only=self.settings.read_only if read_only is None else read_only,
            timeout=self.settings.timeout if timeout is None else timeout,
        )

    def _close_least_used(self, keep: Connection) -> None:
        """Close idle local connections, least recently used first, down to the cap."""
        local = sum(isinstance(c, LocalConnection) for _, c in self._connections.values())
        excess = local - self.local_connection_cap
        closing = []
        for slug, (_, connection) in list(self._connections.items()):
            if excess <= 0:
                break
            # One in use stays: it is closed by a later call, once idle and still the oldest.
            if (
                isinstance(connection, LocalConnection)
                and connection is not keep
                and connection.idle
            ):
                del self._connections[slug]
                closing.append(connection)
                excess -= 1
        for connection in closing:
            # In the background: a close checkpoints the database on its own thread, and
            # the caller asking for a tenant should not wait for another tenant's files.
            task = asyncio.create_task(connection.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def forget(self, slug: str) -> None:
        """Close and drop the cached connection of a tenant (after destroy or token rotation)."""
        cached = self._connections.pop(slug, None)
        if cached:
            await cached[1].close()
        if self._tokens is not None:
            self._tokens.forget(slug)

    async def close(self) -> None:
        """Close every connection and the registry."""
        for slug in list(self._connections):
            await self.forget(slug)
        await asyncio.gather(*self._closing, return_exceptions=True)
        if self._replicas is not None:
            await self._replicas.close()
        if self._tokens is not None:
            await self._tokens.close()
        await self.registry.close()
        await close_shared_clients()
