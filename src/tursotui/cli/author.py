"""`tursotui author SLUG EMAIL_OR_ID [--json]` and
`tursotui author purge (SLUG ... | --all) EMAIL [--comments] [--posts archive|draft] [--dry-run]
[--yes] [--reason R]`.

The first prints who the author is on a tenant (summary, newest posts and comments). The
second deletes an author's comments and/or archives (or moves back to draft) their posts,
one transaction per tenant, audited like the author screen's purge. It asks on a
terminal (the email typed above `TYPED_CONFIRM_ROWS` rows) and refuses without `--yes`
when stdin is not a terminal. Exit status 1 when any tenant failed.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime
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
    write_table,
)
from tursotui.fleet.authors import (
    READ_ONLY,
    TYPED_CONFIRM_ROWS,
    PurgeOutcome,
    TenantPlan,
    author_on,
    plan_everywhere,
    purge_everywhere,
)
from tursotui.session.registry import Tenant
from tursotui.session.workspace import Workspace
from tursotui.tenant.authors import (
    AuthorSummary,
    PurgePlan,
    fetch_author_comments,
    fetch_author_posts,
)
from tursotui.words import plural

POSTS_TO = {"archive": "archived", "draft": "draft"}
USAGE = (
    "tursotui author SLUG EMAIL_OR_ID [--json] [--limit N]\n"
    "       tursotui author purge (SLUG ... | --all) EMAIL [--comments] "
    "[--posts archive|draft] [--dry-run] [--yes] [--reason R] [--json]"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `author` command (show, and `author purge`)."""
    parser = subparsers.add_parser(
        "author",
        help="show an author on a tenant, or purge their comments and posts",
        usage=USAGE,
        description=(
            "`author SLUG EMAIL_OR_ID` shows the author on that tenant (the email matches in "
            "any case): name, email, first and last activity, posts by status, comment count, "
            "newest posts and comments. `author purge` deletes all their comments "
            "(--comments) and/or archives or moves back to draft all their posts (--posts) on "
            "the tenants named or on every tenant (--all): one transaction per tenant, "
            "audited. It asks first on a terminal (above "
            f"{TYPED_CONFIRM_ROWS} rows, for the email typed); without a terminal it needs "
            "--yes. Exit status 1 if any tenant failed."
        ),
    )
    # The words go on unparsed (REMAINDER) and are parsed again, intermixed, by `_parse`:
    # `purge --all EMAIL --comments` puts an option between positionals, which one argparse
    # pass cannot take.
    parser.add_argument("words", nargs=argparse.REMAINDER, metavar="ARG", help=argparse.SUPPRESS)
    _options(parser)
    add_settings_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--limit", type=int, default=10, metavar="N", help="newest posts and comments shown"
    )
    parser.add_argument("--all", action="store_true", help="purge: on every tenant")
    parser.add_argument("--comments", action="store_true", help="purge: delete their comments")
    parser.add_argument(
        "--posts", choices=sorted(POSTS_TO), help="purge: archive their posts, or move to draft"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="purge: print the counts, change nothing"
    )
    parser.add_argument("--yes", action="store_true", help="purge: do not ask")
    parser.add_argument("--reason", metavar="R", help="purge: why, kept in the audit log")


def _parse(args: argparse.Namespace) -> argparse.Namespace:
    """The command's arguments, options allowed anywhere among the words."""
    inner = argparse.ArgumentParser(prog="tursotui author", usage=USAGE)
    inner.add_argument("words", nargs="+", metavar="ARG")
    _options(inner)
    add_settings_arguments(inner)
    parsed = inner.parse_intermixed_args(args.words)
    for name, value in vars(args).items():
        if name != "words" and value and not getattr(parsed, name, None):
            setattr(parsed, name, value)  # given before the words
    parsed.parser = inner
    return parsed


@command
async def run(args: argparse.Namespace) -> int:
    """Show or purge; see the module's docstring."""
    args = _parse(args)
    words: list[str] = args.words
    if words[0] == "purge":
        return await _purge(args, words[1:])
    if len(words) != 2 or args.all or args.comments or args.posts or args.dry_run:
        args.parser.error("show an author with: author SLUG EMAIL_OR_ID (purge: author purge ...)")
    return await _show(args, words[0], words[1])


