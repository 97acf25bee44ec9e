"""`tursotui tenants`: list the registry with each tenant's health, add and remove rows (SPEC §6).

The list asks every tenant at once (at most `fleet_concurrency` in flight, each
with its own deadline), so a dead tenant costs one timeout, not one per tenant.
Broken registry rows are listed with their reason. URLs are shown as stored
(they hold no token); tokens are never printed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tursotui.cli import provision
from tursotui.cli.common import (
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
from tursotui.health import STATUSES, TenantHealth, probe_all
from tursotui.provision import slug_problem
from tursotui.registry import Tenant
from tursotui.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `tenants` and its subcommands (`add`, `remove`, and the provisioning ones)."""
    parser = subparsers.add_parser(
        "tenants",
        help="list tenants with health and schema version; add, remove",
        description="List the tenants of the registry: slug, name, URL (never the token), "
        "whether the database answered (and why not), and its schema version against the "
        "migrations folder. Tenants that are broken or do not answer are listed with the reason "
        "(exit status 0: the list itself worked).",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array on stdout")
    add_settings_arguments(parser)
    parser.set_defaults(handler=list_tenants)
    sub = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND")

    add = sub.add_parser(
        "add",
        help="add a registry row for an existing database",
        description="Add a registry row for an existing database. Nothing is created or "
        "migrated; the database is not contacted.",
    )
    add.add_argument(
        "slug",
        metavar="SLUG",
        help="the tenant's unique short name (lowercase letters, digits, dashes; at most 63)",
    )
    add.add_argument(
        "--url", required=True, help="the database URL (libsql://, https://, file:...)"
    )
    add.add_argument(
        "--token",
        help="the database token; `-` reads it from stdin (keeps it out of shell history)",
    )
    add.add_argument("--name", help="display name (default: the slug)")
    add_settings_arguments(add)
    add.set_defaults(handler=add_tenant)

    remove = sub.add_parser(
        "remove",
        help="delete a registry row only; the database is left alone",
        description="Delete a tenant's registry row. Its database is NOT deleted "
        "(use `tenants destroy` for that).",
    )
    remove.add_argument("slug", metavar="SLUG", help="the tenant's slug")
    add_settings_arguments(remove)
    remove.set_defaults(handler=remove_tenant)

    provision.register(sub)


def tenant_record(
    tenant: Tenant, health: TenantHealth | None, token_source: str | None = None
) -> dict[str, Any]:
    """One tenant as `tenants --json` prints it (never the token).

    `token_source` is where its token comes from: `stored`, `command`, `group`,
    `minted` or `none`.
    """
    record: dict[str, Any] = {
        "slug": tenant.slug,
        "name": tenant.name,
        "url": tenant.url,
        "has_token": bool(tenant.token and tenant.token.get_secret_value()),
        "token_source": token_source,
        "broken": tenant.broken,
        "reachable": bool(health and health.reachable),
        "error": tenant.problem if tenant.broken else (health.error if health else None),
        "latency_ms": None,
        "schema": None,
        "posts": None,
    }
    if health is not None:
        if health.latency_ms is not None:
            record["latency_ms"] = round(health.latency_ms, 1)
        record["schema"] = health.schema
        record["posts"] = health.counts
    return record


@command
async def list_tenants(args: argparse.Namespace) -> int:
    """Print every tenant with its health (broken and unreachable ones with their reason)."""
    async with open_workspace(args) as workspace:
        tenants = await workspace.registry.tenants()
        answers: dict[str, TenantHealth] = {}
        rows = list(tenants)
        async for health in probe_all(workspace, rows, workspace.settings.fleet_concurrency):
            answers[id(health.tenant)] = health  # slugs may repeat in broken registries
        sources = {id(t): workspace.tokens.choose(t).label for t in rows}
    records = [tenant_record(t, answers.get(id(t)), sources[id(t)]) for t in rows]
    if args.json:
        write_json(records)
    elif not records:
        note("the registry has no tenants; add one with `tursotui tenants add SLUG --url URL`")
    else:
        write_table(
            ["slug", "name", "url", "answers", "schema", "posts", "error"],
            [_table_row(r) for r in records],
            max_width=48,
        )
    failed = [r for r in records if r["broken"] or not r["reachable"]]
    if failed and not args.json:
        note(
            f"{len(failed)} of {plural(len(records), 'tenant')} "
            f"{'is' if len(failed) == 1 else 'are'} broken or did not answer"
        )
    return OK


def _table_row(record: dict[str, Any]) -> list[Any]:
    if record["broken"]:
        answers = "broken"
    elif record["reachable"]:
        answers = (
            f"yes {record['latency_ms']:.0f} ms" if record["latency_ms"] is not None else "yes"
        )
    else:
        answers = "no"
    counts = record["posts"]
    posts = (
        " ".join(f"{s[0]}:{counts.get(s, 0)}" for s in STATUSES)
        + ("" if set(counts) <= set(STATUSES) else f" other:{_others(counts)}")
        if counts is not None
        else ""
    )
    return [
        record["slug"],
        record["name"],
        record["url"],
        answers,
        record["schema"] or "",
        posts,
        record["error"] or "",
    ]


def _others(counts: dict[str, int]) -> int:
    return sum(v for k, v in counts.items() if k not in STATUSES)


@command
async def add_tenant(args: argparse.Namespace) -> int:
    """Add a registry row for an existing database."""
    # The same rules as `tenants create`: a slug that could not name a tenant created
    # here (and that the screens' filter and commands rely on) is refused before anything.
    problem = slug_problem(args.slug)
    if problem:
        return fail(f"cannot add tenant {printable(args.slug, 80)!r}: {problem}")
    if args.token == "-":
        args.token = sys.stdin.readline().strip()
    remember_secret(args.token)
    async with open_workspace(args) as workspace:
        tenant = await workspace.registry.add(args.slug, args.url, args.token, args.name)
    note(f"added {tenant.slug} ({tenant.url})")
    return OK


@command
async def remove_tenant(args: argparse.Namespace) -> int:
    """Delete a registry row; the database stays where it is."""
    async with open_workspace(args) as workspace:
        await workspace.registry.remove(args.slug)
    note(f"removed {args.slug} from the registry; its database was left alone")
    return OK
