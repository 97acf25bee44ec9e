"""`tursotui posts`, `tursotui comments` and `tursotui search`: the content screens' reads.

- `posts SLUG [--status S] [--search TEXT] [--author EMAIL] [--limit N] [--json]`: a
  tenant's posts newest first, as the posts screen lists them;
- `comments SLUG [--post ID] [--author EMAIL] [--search TEXT] [--limit N] [--json]`: a
  tenant's comments newest first, on every post or one;
- `search TEXT (--all | SLUG ...) [--in posts,comments] [--json]`: posts and comments
  holding TEXT on many tenants, as the fleet's `/` finds them.

A search is literal text (`%`, `_`, quotes, backslashes match themselves); an email
matches in any case. Tenants are only read (read-only connections). Database text is
printed with its control characters made visible; `--json` prints data on stdout and
messages go to stderr. Exit status: 0 when every tenant answered (even with nothing
found), 1 when a tenant could not be read, 2 on a usage error.

`comments` takes subcommands: a first word that names one (`comments delete ...`) runs
it, anything else is the tenant of the listing. Another module adds one with
`comments_subcommands(subparsers).add_parser(...)` after this module registered.
"""

from __future__ import annotations

import argparse
from typing import Any

from tursotui.cli.common import (
    FAILED,
    OK,
    add_settings_arguments,
    command,
    fail,
    note,
    open_workspace,
    write_json,
    write_table,
)
from tursotui.display.posts import when
from tursotui.session.workspace import Workspace
from tursotui.tenant import moderation
from tursotui.words import plural

MAX_LIMIT = 100_000
"""Most rows one command prints (a tenant is never read whole by accident)."""


class _AnyWord(dict[str, Any]):
    """Subcommand names that accept any word as a choice (see `_DefaultSubcommand`)."""

    def __init__(self, names: dict[str, Any]) -> None:
        super().__init__()
        self.names = names

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


