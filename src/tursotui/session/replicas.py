"""Replica-backed tenants: reads from the local replica, every write to the primary.

`ReplicaConnection` is what the workspace hands out for a tenant that has a replica. It
is a `Connection` like any other, so every screen and fleet module gets replica reads
without knowing: a statement the classifier proves read-only runs on a read-only local
connection to the replica; anything else (a guarded moderation batch, a transaction, a
console write, a migration) runs on the primary, and then the replica syncs so the next
read shows the write. Guards are therefore always evaluated on the primary: a replica
that is behind cannot make a write overwrite a newer change.

`Replicas` keeps each tenant's freshness (last sync, the reason of a failed one) for the
header and the console, and retries a failed sync with backoff when the tenant is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tursotui.db import Connection, LibsqlError, Result, Transaction, connect
from tursotui.db.libsql import InArgs, InStatement, Statement
from tursotui.db.local import LocalConnection
from tursotui.session.replica_store import ReplicaError, ReplicaInfo, ReplicaStore
from tursotui.sqltext import classify

if TYPE_CHECKING:
    from tursotui.session.registry import Tenant
    from tursotui.session.tokens import TokenResolver

REFRESH_AFTER_S = 30.0
"""A replica older than this is synced in the background when its tenant is read."""
BACKOFF_S = (2.0, 5.0, 15.0, 30.0, 60.0)
"""Waits before retrying a failed sync, growing with each failure in a row."""


@dataclass
class Freshness:
    """How fresh one tenant's replica is, for the header and the console.

    Attributes:
        synced_at: Epoch seconds of the last successful sync (None: never this session).
        stale: Why the last sync failed, or None when it worked.
        failures: Failed syncs in a row (sets the backoff).
        retry_at: Monotonic time before which no background retry is made.
    """

    synced_at: float | None = None
    stale: str | None = None
    failures: int = 0
    retry_at: float = 0.0

    def label(self, now: float | None = None) -> str:
        """`replica · synced 12 s ago`, with `· stale` when the last sync failed."""
        if self.synced_at is None:
            said = "replica · never synced"
        else:
            said = f"replica · synced {_ago((now or time.time()) - self.synced_at)}"
        return f"{said} · stale" if self.stale else said


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def _writes(stmt: InStatement) -> bool:
    sql = stmt.sql if isinstance(stmt, Statement) else stmt if isinstance(stmt, str) else stmt[0]
    return classify(sql).writes


class Replicas:
    """The session's replicas: which tenants use one, syncing them, and their freshness."""

    def __init__(self, store: ReplicaStore, mode: str, tokens: TokenResolver) -> None:
        self.store = store
        self.mode = mode
        """`off`, `on-demand` (tenants that have a replica) or `always` (every remote tenant)."""
        self.tokens = tokens
        self.freshness: dict[str, Freshness] = {}
        self.paths: dict[str, str] = {}
        """Each tenant's current replica file, as its last sync left it (a rebuild moves it)."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[None]] = set()

    def wanted(self, tenant: Tenant) -> bool:
        """Whether `tenant` is read from a replica under the session's setting."""
        if self.mode == "off" or tenant.broken or not tenant.is_remote:
            return False
        return self.mode == "always" or self.store.has(tenant.slug)

    def state(self, slug: str) -> Freshness:
        return self.freshness.setdefault(slug, Freshness())

    async def sync(self, tenant: Tenant) -> ReplicaInfo:
        """Sync `tenant`'s replica now (one at a time per tenant).

        Raises:
            ReplicaError: the sync failed; the freshness records why and when to retry.
        """
        lock = self._locks.setdefault(tenant.slug, asyncio.Lock())
        state = self.state(tenant.slug)
        async with lock:
            try:
                token = await self.tokens.token(tenant)
            except LibsqlError as error:
                self._failed(state, f"tenant {tenant.slug}: no token: {error.explanation}")
                raise ReplicaError(state.stale or "no token") from None
            stored = tenant.token.get_secret_value() if tenant.token else None
            try:
                info = await asyncio.to_thread(
                    self.store.sync,
                    tenant.slug,
                    tenant.url,
                    token.get_secret_value() if token else None,
                    stored,
                )
            except ReplicaError as error:
                self._failed(state, str(error))
                raise
            self.paths[tenant.slug] = str(info.path)
            state.synced_at = info.synced_at
            state.stale = None
            state.failures = 0
            state.retry_at = 0.0
            return info

    def _failed(self, state: Freshness, reason: str) -> None:
        state.stale = reason
        state.failures += 1
        wait = BACKOFF_S[min(state.failures, len(BACKOFF_S)) - 1]
        state.retry_at = time.monotonic() + wait

    def refresh_soon(self, tenant: Tenant, on_done: Callable[[], Any] | None = None) -> None:
        """Sync in the background if the replica is old or the last sync failed and its
        backoff is over; never waits and never raises."""
        state = self.state(tenant.slug)
        lock = self._locks.get(tenant.slug)
        if lock is not None and lock.locked():
            return
        if state.stale is None:
            if state.synced_at is not None and time.time() - state.synced_at < REFRESH_AFTER_S:
                return
        elif time.monotonic() < state.retry_at:
            return

        async def run() -> None:
            with contextlib.suppress(ReplicaError):  # recorded in the freshness, shown
                await self.sync(tenant)
            if on_done is not None:
                on_done()

        try:
            task = asyncio.get_running_loop().create_task(run())
        except RuntimeError:
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def open(self, tenant: Tenant, primary: Connection) -> ReplicaConnection:
        """A replica-backed connection over `primary`.

        A replica already on disk, made from the tenant's current URL and token, is served
        at once (opening a tenant asks no round trip of its primary) and synced in the
        background when it is older than REFRESH_AFTER_S. Otherwise it is synced (made or
        rebuilt) first; when that fails and a replica is on disk, it is served, marked
        stale. Without one on disk the error is raised (the caller then uses the primary).

        Raises:
            ReplicaError: there is no replica and none could be made.
        """
        stored = tenant.token.get_secret_value() if tenant.token else None
        state = self.state(tenant.slug)
        path: Path | None = None
        if await asyncio.to_thread(self.store.matches, tenant.slug, tenant.url, stored):
            known = await asyncio.to_thread(self.store.info, tenant.slug)
            if known is not None:
                path = known.path
                if state.synced_at is None:
                    state.synced_at = known.synced_at
        if path is None:
            try:
                path = (await self.sync(tenant)).path
            except ReplicaError:
                existing = self.store.current(tenant.slug)
                if existing is None:
                    raise
                path = existing
                known = self.store.info(tenant.slug)
                if known is not None and state.synced_at is None:
                    state.synced_at = known.synced_at
        self.paths[tenant.slug] = str(path)
        reader = await _open_reader(tenant.slug, str(path))
        connection = ReplicaConnection(self, tenant, primary, reader, str(path))
        self.refresh_soon(tenant)
        return connection

    async def close(self) -> None:
        self.store.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)


