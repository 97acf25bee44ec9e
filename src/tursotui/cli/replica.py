"""`tursotui replica sync (SLUG ... | --all)`, `replica list`, `replica drop SLUG`.

Replicas are local copies of remote tenants under `<data dir>/replicas/`, read by the
TUI instead of the primary (see `tursotui.session.replica_store`). `sync` creates or refreshes
them (progress on stderr, exit 1 if any tenant failed), `list` prints each one's size,
last sync and lag (how long ago that sync was: the most it can be behind), `drop`
deletes one.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from tursotui.cli.common import (
    FAILED,
    OK,
    add_settings_arguments,
    command,
    fail,
    note,
    open_workspace,
    write_table,
)
from tursotui.session.replica_store import ENGINE, ReplicaError, ReplicaStore
from tursotui.session.replicas import Freshness
from tursotui.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `replica` command and its subcommands."""
    parser = subparsers.add_parser(
        "replica",
        help="local replicas of remote tenants: sync, list, drop",
        description=(
            f"Local copies of remote tenants, synced from their primaries ({ENGINE}); the "
            "TUI reads a tenant from its replica and writes to its primary."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    parser.set_defaults(handler=_usage, parser=parser)

    sync = actions.add_parser(
        "sync",
        help="create or refresh replicas",
        description="Create or refresh the replicas of the named tenants (or --all remote ones).",
    )
    sync.add_argument("slugs", nargs="*", metavar="SLUG", help="tenants to sync")
    sync.add_argument("--all", action="store_true", help="every remote tenant")
    add_settings_arguments(sync)
    sync.set_defaults(handler=run_sync, parser=sync)

    listing = actions.add_parser(
        "list", help="size, last sync and lag of each replica", description="List the replicas."
    )
    add_settings_arguments(listing)
    listing.set_defaults(handler=run_list, parser=listing)

    drop = actions.add_parser("drop", help="delete a replica", description="Delete a replica.")
    drop.add_argument("slug", metavar="SLUG")
    add_settings_arguments(drop)
    drop.set_defaults(handler=run_drop, parser=drop)


async def _usage(args: argparse.Namespace) -> int:
    args.parser.print_usage()
    return fail("say what to do: replica sync, replica list or replica drop")


@command
async def run_sync(args: argparse.Namespace) -> int:
    """Sync each tenant; 0 when all synced, 1 if any failed."""
    if bool(args.slugs) == bool(args.all):
        args.parser.error("name the tenants to sync, or give --all (not both)")
    async with open_workspace(args) as workspace:
        tenants = await workspace.registry.tenants()
        if args.all:
            tenants = [t for t in tenants if t.is_remote and not t.broken]
        else:
            by_slug = {t.slug: t for t in tenants}
            unknown = [s for s in args.slugs if s not in by_slug]
            if unknown:
                return fail(f"no tenant {', '.join(unknown)} in the registry")
            tenants = [by_slug[s] for s in dict.fromkeys(args.slugs)]
            local = [t.slug for t in tenants if not t.is_remote]
            if local:
                return fail(f"{', '.join(local)}: local tenants are read directly, no replica")
        if not tenants:
            return fail("the registry has no remote tenants")
        note(f"syncing {plural(len(tenants), 'replica')} ({ENGINE})")
        failed = 0
        gate = asyncio.Semaphore(min(4, workspace.settings.fleet_concurrency))

        async def one(tenant_slug: str) -> None:
            nonlocal failed
            tenant = next(t for t in tenants if t.slug == tenant_slug)
            async with gate:
                started = time.perf_counter()
                try:
                    info = await workspace.replicas.sync(tenant)
                except ReplicaError as error:
                    failed += 1
                    note(f"  FAILED {tenant.slug}: {error}")
                    return
                how = "built" if info.rebuilt else "synced"
                took = time.perf_counter() - started
                note(f"  {tenant.slug}: {how} in {took:.2f} s, {_size(info.size)}")

        await asyncio.gather(*(one(t.slug) for t in tenants))
        note(f"{len(tenants) - failed} synced, {failed} failed")
        return FAILED if failed else OK


@command
async def run_list(args: argparse.Namespace) -> int:
    """Print the replicas; 0 even when there are none (it says so on stderr)."""
    async with open_workspace(args) as workspace:
        store: ReplicaStore = workspace.replicas.store
        rows = []
        for slug in store.slugs():
            info = store.info(slug)
            if info is None:
                continue
            synced = (
                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(info.synced_at))
                if info.synced_at
                else "never"
            )
            lag = Freshness(synced_at=info.synced_at).label().removeprefix("replica · synced ")
            rows.append((slug, _size(info.size), synced, lag, str(info.path)))
        if not rows:
            note(f"no replicas in {store.root}")
            return OK
        write_table(("tenant", "size", "last sync (UTC)", "lag", "file"), rows, max_width=80)
        return OK


@command
async def run_drop(args: argparse.Namespace) -> int:
    """Delete one replica; 1 when it had none."""
    async with open_workspace(args) as workspace:
        try:
            dropped = await asyncio.to_thread(workspace.replicas.store.drop, args.slug)
        except ReplicaError as error:
            return fail(str(error))
        if not dropped:
            return fail(f"tenant {args.slug} has no replica")
        note(f"dropped the replica of {args.slug}")
        return OK


def _size(size: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return f"{size:.1f} GiB"
