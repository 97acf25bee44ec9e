"""`tursotui tenants protect|deleted|undelete|branch|diff|restore|group-token|usage`.

The tenant lifecycle beyond create and destroy: delete protection, bringing a
deleted tenant back, point-in-time branches (compare and restore rows from
them), the group's token, and usage. `register(tenant_subparsers)` is called by
`tursotui.cli.tenants`. Every write is audited and refused in read-only
sessions; progress goes to stderr, data (and `--json`) to stdout.
"""

from __future__ import annotations

import argparse
from typing import Any

from tursotui.cli.common import (
    OK,
    add_settings_arguments,
    command,
    fail,
    note,
    open_workspace,
    remember_secret,
    write_json,
    write_table,
)
from tursotui.cli.provision import show_progress
from tursotui.provision import ProvisionError
from tursotui.provision.protect import set_group_protection, set_protection
from tursotui.provision.undelete import list_deleted, undelete_tenant


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the lifecycle subcommands to the `tenants` command."""
    protect = subparsers.add_parser(
        "protect",
        help="turn a tenant's (or a group's) delete protection on, or off with --off",
        description=(
            "Delete protection: a protected tenant is refused by `tenants destroy` (and by the "
            "Platform API) until the protection is lifted. Remote tenants through the Platform "
            "API (the database's configuration); local ones in <data dir>/protected.json."
        ),
    )
    protect.add_argument("slug", nargs="?", help="the tenant to protect")
    protect.add_argument("--group", help="protect this Turso group instead (all its databases)")
    protect.add_argument("--off", action="store_true", help="lift the protection")
    protect.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_settings_arguments(protect)
    protect.set_defaults(handler=run_protect, parser=protect)

    deleted = subparsers.add_parser(
        "deleted",
        help="list deleted tenants that can still be undeleted",
        description=(
            "Deleted tenant databases that `tenants undelete` can bring back: the local trash "
            "(<data dir>/trash, kept TURSOTUI_TRASH_DAYS days; older ones are removed now) and, "
            "with Platform API credentials, the organization's deleted databases (Turso keeps "
            "them five days on paid plans)."
        ),
    )
    deleted.add_argument("--json", action="store_true", help="print a JSON array on stdout")
    add_settings_arguments(deleted)
    deleted.set_defaults(handler=run_deleted)

    undelete = subparsers.add_parser(
        "undelete",
        help="bring a deleted tenant back and register it again",
        description=(
            "Restore the newest deleted database named SLUG (from the local trash, else through "
            "the Platform API), mint its token, wait until it answers and register it. A failure "
            "after the restore puts the database back (deleted again, or into the trash)."
        ),
    )
    undelete.add_argument("slug", help="the deleted tenant's slug")
    undelete.add_argument("--name", help="display name (default: the one it had, or the slug)")
    undelete.add_argument("--json", action="store_true", help="print the tenant as JSON")
    add_settings_arguments(undelete)
    undelete.set_defaults(handler=run_undelete)


@command
async def run_protect(args: argparse.Namespace) -> int:
    """`tenants protect SLUG [--off]` or `tenants protect --group GROUP [--off]`."""
    if bool(args.slug) == bool(args.group):
        args.parser.error("give a tenant's SLUG or --group GROUP (one of them)")
    on = not args.off
    async with open_workspace(args) as workspace:
        try:
            if args.group:
                before = await set_group_protection(workspace, args.group, on)
                what = f"group {args.group}"
            else:
                before = await set_protection(workspace, args.slug, on)
                what = f"tenant {args.slug}"
        except ProvisionError as error:
            return fail(str(error))
    if args.json:
        key = "group" if args.group else "slug"
        write_json({key: args.group or args.slug, "delete_protection": on, "before": before})
    state = "delete-protected" if on else "no longer delete-protected"
    note(f"{what} is {state}" + (" (unchanged)" if before == on else ""))
    return OK


@command
async def run_deleted(args: argparse.Namespace) -> int:
    """`tenants deleted`: what `tenants undelete` can bring back."""
    async with open_workspace(args) as workspace:
        try:
            found = await list_deleted(workspace)
        except ProvisionError as error:
            return fail(str(error))
    records: list[dict[str, Any]] = [d.as_json() for d in found]
    if args.json:
        write_json(records)
    elif not records:
        note("no deleted tenants can be restored")
    else:
        write_table(
            ["slug", "where", "deleted at", "until", "group"],
            [
                [r["slug"], r["where"], r["deleted_at"] or "", r["expires"] or "", r["group"] or ""]
                for r in records
            ],
        )
    return OK


@command
async def run_undelete(args: argparse.Namespace) -> int:
    """`tenants undelete SLUG`."""
    async with open_workspace(args) as workspace:
        note(f"undeleting tenant {args.slug}")
        try:
            tenant = await undelete_tenant(
                workspace, args.slug, name=args.name, progress=show_progress
            )
        except ProvisionError as error:
            return fail(str(error))
        remember_secret(tenant.token)
    if args.json:
        write_json({"slug": tenant.slug, "name": tenant.name, "url": tenant.url})
    note(f"undeleted tenant {tenant.slug}: {tenant.url}")
    return OK