async def _open_reader(slug: str, path: str) -> LocalConnection:
    connection = await connect(f"file:{path}", name=slug, read_only=True)
    assert isinstance(connection, LocalConnection)
    return connection


class ReplicaConnection(Connection):
    """Reads from the replica, writes to the primary (then a sync), one `Connection`.

    Attributes:
        primary: The connection to the tenant's primary; every write goes there.
        replica_path: The replica file reads come from.
    """

    def __init__(
        self,
        replicas: Replicas,
        tenant: Tenant,
        primary: Connection,
        reader: LocalConnection,
        replica_path: str,
    ) -> None:
        self.replicas = replicas
        self.tenant = tenant
        self.primary = primary
        self._reader = reader
        self.replica_path = replica_path
        self.url = primary.url
        self.name = primary.name
        self.read_only = primary.read_only
        self.reads_on_primary = 0
        """Reads that fell back to the primary because the replica could not answer."""
        self.prefer_primary = False
        """Send reads to the primary too (the console's key for a read that must be current)."""

    @property
    def freshness(self) -> Freshness:
        return self.replicas.state(self.tenant.slug)

    async def _after_write(self) -> None:
        """Sync so the next read sees the write; a failed sync only marks the replica stale."""
        try:
            info = await self.replicas.sync(self.tenant)
        except ReplicaError:
            return
        await self._follow(info)

    async def _follow(self, info: ReplicaInfo | None = None) -> None:
        """After a rebuild (here or in the background), read from the new generation's file."""
        path = str(info.path) if info else self.replicas.paths.get(self.tenant.slug)
        if path is None:
            return
        if path != self.replica_path or self._reader.closed:
            old = self._reader
            self._reader = await _open_reader(self.tenant.slug, path)
            self.replica_path = path
            await old.close()

    async def sync(self) -> ReplicaInfo:
        """Sync now (the `r` key); raises ReplicaError, the replica stays as it was."""
        info = await self.replicas.sync(self.tenant)
        await self._follow(info)
        return info

    @property
    def where(self) -> str:
        """Where reads go now: `replica` or `primary`."""
        return "primary" if self.prefer_primary else "replica"

    async def _read(self, run: Callable[[Connection], Any]) -> Any:
        if self.prefer_primary:
            return await run(self.primary)
        self.replicas.refresh_soon(self.tenant)
        try:
            await self._follow()
            return await run(self._reader)
        except LibsqlError as replica_error:
            # A replica that cannot answer (deleted, truncated, a table it has not synced
            # yet): the primary answers instead, and a rebuild is due.
            try:
                answer = await run(self.primary)
            except LibsqlError:
                raise replica_error from None
            self.reads_on_primary += 1
            self.freshness.stale = self.freshness.stale or (
                f"tenant {self.tenant.slug}: the replica could not answer; read from the primary"
            )
            self.replicas.refresh_soon(self.tenant)
            return answer

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        if _writes(stmt):
            written = await self.primary.execute(stmt, args)
            await self._after_write()
            return written
        result: Result = await self._read(lambda c: c.execute(stmt, args))
        return result

    async def execute_on_primary(self, stmt: InStatement, args: InArgs = None) -> Result:
        """Run on the primary whatever the statement (the console's primary reads)."""
        result = await self.primary.execute(stmt, args)
        if _writes(stmt):
            await self._after_write()
        return result

    async def batch(self, stmts: list[InStatement]) -> list[Result]:
        if any(_writes(s) for s in stmts):
            results = await self.primary.batch(stmts)
            await self._after_write()
            return results
        answer: list[Result] = await self._read(lambda c: c.batch(stmts))
        return answer

    def transaction(self) -> Transaction:
        # A transaction may check then write: it all runs on the primary.
        return _SyncingTransaction(self, self.primary.transaction())

    async def stream(
        self, stmt: InStatement, args: InArgs = None, *, chunk_size: int = 500
    ) -> AsyncGenerator[Result, None]:
        if _writes(stmt):
            async for chunk in self.primary.stream(stmt, args, chunk_size=chunk_size):
                yield chunk
            await self._after_write()
            return
        if self.prefer_primary:
            async for chunk in self.primary.stream(stmt, args, chunk_size=chunk_size):
                yield chunk
            return
        self.replicas.refresh_soon(self.tenant)
        await self._follow()
        async for chunk in self._reader.stream(stmt, args, chunk_size=chunk_size):
            yield chunk

    def interrupt(self) -> None:
        self._reader.interrupt()
        self.primary.interrupt()

    async def close(self) -> None:
        await self._reader.close()
        await self.primary.close()

    @property
    def closed(self) -> bool:
        return bool(self.primary.closed)


class _SyncingTransaction(Transaction):
    """The primary's transaction; a commit syncs the replica."""

    def __init__(self, owner: ReplicaConnection, inner: Transaction) -> None:
        self._owner = owner
        self._inner = inner

    async def execute(self, stmt: InStatement, args: InArgs = None) -> Result:
        return await self._inner.execute(stmt, args)

    async def commit(self) -> None:
        await self._inner.commit()
        await self._owner._after_write()

    async def rollback(self) -> None:
        await self._inner.rollback()

    @property
    def closed(self) -> bool:
        return self._inner.closed

    async def close(self) -> None:
        await self._inner.close()


__all__ = ["BACKOFF_S", "Freshness", "ReplicaConnection", "Replicas"]
