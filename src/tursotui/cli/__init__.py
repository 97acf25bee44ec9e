"""The `tursotui` command line.

Each command group lives in its own module with a `register(subparsers)` that
adds its parser and sets `handler`, an `async def (args) -> int`. Only the module of the
command given is imported (a command starts as fast as a shell tool; the TUI imports
none of them): all of them only for `--help` or a word that is no command.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

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
    if word in COMMANDS:
        return (COMMANDS[word],)
    if word is None and not any(flag in argv for flag in HELP_FLAGS):
        return ()  # the TUI: the top-level options only
    return COMMAND_MODULES  # the top-level help, or an unknown word listed against them all


def build_parser(commands: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The argument parser, with the command modules `commands` registered (default: all)."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="tursotui",
        description="A keyboard-driven console for database-per-tenant fleets on Turso/libSQL.",
    )
    parser.add_argument("--read-only", action="store_true", default=None, help="refuse every write")
    parser.set_defaults(handler=None)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in commands:
        importlib.import_module(f"tursotui.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage)."""
    # pydantic looks for plugins of every installed package (their entry points) when a
    # model class is made (the Platform API's): tens of ms, for plugins tursotui never uses.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(commands_needed(argv))
    args = parser.parse_args(argv)
    if args.handler is None:
        from tursotui.cli.tui import run_tui

        return run_tui(args)
    try:
        return asyncio.run(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