class _DefaultSubcommand(argparse._SubParsersAction):
    """Subcommands where a first word naming none is the default subcommand's first argument.

    `comments acme` lists acme's comments (the hidden `list` subcommand); `comments
    delete ...` runs `delete` once a module has added it.
    """

    DEFAULT = "list"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse checks the first word against the subcommands' names before `__call__`
        # sees it: any word passes here, and `__call__` decides.
        self.choices = _AnyWord(self._name_parser_map)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        words = list(values or [])
        if not words or words[0] not in self._name_parser_map:
            words = [self.DEFAULT, *words]
        super().__call__(parser, namespace, words, option_string)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LIMIT}")
    return value


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in ("posts", "comments")]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError("takes posts, comments or posts,comments")
    return kinds


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `posts`, `comments` (with its subcommands) and `search`."""
    posts = subparsers.add_parser(
        "posts",
        help="list a tenant's posts (newest first), by status, search or author",
        description="List a tenant's posts newest first, as the posts screen does. --search "
        "finds posts whose title or content holds the text (literally; ASCII letters in any "
        "case). Exit status 1 if the tenant cannot be read.",
    )
    posts.add_argument("slug", metavar="SLUG", help="the tenant")
    posts.add_argument(
        "--status", metavar="S", help="only posts with this status (draft, published, archived…)"
    )
    posts.add_argument(
        "--search", metavar="TEXT", help="only posts whose title or content holds TEXT"
    )
    posts.add_argument("--author", metavar="EMAIL", help="only posts by this email (any case)")
    posts.add_argument(
        "--limit", type=_limit, default=moderation.PAGE_SIZE, metavar="N", help="at most N posts"
    )
    posts.add_argument("--json", action="store_true", help="print a JSON array on stdout")
    add_settings_arguments(posts)
    posts.set_defaults(handler=list_posts)

    comments = subparsers.add_parser(
        "comments",
        help="list a tenant's comments (newest first), by post, search or author",
        description="List a tenant's comments newest first, on every post or on one. --search "
        "finds comments whose content holds the text (literally). Exit status 1 if the tenant "
        "cannot be read.",
        usage="%(prog)s SLUG [--post ID] [--author EMAIL] [--search TEXT] [--limit N] [--json]",
    )
    comments.set_defaults(handler=_no_tenant, parser=comments)
    sub = comments.add_subparsers(
        action=_DefaultSubcommand, title="subcommands", metavar="SUBCOMMAND"
    )
    listing = sub.add_parser(
        "list", help="list the comments (the default: `comments SLUG` is `comments list SLUG`)"
    )
    listing.add_argument("slug", metavar="SLUG", help="the tenant")
    listing.add_argument("--post", metavar="ID", help="only the comments of this post")
    listing.add_argument("--author", metavar="EMAIL", help="only comments by this email")
    listing.add_argument("--search", metavar="TEXT", help="only comments whose content holds TEXT")
    listing.add_argument(
        "--limit",
        type=_limit,
        default=moderation.PAGE_SIZE,
        metavar="N",
        help="at most N comments",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array on stdout")
    add_settings_arguments(listing)
    listing.set_defaults(handler=list_comments)
    comments.set_defaults(comments_subcommands=sub)
    _COMMENT_SUBCOMMANDS[id(subparsers)] = sub

    search = subparsers.add_parser(
        "search",
        help="find posts and comments holding a text, on many tenants",
        description="Find the newest posts (title or content) and comments (content) holding "
        "TEXT, literally, on the tenants named or on every tenant (--all), asked at once "
        "(fleet_concurrency at a time). Exit status 1 if a tenant could not be searched "
        "(the others are still printed).",
    )
    search.add_argument("text", metavar="TEXT", help="the text to find (literal)")
    search.add_argument("slugs", nargs="*", metavar="SLUG", help="tenants to search")
    search.add_argument("--all", action="store_true", help="search every tenant")
    search.add_argument(
        "--in",
        dest="kinds",
        type=_kinds,
        default=("posts", "comments"),
        metavar="posts,comments",
        help="what to look in (default: both)",
    )
    search.add_argument(
        "--limit",
        type=_limit,
        default=20,
        metavar="N",
        help="at most N posts and N comments per tenant (default 20)",
    )
    search.add_argument("--json", action="store_true", help="print a JSON array on stdout")
    add_settings_arguments(search)
    search.set_defaults(handler=search_tenants, parser=search)


_COMMENT_SUBCOMMANDS: dict[int, argparse._SubParsersAction] = {}


def comments_subcommands(
    subparsers: argparse._SubParsersAction,
) -> argparse._SubParsersAction:
    """The `comments` command's subcommands, to add one to (`delete`): register after this."""
    return _COMMENT_SUBCOMMANDS[id(subparsers)]


@command
async def _no_tenant(args: argparse.Namespace) -> int:
    args.parser.error("name the tenant: tursotui comments SLUG")
    return FAILED  # not reached: argparse exits


def _time(value: Any) -> str:
    return when(value).plain if value is not None else ""


async def _read(workspace: Workspace, slug: str) -> Any:
    tenant = await workspace.registry.get(slug)
    return await workspace.open_tenant(tenant, read_only=True)


def post_record(post: moderation.PostRow, search: str | None) -> dict[str, Any]:
    """One post as `posts --json` prints it (`match`: the content around a content match)."""
    return {
        "id": post.id,
        "title": post.title,
        "status": post.status,
        "published_at": post.published_at,
        "author_id": post.author_id,
        "author_name": post.author_name,
        **({"match": post.snippet} if search else {}),
    }


@command
async def list_posts(args: argparse.Namespace) -> int:
    """Print a tenant's posts; 0 on success, 1 when it cannot be read."""
    status = None if args.status in (None, "all") else args.status
    async with open_workspace(args) as workspace:
        conn = await _read(workspace, args.slug)
        try:
            page = await moderation.fetch_posts(
                conn, status, limit=args.limit, search=args.search, author_email=args.author
            )
        finally:
            await conn.close()
    if args.json:
        write_json([post_record(p, args.search) for p in page.posts])
        return OK
    write_table(
        ["id", "status", "published", "author", "title"],
        [(p.id, p.status, _time(p.published_at), p.author_name, p.title) for p in page.posts],
    )
    more = " (more: raise --limit)" if page.next is not None else ""
    note(f"{plural(len(page.posts), 'post')} on {args.slug}{more}")
    return OK


