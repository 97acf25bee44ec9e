"""`tursotui audit [--json]`: print the moderation audit log."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import datetime

from tursotui.cli.common import add_settings_arguments, command, note, settings_from_args
from tursotui.session.audit import AuditLog, describe_change


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `audit` command."""
    parser = subparsers.add_parser(
        "audit",
        help="print the audit log of every write tursotui made",
        description="Print the audit log (one line per write, oldest first): time, operator, "
        "tenant, action, rows, before -> after, outcome.",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON array of every log entry (raw lines)"
    )
    add_settings_arguments(parser)
    parser.set_defaults(handler=run)


def _clean(value: object) -> str:
    """A value on one line with control characters made visible (the log holds database text)."""
    from tursotui.display.literal import literal_str

    return literal_str(value)


@command
async def run(args: argparse.Namespace) -> int:
    """Print the log; 0 on success, 1 when the settings are unusable."""
    settings = settings_from_args(args)
    audit = AuditLog(settings.data_dir / "audit.jsonl", settings.operator)
    entries = audit.entries()
    for problem in audit.problems():
        note(f"warning: {problem}")
    if args.json:
        from tursotui.display.json_text import json_safe

        text = json.dumps([asdict(e) for e in entries], ensure_ascii=False, default=str)
        sys.stdout.write(json_safe(text) + "\n")  # logged SQL may hold DEL or C1 bytes
        return 0
    if not entries:
        note(f"the audit log {audit.path} is empty")
        return 0
    for e in entries:
        stamp = datetime.fromtimestamp(e.time or 0).strftime("%Y-%m-%d %H:%M:%S")
        change = describe_change(e.before, e.after).replace(" → ", " -> ")
        fields = [stamp, e.operator, e.tenant, e.action, e.status, ",".join(e.row_ids), change]
        line = "  ".join(_clean(f) for f in fields)
        if e.reason:
            line += "  reason: " + _clean(e.reason)
        if e.detail:
            line += "  " + _clean(e.detail)
        print(line)
    return 0
