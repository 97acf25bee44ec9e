"""`tursotui tenants`: list the registry with each tenant's health, add and remove rows.

The list asks every tenant at once (at most `fleet_concurrency` in flight, each
with its own deadline), so a dead tenant costs one timeout, not one per tenant.
Broken registry rows are listed with their reason. URLs are shown as stored
(they hold no token); tokens are never printed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tursotui.cli import lifecycle, provision
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
from tursotui.platform import PlatformError
from tursotui.provision import slug_problem
from tursotui.provision.protect import Flags, tenant_flags
from tursotui.session.registry import Tenant
from tursotui.session.settings import REGISTRY_ROLES
from tursotui.session.workspace import Workspace
from tursotui.tenant.health import STATUSES, TenantHealth, probe_all
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
    parser.add_argument(
        "--explain",
        action="store_true",
        help="say how the registry was understood: its table, the column of each role, where "
        "URLs and tokens come from, and why each broken row is broken (no tenant is contacted)",
    )
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
    add.add_argument("--url", help="the database URL (libsql://, https://, file:...)")
    add.add_argument(
        "--db-name",
        help="the database's name, for a registry that keeps names, not URLs (the URL then "
        "comes from the Platform API or TURSOTUI_TENANT_URL_TEMPLATE)",
    )
    add.add_argument(
        "--token",
        help="the database token; `-` reads it from stdin (keeps it out of shell history)",
    )
    add.add_argument("--name", help="display name (default: the slug)")
    add_settings_arguments(add)
    add.set_defaults(handler=add_tenant, parser=add)

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
    lifecycle.register(sub)


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
        "db_name": tenant.db_name,
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
    if args.explain:
        return await explain(args)
    async with open_workspace(args) as workspace:
        tenants = await workspace.registry.tenants()
        answers: dict[int, TenantHealth] = {}  # keyed by id(): slugs may repeat
        rows = list(tenants)
        async for health in probe_all(workspace, rows, workspace.settings.fleet_concurrency):
            answers[id(health.tenant)] = health  # slugs may repeat in broken registries
        sources = {id(t): workspace.tokens.choose(t).label for t in rows}
        flags = await _flags(workspace, rows)
    records = [tenant_record(t, answers.get(id(t)), sources[id(t)]) for t in rows]
    for record in records:
        found = flags.get(record["slug"])
        record.update(found.as_json() if found else dict.fromkeys(NO_FLAGS))
    if args.json:
        write_json(records)
    elif not records:
        note("the registry has no tenants; add one with `tursotui tenants add SLUG --url URL`")
    else:
        columns = ["slug", "name", "url", "answers", "schema", "posts", "error"]
        table = [_table_row(r) for r in records]
        labels = [
            ", ".join(flags[r["slug"]].labels()) if r["slug"] in flags else "" for r in records
        ]
        if any(labels):  # protection and blocks, only where some tenant has one
            columns.insert(4, "lifecycle")
            for row, label in zip(table, labels, strict=True):
                row.insert(4, label)
        write_table(columns, table, max_width=48)
    failed = [r for r in records if r["broken"] or not r["reachable"]]
    if failed and not args.json:
        note(
            f"{len(failed)} of {plural(len(records), 'tenant')} "
            f"{'is' if len(failed) == 1 else 'are'} broken or did not answer"
        )
    return OK


NO_FLAGS = (
    "delete_protection",
    "group_protection",
    "block_reads",
    "block_writes",
    "group",
    "branch_of",
)
"""The lifecycle keys of `tenants --json`: null where the Platform API was not asked."""


async def _flags(workspace: Workspace, tenants: list[Tenant]) -> dict[str, Flags]:
    """Protection and blocks per tenant; a Platform API failure is said, not fatal."""
    try:
        return await tenant_flags(workspace, tenants)
    except PlatformError as error:
        note(f"delete protection and blocks unknown: {error}")
        return {}


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
    if args.url is None and args.db_name is None:
        args.parser.error("give the database's --url (or --db-name)")
    async with open_workspace(args) as workspace:
        tenant = await workspace.registry.add(
            args.slug, args.url, args.token, args.name, db_name=args.db_name
        )
    if tenant.broken:
        note(f"added {tenant.slug}, but the row is broken: {tenant.problem}")
    else:
        note(f"added {tenant.slug} ({tenant.url})")
    return OK


@command
async def remove_tenant(args: argparse.Namespace) -> int:
    """Delete a registry row; the database stays where it is."""
    async with open_workspace(args) as workspace:
        await workspace.registry.remove(args.slug)
    note(f"removed {args.slug} from the registry; its database was left alone")
    return OK


# -- --explain ---------------------------------------------------------------------------


def explanation(workspace: Workspace, tenants: list[Tenant]) -> dict[str, Any]:
    """How the registry was understood, as `tenants --explain --json` prints it."""
    registry = workspace.registry
    shape = registry.known_shape
    origin = registry.url_origin()
    settings = workspace.settings
    urls: dict[str, Any] = {"column": shape.roles.get("url")}
    if "db_name" in shape.roles:
        urls["names"] = {
            "column": shape.roles["db_name"],
            "from": {
                "the Platform API": "platform",
                "the URL template": "template",
            }.get(origin or ""),
        }
        if origin == "the Platform API":
            urls["names"]["org"] = settings.turso_org
        elif origin == "the URL template":
            urls["names"]["template"] = registry.shown_template
    return {
        "registry": registry.label.removeprefix("registry "),
        "table": shape.table,
        "columns": {
            role: {"column": shape.roles.get(role), "found": shape.found.get(role, "not found")}
            for role in REGISTRY_ROLES
        },
        "urls": urls,
        "tenants": [
            {
                "slug": t.slug,
                "url": t.url,
                "db_name": t.db_name,
                "url_from": t.url_source or None,
                "token": workspace.tokens.choose(t).label,
                "token_why": workspace.tokens.explain(t),
                "broken": t.broken,
                "problem": t.problem,
            }
            for t in tenants
        ],
    }


@command
async def explain(args: argparse.Namespace) -> int:
    """Print how the registry was understood; no tenant is contacted."""
    async with open_workspace(args) as workspace:
        tenants = await workspace.registry.tenants()
        report = explanation(workspace, tenants)
    if args.json:
        write_json(report)
        return OK
    lines = [f"registry {report['registry']}", f"table    {report['table']}", "columns"]
    for role, entry in report["columns"].items():
        column = entry["column"] if entry["column"] is not None else "-"
        lines.append(f"  {role:<11} {column:<24} ({entry['found']})")
    urls = report["urls"]
    label = "urls    "
    if urls["column"]:
        lines.append(f"{label} from column {urls['column']}")
        label = " " * len(label)
    names = urls.get("names")
    if names:
        where = {
            "platform": f"the Platform API (databases of organization {names.get('org')})",
            "template": f"the template {names.get('template')}",
        }.get(names["from"] or "", "nowhere (set TURSOTUI_TENANT_URL_TEMPLATE or TURSO_ORG)")
        lines.append(f"{label} rows with only a database name ({names['column']}): from {where}")
    lines.append(f"tenants  {len(tenants)}")
    for entry in report["tenants"]:
        slug = entry["slug"] or "(no slug)"
        if entry["broken"]:
            lines.append(f"  {slug}: broken: {entry['problem']}")
        else:
            lines.append(f"  {slug}: url from {entry['url_from']} · token {entry['token_why']}")
    for line in lines:
        print(printable(line))  # slugs, names and URLs are database content
    return OK