def comment_record(comment: moderation.FoundComment) -> dict[str, Any]:
    """One comment as `comments --json` prints it (`content`: around the match, if searched)."""
    return {
        "id": comment.id,
        "post_id": comment.post_id,
        "post_title": comment.post_title,
        "content": comment.content,
        "created_at": comment.created_at,
        "author_id": comment.author_id,
        "author_name": comment.author_name,
    }


@command
async def list_comments(args: argparse.Namespace) -> int:
    """Print a tenant's comments; 0 on success, 1 when it cannot be read."""
    async with open_workspace(args) as workspace:
        conn = await _read(workspace, args.slug)
        try:
            page = await moderation.find_comments(
                conn,
                search=args.search,
                post_id=args.post,
                author_email=args.author,
                limit=args.limit,
            )
        finally:
            await conn.close()
    if args.json:
        write_json([comment_record(c) for c in page.comments])
        return OK
    write_table(
        ["id", "when", "author", "post", "comment"],
        [(c.id, _time(c.created_at), c.author_name, c.post_id, c.content) for c in page.comments],
    )
    more = " (more: raise --limit)" if page.next is not None else ""
    note(f"{plural(len(page.comments), 'comment')} on {args.slug}{more}")
    return OK


@command
async def search_tenants(args: argparse.Namespace) -> int:
    """Search the tenants; 0 when all answered, 1 when one could not be searched."""
    from tursotui.fleet.search import search_content

    if bool(args.slugs) == bool(args.all):
        args.parser.error("name the tenants to search, or give --all (not both)")
    if not args.text:
        args.parser.error("the text to find is empty")
    records: list[dict[str, Any]] = []
    failures: list[str] = []
    async with open_workspace(args) as workspace:
        tenants = await workspace.registry.tenants()
        if not args.all:
            by_slug = {t.slug: t for t in tenants if not t.broken}
            unknown = [s for s in args.slugs if s not in by_slug]
            if unknown:
                return fail(f"no tenant {', '.join(unknown)} in the registry")
            tenants = [by_slug[s] for s in dict.fromkeys(args.slugs)]
        answers = {}
        async for answer in search_content(
            workspace, tenants, args.text, limit=args.limit, kinds=args.kinds
        ):
            answers[id(answer.tenant)] = answer
    for tenant in tenants:  # in registry order, whatever order they answered in
        answer = answers[id(tenant)]
        if answer.error:
            failures.append(answer.error)
            continue
        for post in answer.posts:
            records.append(
                {
                    "tenant": tenant.slug,
                    "kind": "post",
                    "id": post.id,
                    "post_id": post.id,
                    "status": post.status,
                    "time": post.published_at,
                    "title": post.title,
                    "match": post.snippet,
                }
            )
        for comment in answer.comments:
            records.append(
                {
                    "tenant": tenant.slug,
                    "kind": "comment",
                    "id": comment.id,
                    "post_id": comment.post_id,
                    "status": None,
                    "time": comment.created_at,
                    "title": comment.post_title,
                    "match": comment.content,
                }
            )
    if args.json:
        write_json(records)
    else:
        write_table(
            ["tenant", "kind", "id", "status", "when", "text"],
            [
                (
                    r["tenant"],
                    r["kind"],
                    r["id"],
                    r["status"] if r["kind"] == "post" else "",
                    _time(r["time"]),
                    r["match"] if r["kind"] == "comment" or r["match"] is not None else r["title"],
                )
                for r in records
            ],
        )
    for failure in failures:
        note(f"FAILED {failure}")
    note(
        f"{plural(len(records), 'match', 'matches')} on "
        f"{plural(len(tenants) - len(failures), 'tenant')}"
        + (f"; {len(failures)} could not be searched" if failures else "")
    )
    return FAILED if failures else OK
