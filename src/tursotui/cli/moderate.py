"""`tursotui publish|archive|draft`, `tursotui comments delete` and `tursotui undo`.

The command-line twins of the moderation keys: the same guarded writes
(`tenant.moderation`), the same audit log, the same undo (`tenant.undo`). A post is
moved only from the status it had when the command read it, so a post changed in
between is a conflict, left alone. Deleting and undoing ask first on a terminal and,
when stdin is not one, refuse unless `--yes` is given.

Exit status: 0 when everything asked was done (or already so), 1 when something was
left alone (a conflict, an id not found) or failed, 2 for a usage error.

`comments delete` shares the word `comments` with the command that lists comments:
`hook_comments_delete` makes `comments delete SLUG ID...` reach the delete, whatever
module registered `comments`, and `comments SLUG` stay the listing.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tursotui.cli.common import (
    FAILED,
    OK,
    add_settings_arguments,
    command,
    fail,
    note,
    open_workspace,
    printable,
    write_json,
)
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.workspace import Workspace
from tursotui.tenant import moderation
from tursotui.tenant.undo import (
    READ_ONLY,
    History,
    UndoError,
    UndoOutcome,
    describe_plan,
    undo_entries,
)
from tursotui.words import plural

STATUS_OF = {"publish": "published", "archive": "archived", "draft": "draft"}
PAST = {"publish": "published", "archive": "archived", "draft": "moved to draft"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `publish`, `archive`, `draft`, `undo`, and `delete` under `comments`."""
    for verb, status in STATUS_OF.items():
        parser = subparsers.add_parser(
            verb,
            help=f"set posts' status to {status} (guarded, audited)",
            description=f"Set the status of posts of one tenant to {status}. Each post is "
            "moved only from the status it has when the command reads it: a post changed in "
            "between is a conflict and is left alone. Recorded in the audit log; undo with "
            "`tursotui undo`.",
        )
        parser.add_argument("slug", metavar="SLUG", help="the tenant")
        parser.add_argument("post_ids", metavar="POST_ID", nargs="+", help="the posts' ids")
        _common(parser)
        parser.set_defaults(handler=run_status, verb=verb)

    undo = subparsers.add_parser(
        "undo",
        help="undo a moderation write from the audit log",
        description="Undo an audit log entry (or every entry of a multi-tenant action, by "
        "its group id): only rows still as the write left them are put back; others are "
        "reported as conflicts and left alone. Without an id: the newest entry of this "
        "operator that can still be undone. Asks first on a terminal; needs --yes otherwise.",
    )
    undo.add_argument(
        "audit_id",
        metavar="AUDIT_ID",
        nargs="?",
        help="an entry id or group id, or a unique start of one (see `tursotui audit`)",
    )
    undo.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _common(undo)
    undo.set_defaults(handler=run_undo)

    hook_comments_delete(subparsers)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", help="why (kept in the audit log)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_settings_arguments(parser)


def _delete_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tursotui comments delete",
        description="Delete comments of one tenant by id, in one transaction. The full rows "
        "are kept in the audit log, so `tursotui undo` can put them back. Asks first on a "
        "terminal; needs --yes otherwise.",
    )
    parser.add_argument("slug", metavar="SLUG", help="the tenant")
    parser.add_argument("comment_ids", metavar="COMMENT_ID", nargs="+", help="the comments' ids")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _common(parser)
    parser.set_defaults(handler=run_delete_comments)
    return parser