def _time(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M")
        except (OverflowError, OSError, ValueError):
            pass
    return value


async def _tenant(workspace: Workspace, slug: str) -> Tenant | None:
    return next((t for t in await workspace.registry.tenants() if t.slug == slug), None)


async def _show(args: argparse.Namespace, slug: str, who: str) -> int:
    async with open_workspace(args) as workspace:
        tenant = await _tenant(workspace, slug)
        if tenant is None:
            return fail(f"no tenant {slug} in the registry")
        answer = await author_on(workspace, tenant, who)
        if answer.error is not None:
            return fail(answer.error)
        if answer.summary is None:
            return fail(f"{slug}: no author {who} (by email, in any case, or by user id)")
        summary = answer.summary
        conn = await workspace.connection(tenant)
        limit = max(0, args.limit)
        posts = (await fetch_author_posts(conn, summary.author, limit=limit)).posts if limit else []
        comments = (
            (await fetch_author_comments(conn, summary.author, limit=limit)).comments
            if limit
            else []
        )
    if args.json:
        write_json(
            {
                **_summary_record(slug, summary),
                "posts": [
                    {
                        "id": p.id,
                        "title": p.title,
                        "status": p.status,
                        "published_at": p.published_at,
                    }
                    for p in posts
                ],
                "comments": [
                    {
                        "id": c.id,
                        "content": c.content,
                        "post_id": c.post_id,
                        "post_title": c.post_title,
                        "created_at": c.created_at,
                    }
                    for c in comments
                ],
            }
        )
        return OK
    record = _summary_record(slug, summary)
    write_table(
        ["tenant", "name", "email", "first", "last", "posts", "comments"],
        [
            [
                slug,
                summary.author.name,
                summary.author.email,
                _time(summary.first_activity) or "-",
                _time(summary.last_activity) or "-",
                _by_status(record["posts_by_status"]),
                summary.comments,
            ]
        ],
    )
    if posts:
        print()
        write_table(
            ["post", "status", "published", "title"],
            [[p.id, p.status, _time(p.published_at) or "-", p.title] for p in posts],
        )
    if comments:
        print()
        write_table(
            ["comment", "created", "on post", "content"],
            [[c.id, _time(c.created_at) or "-", c.post_title, c.content] for c in comments],
        )
    return OK


def _by_status(counts: dict[str, int]) -> str:
    return ", ".join(f"{status or 'NULL'} {n}" for status, n in sorted(counts.items())) or "0"


def _summary_record(slug: str, summary: AuthorSummary) -> dict[str, Any]:
    return {
        "tenant": slug,
        "user_ids": list(summary.author.ids),
        "name": summary.author.name,
        "email": summary.author.email,
        "first_activity": summary.first_activity,
        "last_activity": summary.last_activity,
        "posts_by_status": summary.posts,
        "post_count": summary.post_count,
        "comment_count": summary.comments,
    }


async def _purge(args: argparse.Namespace, words: list[str]) -> int:
    parser: argparse.ArgumentParser = args.parser
    if not words:
        parser.error("author purge needs the tenants (or --all) and the EMAIL")
    email, slugs = words[-1], words[:-1]
    if bool(slugs) == bool(args.all):
        parser.error("name the tenants to purge on, or give --all (not both)")
    if not args.comments and not args.posts:
        parser.error("say what to purge: --comments, --posts archive|draft, or both")
    posts_to = POSTS_TO[args.posts] if args.posts else None
    async with open_workspace(args) as workspace:
        if workspace.settings.read_only and not args.dry_run:
            return fail(READ_ONLY)
        tenants = await workspace.registry.tenants()
        if not args.all:
            by_slug = {t.slug: t for t in tenants}
            unknown = [s for s in slugs if s not in by_slug]
            if unknown:
                return fail(f"no tenant {', '.join(unknown)} in the registry")
            tenants = [by_slug[s] for s in dict.fromkeys(slugs)]
        if not tenants:
            return fail("the registry has no tenants")
        note(f"reading {email} on {plural(len(tenants), 'tenant')}")
        answers: list[TenantPlan] = [
            answer
            async for answer in plan_everywhere(
                workspace, tenants, email, delete_comments=args.comments, posts_to=posts_to
            )
        ]
        order = {t.slug: i for i, t in enumerate(tenants)}
        answers.sort(key=lambda a: order[a.tenant.slug])
        plans = [(a.tenant, a.plan) for a in answers if a.plan is not None and not a.plan.empty]
        unread = [a for a in answers if a.error is not None]
        rows = sum(plan.rows for _, plan in plans)
        if args.dry_run or not plans:
            if args.json:
                write_json(_plan_record(email, answers, dry_run=True))
            else:
                _print_plans(answers)
                note(
                    f"{'dry run: ' if args.dry_run else ''}"
                    f"{_totals([p for _, p in plans])} on {plural(len(plans), 'tenant')}"
                    + ("" if args.dry_run else "; nothing to do")
                )
            return FAILED if unread else OK
        if not args.yes:
            if not sys.stdin.isatty():
                return fail(
                    f"purging {email} changes {plural(rows, 'row')} on "
                    f"{plural(len(plans), 'tenant')}; add --yes to confirm (or --dry-run)"
                )
            _print_plans(answers, out=sys.stderr)
            if not _confirmed(email, [p for _, p in plans], rows):
                return fail("not confirmed; nothing was changed")
        group = str(uuid.uuid4())
        outcomes: list[PurgeOutcome] = []
        async for outcome in purge_everywhere(workspace, plans, reason=args.reason, group=group):
            outcomes.append(outcome)
            if not args.json:
                note(f"  {outcome.state:<8} {outcome.tenant.slug}: {outcome.describe()}")
    outcomes.sort(key=lambda o: order[o.tenant.slug])
    failed = [o for o in outcomes if o.state == "failed"]
    if args.json:
        record = _plan_record(email, answers, dry_run=False)
        record["group"] = group
        done_on = {o.tenant.slug: o for o in outcomes}
        for item in record["tenants"]:
            if item["tenant"] in done_on:
                item.update(_outcome_record(done_on[item["tenant"]]))
        write_json(record)
    else:
        done = len(outcomes) - len(failed)
        note(
            f"purged {email}: {done} of {plural(len(outcomes), 'tenant')} done"
            + (f", {len(failed)} failed" if failed else "")
            + (f", {len(unread)} could not be read" if unread else "")
            + f" (audit group {group})"
        )
    return FAILED if failed or unread else OK


def _totals(plans: list[PurgePlan]) -> str:
    comments = sum(p.comments for p in plans)
    posts = sum(len(p.posts) for p in plans)
    return f"{plural(comments, 'comment')} to delete, {plural(posts, 'post')} to move"


def _print_plans(answers: list[TenantPlan], out: Any = None) -> None:
    table = []
    for answer in answers:
        if answer.error is not None:
            table.append([answer.tenant.slug, "-", "-", f"cannot read: {answer.error}"])
        elif answer.plan is None:
            table.append([answer.tenant.slug, "-", "-", "not an author here"])
        else:
            plan = answer.plan
            target = f" → {plan.posts_to}" if plan.posts_to else ""
            table.append([answer.tenant.slug, str(plan.comments), f"{len(plan.posts)}{target}", ""])
    write_table(["tenant", "comments", "posts", "note"], table, out or sys.stdout)


def _confirmed(email: str, plans: list[PurgePlan], rows: int) -> bool:
    """Ask on the terminal; above the threshold, the email must be typed."""
    what = f"{_totals(plans)} on {plural(len(plans), 'tenant')}"
    if rows > TYPED_CONFIRM_ROWS:
        prompt = f"This purges {printable(email)}: {what}.\nType the email to confirm: "
        print(prompt, end="", file=sys.stderr, flush=True)
        return sys.stdin.readline().strip().lower() == email.strip().lower()
    print(f"Purge {printable(email)}: {what}? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _plan_record(email: str, answers: list[TenantPlan], *, dry_run: bool) -> dict[str, Any]:
    tenants = []
    for answer in answers:
        item: dict[str, Any] = {"tenant": answer.tenant.slug, "found": answer.plan is not None}
        if answer.error is not None:
            item["error"] = answer.error
        if answer.plan is not None:
            item["user_ids"] = list(answer.plan.author.ids)
            item["comments"] = answer.plan.comments
            item["posts"] = len(answer.plan.posts)
            item["posts_to"] = answer.plan.posts_to
        tenants.append(item)
    return {"email": email, "dry_run": dry_run, "tenants": tenants}


def _outcome_record(outcome: PurgeOutcome) -> dict[str, Any]:
    record: dict[str, Any] = {"state": outcome.state}
    if outcome.result is not None:
        record["deleted"] = outcome.result.deleted
        record["moved"] = outcome.result.moved
        record["conflicts"] = outcome.result.conflicts
        record["audit_id"] = outcome.result.entry
    else:
        record["error"] = outcome.error
        record["applied"] = outcome.applied
    return record
