"""`tursotui sql SLUG "SQL"`: the console's headless twin.

Same classification and refusals as the console: anything that writes needs
`--write`, destructive statements (DELETE/UPDATE without WHERE, DROP, ALTER,
VACUUM) need `--yes` as well, ATTACH/DETACH/load_extension are refused. Every
write is in the audit log. Rows go to stdout (table, csv, or json: an array of
objects keyed by column name); messages go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tursotui.cli.common import (
    FORMATS,
    OK,
    add_settings_arguments,
    command,
    fail,
    note,
    open_workspace,
    write_rows,
)
from tursotui.console.history import History, HistoryError
from tursotui.console.runner import (
    ResultCursor,
    check_syntax,
    plan,
    plural,
    rows_changed,
    run_write,
    what_it_touches,
)

if TYPE_CHECKING:
    from tursotui.console.runner import PlannedStatement
    from tursotui.db import Connection
    from tursotui.session.workspace import Workspace

USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sql` command."""
    parser = subparsers.add_parser(
        "sql",
        help="run SQL on one tenant (read-only unless --write)",
        description="Run one or more SQL statements on one tenant. Statements that write are "
        "refused unless --write is given; DELETE/UPDATE without WHERE, DROP, ALTER and VACUUM "
        "also need --yes. ATTACH, DETACH and load_extension are always refused.",
    )
    parser.add_argument("slug", metavar="SLUG", help="the tenant's slug")
    parser.add_argument("sql", metavar="SQL", help="the statement(s), separated by ;")
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="how rows are printed (default table)"
    )
    parser.add_argument("--write", action="store_true", help="allow statements that write")
    parser.add_argument(
        "--yes", action="store_true", help="also allow destructive statements (with --write)"
    )
    add_settings_arguments(parser)
    parser.set_defaults(handler=run)


@command
async def run(args: argparse.Namespace) -> int:
    """Check every statement first, then run them in order; stop at the first failure."""
    async with open_workspace(args) as workspace:
        read_only = workspace.settings.read_only
        statements = plan(args.sql, read_only=read_only)
        if not statements:
            print("error: no SQL statement given", file=sys.stderr)
            return USAGE
        tenant = await workspace.registry.get(args.slug)
        connection = await workspace.open_tenant(tenant, read_only=read_only)
        try:
            return await _run_all(workspace, connection, tenant.slug, statements, args)
        finally:
            await connection.close()


async def _run_all(
    workspace: Workspace,
    connection: Connection,
    slug: str,
    statements: list[PlannedStatement],
    args: argparse.Namespace,
) -> int:
    # Nothing runs unless everything may: a refusal half-way would leave half a script done.
    for statement in statements:
        kind = statement.kind
        if not kind.is_known:
            await check_syntax(connection, statement.sql)  # raises SQLite's own message
        if statement.refusal:
            return fail(f"refused: {statement.refusal}")
        if kind.writes and not args.write:
            return fail(
                f"{kind.verb or 'the statement'} writes; add --write to run it "
                f"({what_it_touches(kind, slug)})"
            )
        if kind.destructive and not args.yes:
            return fail(f"{what_it_touches(kind, slug)} Add --yes to run it anyway.")
    history = History.for_tenant(workspace.settings.data_dir, slug)
    for statement in statements:
        try:
            summary = await _run_one(workspace, connection, slug, statement, args)
        except BaseException as error:
            _remember(history, statement.sql, ok=False, summary=str(error))
            raise
        _remember(history, statement.sql, ok=True, summary=summary)
    return OK


def _remember(history: History, sql: str, *, ok: bool, summary: str) -> None:
    try:
        history.add(sql, ok=ok, summary=summary[:200])
    except HistoryError as error:
        note(f"warning: {error}")


async def _run_one(
    workspace: Workspace,
    connection: Connection,
    slug: str,
    statement: PlannedStatement,
    args: argparse.Namespace,
) -> str:
    """Run one allowed statement, print its rows; returns the summary for the history."""
    if statement.kind.writes:
        outcome = await run_write(connection, workspace.audit, slug, statement.sql, decide=None)
        result = outcome.result
        if result.columns:
            write_rows(args.format, result.columns, [r.astuple() for r in result.rows])
        summary = f"{plural(rows_changed(statement.kind, result), 'row')} changed"
        note(f"{statement.kind.verb}: {summary}")
        return summary
    cursor = await ResultCursor(connection, statement.sql, chunk_size=5000).open()
    try:
        rows: list[tuple] = []
        while True:
            batch = await cursor.fetch(5000)
            if not batch:
                break
            rows.extend(batch)
    finally:
        await cursor.close()
    if cursor.columns:
        write_rows(args.format, cursor.columns, rows)
    summary = plural(len(rows), "row")
    note(summary)
    return summary


__all__ = ["register", "run"]