def hook_comments_delete(subparsers: argparse._SubParsersAction) -> None:
    """Make `comments delete SLUG ID...` reach `run_delete_comments`.

    The listing `comments SLUG` belongs to another module. Whichever registers first,
    its parser is kept and only an argument list starting with `delete` is handed to
    the delete's own parser. Until the listing is registered, a `comments` command of
    this module's own holds the delete alone; it gives way to the listing's when that
    is added later (the order of the command modules does not matter).
    """
    delete = _delete_parser()
    comments = subparsers.choices.get("comments")
    if comments is not None:
        _attach(comments, delete)
        return
    placeholder = subparsers.add_parser(
        "comments",
        help="delete comments (`comments delete SLUG COMMENT_ID...`)",
        description="`tursotui comments delete SLUG COMMENT_ID... [--yes] [--reason R]`",
    )
    placeholder.add_argument("word", metavar="delete", choices=["delete"])
    placeholder.set_defaults(handler=None)
    _attach(placeholder, delete)
    add_parser = subparsers.add_parser

    def add_parser_later(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if name != "comments" or subparsers.choices.get("comments") is not placeholder:
            return add_parser(name, **kwargs)
        # The listing arrives: it takes the word, and the delete hooks into it.
        del subparsers._name_parser_map["comments"]
        subparsers._choices_actions = [
            action for action in subparsers._choices_actions if action.dest != "comments"
        ]
        parser = add_parser(name, **kwargs)
        _attach(parser, delete)
        return parser

    # Replaced on this one action, so the listing's later `add_parser` finds the word free.
    subparsers.add_parser = add_parser_later  # type: ignore[method-assign]


def _attach(comments: argparse.ArgumentParser, delete: argparse.ArgumentParser) -> None:
    """Hand `comments delete …` to `delete`, anything else to `comments` as before."""
    listing_parse = comments.parse_known_args

    def parse_known_args(
        args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args and args[0] == "delete":
            return delete.parse_known_args(args[1:], namespace)
        return listing_parse(args, namespace)

    # Replaced on this one parser: argparse hands a subcommand its arguments through it.
    comments.parse_known_args = parse_known_args  # type: ignore[method-assign, assignment]
    comments.epilog = (
        (comments.epilog + "\n\n" if comments.epilog else "")
        + "comments delete SLUG COMMENT_ID... [--yes] [--reason R] [--json]: delete comments "
        "(see `tursotui comments delete --help`)"
    )


# -- helpers ---------------------------------------------------------------------------


async def _tenant(workspace: Workspace, slug: str) -> Tenant:
    for tenant in await workspace.registry.tenants():
        if tenant.slug == slug:
            return tenant
    raise RegistryError(f"no tenant {slug!r} in the registry")


def _ask(question: str) -> bool:
    """Ask on the terminal (stderr), yes only for y/yes."""
    print(question + " [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


# -- publish / archive / draft ----------------------------------------------------------


@command
async def run_status(args: argparse.Namespace) -> int:
    """`publish|archive|draft SLUG POST_ID...`."""
    new_status = STATUS_OF[args.verb]
    ids = list(dict.fromkeys(args.post_ids))
    async with open_workspace(args) as workspace:
        if workspace.settings.read_only:
            return fail(f"read-only mode: writes are refused; nothing was {PAST[args.verb]}")
        tenant = await _tenant(workspace, args.slug)
        conn = await workspace.connection(tenant)
        found = await moderation.fetch_posts_by_id(conn, ids)
        missing = [i for i in ids if i not in found]
        result = await moderation.set_status(
            conn,
            workspace.audit,
            tenant.slug,
            [(i, found[i].status) for i in ids if i in found],
            new_status,
            reason=args.reason,
        )
        audit_id = workspace.audit.finished[-1] if result.changed or result.conflicts else None
    if args.json:
        write_json(
            {
                "tenant": tenant.slug,
                "action": args.verb,
                "changed": result.changed,
                "unchanged": result.unchanged,
                "conflicts": result.conflicts,
                "not_found": missing,
                "audit_id": audit_id,
            }
        )
    if result.changed:
        note(f"{PAST[args.verb]} {plural(len(result.changed), 'post')} on {tenant.slug}")
    if result.unchanged:
        note(f"{plural(len(result.unchanged), 'post')} already {new_status}: nothing written")
    if result.conflicts:
        note(
            f"{plural(len(result.conflicts), 'post')} changed meanwhile, left alone: "
            + ", ".join(printable(i) for i in result.conflicts)
        )
    if missing:
        note(f"not found on {tenant.slug}: " + ", ".join(printable(i) for i in missing))
    return FAILED if result.conflicts or missing else OK


# -- comments delete ----------------------------------------------------------------------


@command
async def run_delete_comments(args: argparse.Namespace) -> int:
    """`comments delete SLUG COMMENT_ID...`."""
    ids = list(dict.fromkeys(args.comment_ids))
    if not args.yes and not sys.stdin.isatty():
        return fail(
            f"deleting {plural(len(ids), 'comment')} of {args.slug} needs a confirmation; "
            "add --yes (stdin is not a terminal)"
        )
    async with open_workspace(args) as workspace:
        if workspace.settings.read_only:
            return fail("read-only mode: writes are refused; nothing was deleted")
        tenant = await _tenant(workspace, args.slug)
        conn = await workspace.connection(tenant)
        if not args.yes:
            shown = await _previews(conn, ids)
            for comment_id in ids:
                preview = shown.get(comment_id)
                text = "(not found)" if preview is None else printable(preview, 70)
                print(f"  {printable(comment_id, 40)}  {text}", file=sys.stderr)
            if not _ask(f"Delete {plural(len(ids), 'comment')} on {tenant.slug}?"):
                return fail("not confirmed; nothing was deleted")
        result = await moderation.delete_comments(
            conn, workspace.audit, tenant.slug, ids, reason=args.reason
        )
        audit_id = workspace.audit.finished[-1]
    if args.json:
        write_json(
            {
                "tenant": tenant.slug,
                "action": "delete-comment",
                "deleted": result.changed,
                "not_found": result.conflicts,
                "audit_id": audit_id,
            }
        )
    note(
        f"deleted {plural(len(result.changed), 'comment')} on {tenant.slug} "
        f"(undo: tursotui undo {audit_id})"
    )
    if result.conflicts:
        note("not found: " + ", ".join(printable(i) for i in result.conflicts))
    return FAILED if result.conflicts else OK


async def _previews(conn: Any, ids: list[str]) -> dict[str, Any]:
    marks = ", ".join("?" for _ in ids)
    found = await conn.execute(
        f"SELECT id, {moderation.preview_sql('content', 200)} FROM comments WHERE id IN ({marks})",
        list(ids),
    )
    return {str(row[0]): row[1] for row in found.rows}


# -- undo --------------------------------------------------------------------------------


def outcome_record(outcome: UndoOutcome) -> dict[str, Any]:
    """One undone entry as `undo --json` prints it."""
    return {
        "entry": outcome.entry.id,
        "tenant": outcome.entry.tenant,
        "action": outcome.entry.action,
        "reverted": outcome.reverted,
        "conflicts": outcome.conflicts,
        "error": outcome.error,
        "skipped": outcome.skipped,
        "undo_id": outcome.undo_id,
    }


@command
async def run_undo(args: argparse.Namespace) -> int:
    """`undo [AUDIT_ID]`."""
    async with open_workspace(args) as workspace:
        if workspace.settings.read_only:
            return fail(READ_ONLY)
        history = History.read(workspace.audit)
        for problem in workspace.audit.problems():
            note(f"warning: {problem}")
        if args.audit_id:
            entries = history.find(args.audit_id)
        else:
            latest = history.latest_action(operator=workspace.settings.operator)
            if latest is None:
                return fail(
                    f"nothing to undo: no write of {workspace.settings.operator} in the "
                    "audit log can still be undone"
                )
            entries = latest
        refused = [why for e in entries if (why := history.refusal(e)) is not None]
        if len(refused) == len(entries):
            raise UndoError(f"audit entry {entries[0].id} cannot be undone: {refused[0]}")
        plan = describe_plan([e for e in entries if history.refusal(e) is None])
        if not args.yes:
            if not sys.stdin.isatty():
                return fail("an undo writes to the tenants; add --yes (stdin is not a terminal)")
            print(printable_lines(plan), file=sys.stderr)
            if not _ask("Undo this?"):
                return fail("not confirmed; nothing was undone")
        outcomes = await undo_entries(workspace, entries, reason=args.reason)
    if args.json:
        write_json([outcome_record(o) for o in outcomes])
    for outcome in outcomes:
        note(outcome.summary)
    return OK if all(o.ok for o in outcomes) else FAILED


def printable_lines(text: str) -> str:
    """Each line of `text` made safe for a terminal (it quotes the audit log)."""
    return "\n".join(printable(line) for line in text.splitlines())
