"""`tursotui tenants protect|deleted|undelete|branch|diff|restore|group-token|usage`.

The tenant lifecycle beyond create and destroy: delete protection, bringing a
deleted tenant back, point-in-time branches (compare and restore rows from
them), the group's token, and usage. `register(tenant_subparsers)` is called by
`tursotui.cli.tenants`. Every write is audited and refused in read-only
sessions; progress goes to stderr, data (and `--json`) to stdout.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from tursotui.cli.common import (
    FAILED,
    OK,
    add_settings_arguments,
    command,
    fail,
    note,
    open_workspace,
    printable,
    remember_secret,
    write_json,
    write_table,
)
from tursotui.cli.provision import show_progress
from tursotui.provision import ProvisionError

if TYPE_CHECKING:
    from tursotui.provision.branch import Diff

# Branches, group tokens, undelete and usage are imported by the command that uses them:
# `tursotui tenants` (this module registers its subcommands) starts without them.


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

    branch = subparsers.add_parser(
        "branch",
        help="make a new tenant holding SLUG as it was at a time (a point-in-time branch)",
        description=(
            "Create tenant NEW_SLUG as a copy of SLUG as it was at --at (default: now): through "
            "the Platform API a database seeded from SLUG at that time; for a local tenant, the "
            "newest `tursotui backup` of it not after that time. The branch is registered like "
            "any tenant (destroy it with `tenants destroy NEW_SLUG`) and recorded as a branch of "
            "SLUG in <data dir>/branches.json. A failure deletes the branch again."
        ),
    )
    branch.add_argument("slug", help="the tenant to branch")
    branch.add_argument("new_slug", help="the branch's slug")
    branch.add_argument(
        "--at", metavar="TIME", help="ISO 8601 time, e.g. 2026-12-05T14:00:00Z (no zone: UTC)"
    )
    branch.add_argument("--json", action="store_true", help="print the branch as JSON")
    add_settings_arguments(branch)
    branch.set_defaults(handler=run_branch)

    diff = subparsers.add_parser(
        "diff",
        help="posts and comments that differ between a tenant and its branch",
        description=(
            "Compare the posts and comments of SLUG (live) with BRANCH: added since (only live), "
            "removed since (only in the branch), changed (each column, branch -> live). Reads only."
        ),
    )
    diff.add_argument("slug", help="the live tenant")
    diff.add_argument("branch", help="the branch (or any tenant) to compare with")
    diff.add_argument("--json", action="store_true", help="print the differences as JSON")
    add_settings_arguments(diff)
    diff.set_defaults(handler=run_diff)

    restore = subparsers.add_parser(
        "restore",
        help="put chosen posts and comments of a branch back into the live tenant",
        description=(
            "Write the chosen rows of BRANCH back into SLUG in one batch: a removed row is "
            "inserted, a changed one set back, an added one deleted. Each row is guarded: if its "
            "live state is no longer what the comparison showed, nothing is written. Audited."
        ),
    )
    restore.add_argument("slug", help="the live tenant")
    restore.add_argument(
        "--from", dest="branch", required=True, help="the branch to take rows from"
    )
    restore.add_argument("--post", action="append", default=[], metavar="ID", help="a post id")
    restore.add_argument(
        "--comment", action="append", default=[], metavar="ID", help="a comment id"
    )
    restore.add_argument("--all", action="store_true", help="every post and comment that differs")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.add_argument("--json", action="store_true", help="print the restored rows as JSON")
    add_settings_arguments(restore)
    restore.set_defaults(handler=run_restore, parser=restore)

    mint = subparsers.add_parser(
        "group-token",
        help="mint a token for every database of a Turso group (printed on stdout)",
        description=(
            "Mint a token that opens every database of GROUP (Platform API). The token is "
            "printed on stdout only (for TURSO_GROUP_AUTH_TOKEN or a secret store), never in "
            "messages or the audit log."
        ),
    )
    mint.add_argument("group", help="the Turso group")
    mint.add_argument("--expiration", default="never", help="e.g. 2w1d30m (default: never)")
    mint.add_argument("--read-only-token", action="store_true", help="a read-only token")
    mint.add_argument("--json", action="store_true", help='print {"group": ..., "jwt": ...}')
    add_settings_arguments(mint)
    mint.set_defaults(handler=run_group_token)

    rotate = subparsers.add_parser(
        "rotate-group-token",
        help="invalidate every token of a Turso group (says which tenants need a new one)",
        description=(
            "Invalidate every token of every database in GROUP. The confirmation says how many "
            "tenants are affected and which registry rows will need a new token; --rekey mints "
            "and stores those right after (each checked with a query). Type the group's name "
            "to confirm unless --yes is given."
        ),
    )
    rotate.add_argument("group", help="the Turso group")
    rotate.add_argument("--rekey", action="store_true", help="store new tokens in the rows")
    rotate.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rotate.add_argument("--json", action="store_true", help="print what was affected as JSON")
    add_settings_arguments(rotate)
    rotate.set_defaults(handler=run_rotate_group)

    usage = subparsers.add_parser(
        "usage",
        help="rows read and written, storage and top queries per tenant (who costs the most)",
        description=(
            "This month's rows read and written and storage of each tenant, with its top "
            "queries (Platform API: the database's usage and stats), most rows read first; a "
            "top query on a table lacking an index the screens rely on says so. Self-hosted "
            "sqld tenants: its admin API (TURSOTUI_SQLD_ADMIN_URL). Local tenants: the file's "
            "size, pages and free pages. Reads only."
        ),
    )
    usage.add_argument("slugs", nargs="*", metavar="SLUG", help="tenants (default: all)")
    usage.add_argument("--json", action="store_true", help="print a JSON array on stdout")
    add_settings_arguments(usage)
    usage.set_defaults(handler=run_usage)


@command
async def run_protect(args: argparse.Namespace) -> int:
    """`tenants protect SLUG [--off]` or `tenants protect --group GROUP [--off]`."""
    from tursotui.provision.protect import set_group_protection, set_protection

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
    from tursotui.provision.undelete import list_deleted, local_deleted

    problem = None
    async with open_workspace(args) as workspace:
        try:
            found = await list_deleted(workspace)
        except ProvisionError as error:
            # The local trash is still worth listing when the organization cannot answer.
            problem, found = str(error), local_deleted(workspace.settings)
    records: list[dict[str, Any]] = [d.as_json() for d in found]
    if args.json:
        write_json(records)
    elif not records and problem is None:
        note("no deleted tenants can be restored")
    else:
        write_table(
            ["slug", "where", "deleted at", "until", "group"],
            [
                [r["slug"], r["where"], r["deleted_at"] or "", r["expires"] or "", r["group"] or ""]
                for r in records
            ],
        )
    return fail(problem) if problem else OK


@command
async def run_undelete(args: argparse.Namespace) -> int:
    """`tenants undelete SLUG`."""
    from tursotui.provision.undelete import undelete_tenant

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


@command
async def run_branch(args: argparse.Namespace) -> int:
    """`tenants branch SLUG NEW_SLUG [--at TIME]`."""
    from tursotui.provision.branch import branch_tenant, parse_time

    try:
        at = parse_time(args.at) if args.at else None
    except ProvisionError as error:
        return fail(str(error))
    async with open_workspace(args) as workspace:
        note(f"branching tenant {args.slug} as {args.new_slug}")
        try:
            tenant = await branch_tenant(
                workspace, args.slug, args.new_slug, at=at, progress=show_progress
            )
        except ProvisionError as error:
            return fail(str(error))
        remember_secret(tenant.token)
    if args.json:
        write_json({"slug": tenant.slug, "name": tenant.name, "url": tenant.url, "of": args.slug})
    note(f"branched tenant {args.slug} as {tenant.slug}: {tenant.url}")
    return OK


def _value(value: Any) -> str:
    return printable(value, 40)


def diff_lines(diff: Diff) -> list[str]:
    """The comparison as lines for people: `- posts p1 (removed) title='...'`."""
    lines = []
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for change in diff.changes:
        head = f"{marks[change.kind]} {change.table} {change.id} ({change.kind})"
        if change.kind == "changed":
            before, after = change.before or {}, change.after or {}
            parts = [
                f"{c}: {_value(before.get(c))} -> {_value(after.get(c))}" for c in change.columns
            ]
            lines.append(f"{head} " + "; ".join(parts))
        else:
            row = change.before or change.after or {}
            label = row.get("title", row.get("content"))
            lines.append(f"{head} {_value(label)}")
    return lines


@command
async def run_diff(args: argparse.Namespace) -> int:
    """`tenants diff SLUG BRANCH`."""
    from tursotui.provision.branch import diff_tenant

    async with open_workspace(args) as workspace:
        try:
            diff = await diff_tenant(workspace, args.slug, args.branch)
        except ProvisionError as error:
            return fail(str(error))
    if args.json:
        write_json([c.as_json() for c in diff.changes])
        return OK
    for line in diff_lines(diff):
        print(line)
    counts = {
        k: sum(1 for c in diff.changes if c.kind == k) for k in ("added", "removed", "changed")
    }
    note(
        f"{args.slug} since {args.branch}: {counts['added']} added, {counts['removed']} removed, "
        f"{counts['changed']} changed"
    )
    return OK


@command
async def run_restore(args: argparse.Namespace) -> int:
    """`tenants restore SLUG --from BRANCH (--post ID | --comment ID)... | --all`."""
    from tursotui.provision.branch import Diff, RowChange, diff_tenant, restore_rows

    if not (args.post or args.comment or args.all):
        args.parser.error("choose rows with --post ID / --comment ID, or give --all")
    async with open_workspace(args) as workspace:
        if workspace.settings.read_only:
            return fail(f"cannot restore rows into {args.slug}: tursotui is in read-only mode")
        try:
            diff = await diff_tenant(workspace, args.slug, args.branch)
            posts, comments = list(args.post), list(args.comment)
            if args.all:
                posts = [c.id for c in diff.changes if c.table == "posts"]
                comments = [c.id for c in diff.changes if c.table == "comments"]
            chosen = Diff(
                diff.slug,
                diff.branch,
                [
                    c
                    for c in diff.changes
                    if (c.table == "posts" and c.id in posts)
                    or (c.table == "comments" and c.id in comments)
                ],
            )
            if not args.yes:
                if not sys.stdin.isatty():
                    return fail(f"restoring rows into {args.slug} changes it; add --yes to confirm")
                for line in diff_lines(chosen):
                    print(line, file=sys.stderr)
                print(
                    f"Restore these rows of {args.branch} into {args.slug}? [y/N] ",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
                if sys.stdin.readline().strip().lower() not in {"y", "yes"}:
                    return fail("not confirmed; nothing was changed")
            restored: list[RowChange] = await restore_rows(
                workspace, diff, posts=posts, comments=comments
            )
        except ProvisionError as error:
            return fail(str(error))
    if args.json:
        write_json([c.as_json() for c in restored])
    note(f"restored {len(restored)} rows of {args.branch} into {args.slug}")
    return OK


@command
async def run_group_token(args: argparse.Namespace) -> int:
    """`tenants group-token GROUP [--expiration E] [--read-only-token]`."""
    from tursotui.provision.group_tokens import mint_group_token

    async with open_workspace(args) as workspace:
        try:
            token = await mint_group_token(
                workspace,
                args.group,
                expiration=args.expiration,
                read_only=args.read_only_token,
            )
        except ProvisionError as error:
            return fail(str(error))
    remember_secret(token)
    kind = "read-only" if args.read_only_token else "full-access"
    if args.json:
        write_json({"group": args.group, "authorization": kind, "jwt": token.get_secret_value()})
    else:
        print(token.get_secret_value())  # the one place it is shown: stdout, as asked
    note(f"minted a {kind} token for group {args.group} (expires: {args.expiration})")
    return OK


@command
async def run_rotate_group(args: argparse.Namespace) -> int:
    """`tenants rotate-group-token GROUP [--rekey] [--yes]`."""
    from tursotui.provision.group_tokens import group_impact, rotate_group_tokens

    async with open_workspace(args) as workspace:
        if workspace.settings.read_only:
            return fail(
                f"cannot rotate the tokens of group {args.group}: tursotui is in read-only mode"
            )
        try:
            impact = await group_impact(workspace, args.group)
            if not args.yes:
                if not sys.stdin.isatty():
                    note(impact.summary())
                    return fail(
                        f"rotating the tokens of group {args.group} invalidates them all; "
                        "add --yes to confirm"
                    )
                print(impact.summary(), file=sys.stderr)
                print("Type the group's name to confirm: ", end="", file=sys.stderr, flush=True)
                if sys.stdin.readline().strip() != args.group:
                    return fail("not confirmed; nothing was changed")
            outcome = await rotate_group_tokens(workspace, args.group, rekey=args.rekey)
        except ProvisionError as error:
            return fail(str(error))
    if args.json:
        write_json(
            outcome.impact.as_json() | {"rekeyed": outcome.rekeyed, "failed": outcome.failed}
        )
    note(f"rotated the tokens of group {args.group}")
    needing = [s for s in outcome.impact.stored if s not in outcome.rekeyed]
    if needing:
        note(
            "registry rows that need a new token: "
            + ", ".join(needing)
            + " (tursotui tenants rotate-token SLUG, or --rekey)"
        )
    for slug, why in outcome.failed.items():
        note(f"  FAILED {slug}: {why}")
    return FAILED if outcome.failed else OK


@command
async def run_usage(args: argparse.Namespace) -> int:
    """`tenants usage [SLUG...]`."""
    from tursotui.provision.usage import tenant_usage

    async with open_workspace(args) as workspace:
        tenants = await workspace.registry.tenants()
        if args.slugs:
            unknown = [s for s in args.slugs if s not in {t.slug for t in tenants}]
            if unknown:
                return fail(f"no tenant {', '.join(unknown)} in the registry")
            tenants = [t for t in tenants if t.slug in args.slugs]
        found = await tenant_usage(workspace, tenants)
    if args.json:
        write_json([u.as_json() for u in found])
        return OK

    def number(value: int | None) -> str:
        return "" if value is None else f"{value:,}"

    write_table(
        ["slug", "where", "rows read", "rows written", "storage", "top query", "advice"],
        [
            [
                u.slug,
                u.where,
                number(u.rows_read),
                number(u.rows_written),
                number(u.storage_bytes),
                u.top_queries[0]["query"] if u.top_queries else (u.error or ""),
                "; ".join(u.top_queries[0]["advice"]) if u.top_queries else "",
            ]
            for u in found
        ],
        max_width=48,
    )
    return OK
