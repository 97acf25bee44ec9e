"""The `tursotui` command line.

Each command group lives in its own module with a `register(subparsers)` that
adds its parser and sets `handler`, an `async def (args) -> int`. Only the module of the
command given is imported (a command starts as fast as a shell tool; the TUI imports
none of them); `--help` and a word that is no command import none either: they list
the commands from `COMMAND_HELP`, which a test keeps equal to what the modules register.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

COMMANDS: dict[str, str] = {
    "tenants": "tenants",
    "sql": "sql",
    "migrate": "migrate",
    "demo": "demo",
    "audit": "audit",
    "backup": "backup",
    "author": "author",
    "posts": "content",
    "comments": "content",
    "search": "content",
    "publish": "moderate",
    "archive": "moderate",
    "draft": "moderate",
    "undo": "moderate",
    "replica": "replica",
}
"""Each command word and the module (`tursotui.cli.<module>`) that registers it."""

COMMAND_HELP: dict[str, str] = {
    "tenants": "list tenants with health and schema version; add, remove",
    "sql": "run SQL on one tenant (read-only unless --write)",
    "migrate": "apply pending migrations to tenants (drizzle-compatible)",
    "demo": "build (idempotently) a local demo fleet and open the TUI on it",
    "audit": "print the audit log of every write tursotui made",
    "backup": "back tenants up into SQLite files with a manifest, or verify a backup",
    "author": "show an author on a tenant, or purge their comments and posts",
    "posts": "list a tenant's posts (newest first), by status, search or author",
    "comments": "list a tenant's comments (newest first), by post, search or author",
    "search": "find posts and comments holding a text, on many tenants",
    "publish": "set posts' status to published (guarded, audited)",
    "archive": "set posts' status to archived (guarded, audited)",
    "draft": "set posts' status to draft (guarded, audited)",
    "undo": "undo a moderation write from the audit log",
    "replica": "local replicas of remote tenants: sync, list, drop",
}
"""Each command word's line in the top-level help, in the order it lists them: what its
module registers (checked by a test), so that `--help` needs none of the modules."""

COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))
"""Every command module, in the order `--help` lists their commands."""


HELP_FLAGS = ("-h", "--help")


def _command_word(argv: Sequence[str]) -> str | None:
    """The command named on the command line: its first word that is not an option."""
    for word in argv:
        if word == "--":
            break
        if not word.startswith("-"):
            return word
    return None


def commands_needed(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules `argv` needs registered to be parsed as the full parser would."""
    word = _command_word(argv)
    options = list(argv) if word is None else list(argv)[: list(argv).index(word)]
    if any(flag in options for flag in HELP_FLAGS):
        return COMMAND_MODULES  # the top-level help (`-h sql` too), which lists every command
    if word is None:
        return ()  # the TUI: the top-level options only
    if word in COMMANDS:
        return (COMMANDS[word],)
    return COMMAND_MODULES  # an unknown word, listed against them all


def build_parser(commands: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The argument parser, with the command modules `commands` registered (default: all)."""
    import importlib

    parser, subparsers = _top_level_parser()
    for name in commands:
        importlib.import_module(f"tursotui.cli.{name}").register(subparsers)
    return parser


def summary_parser() -> argparse.ArgumentParser:
    """A parser that knows every command by name and help line only, importing no module.

    It answers what needs no command's own arguments as the full parser does: the
    top-level `--help`, and a word that is no command (listed against every command).
    """
    parser, subparsers = _top_level_parser()
    for word, line in COMMAND_HELP.items():
        subparsers.add_parser(word, help=line, add_help=False)
    return parser


def _top_level_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    import argparse  # here: `tursotui` alone has nothing to parse (see `main`)

    parser = argparse.ArgumentParser(
        prog="tursotui",
        description="A keyboard-driven console for database-per-tenant fleets on Turso/libSQL.",
    )
    parser.add_argument("--read-only", action="store_true", default=None, help="refuse every write")
    parser.set_defaults(handler=None)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    return parser, subparsers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage)."""
    # pydantic looks for plugins of every installed package (their entry points) when a
    # model class is made (the Platform API's): tens of ms, for plugins tursotui never uses.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        # The TUI with no option: what the parser makes of nothing, without loading argparse
        # (and its translations), a few ms of a start measured against a bare Textual app.
        from tursotui.session.first_frame import paint

        painted = paint()  # the last first frame, if still true, before the rest loads
        try:
            from tursotui.cli.tui import run_tui

            return run_tui(None, painted)
        finally:
            if painted is not None:
                painted.close()
    needed = commands_needed(argv)
    if needed == COMMAND_MODULES:
        summary_parser().parse_args(argv)  # prints the help or the usage error, and exits
    parser = build_parser(needed)
    args = parser.parse_args(argv)
    if args.handler is None:
        from tursotui.cli.tui import run_tui

        return run_tui(args)
    import asyncio  # here: `--help` and a usage error exit without it

    try:
        return asyncio.run(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
