"""The `tursotui` command line.

Each command group lives in its own module with a `register(subparsers)` that
adds its parser and sets `handler`, an `async def (args) -> int`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "tenants",
    "sql",
    "migrate",
    "demo",
    "audit",
    "backup",
    "author",
    "content",
    "moderate",
    "replica",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command module registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="tursotui",
        description="A keyboard-driven console for database-per-tenant fleets on Turso/libSQL.",
    )
    parser.add_argument("--read-only", action="store_true", default=None, help="refuse every write")
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"tursotui.cli.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.handler is None:
        from tursotui.cli.tui import run_tui

        return run_tui(args)
    try:
        return asyncio.run(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
