"""`tursotui demo [--tenants N] [--posts N] [--no-tui]`: build the local demo fleet and open it."""

from __future__ import annotations

import argparse
import time

from tursotui.cli.common import OK, add_settings_arguments, command, note, settings_from_args
from tursotui.demo.build import build_demo


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` command."""
    parser = subparsers.add_parser(
        "demo",
        help="build (idempotently) a local demo fleet and open the TUI on it",
        description="Build a local registry and tenant databases with realistic data (and one "
        "hostile tenant, one a migration behind, one broken registry row), then open the TUI. "
        "Re-running changes nothing: existing tenants are left as they are.",
    )
    parser.add_argument(
        "--tenants", type=_positive, default=6, metavar="N", help="tenant databases (default 6)"
    )
    parser.add_argument(
        "--posts",
        type=_positive,
        default=200,
        metavar="N",
        help="posts of the biggest tenant (default 200; 1000000 builds a million-post tenant)",
    )
    parser.add_argument("--no-tui", action="store_true", help="build the fleet and exit")
    add_settings_arguments(parser)
    parser.set_defaults(handler=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


@command
async def run(args: argparse.Namespace) -> int:
    """Build the fleet, then open the TUI on it unless --no-tui."""
    settings = settings_from_args(args)
    start = time.perf_counter()
    tenants = await build_demo(
        settings, tenants=args.tenants, posts=args.posts, progress=lambda line: note(line)
    )
    broken = sum(t.broken for t in tenants)
    note(
        f"demo fleet ready in {time.perf_counter() - start:.1f} s: {len(tenants)} registry rows "
        f"({broken} broken on purpose) in {settings.registry_location}"
    )
    if args.no_tui:
        return OK
    from tursotui.cli.tui import run_app

    return await run_app(settings)
