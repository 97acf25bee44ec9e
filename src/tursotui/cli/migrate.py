"""`tursotui migrate [SLUG ...|--all] [--dry-run]`: bring tenants up to the migrations folder.

Tenants are migrated concurrently (at most `fleet_concurrency` at once), each in one
transaction, each recorded in the audit log; a failure does not stop the others. The
command ends with one line per tenant and exits 1 if any tenant failed or was refused.
"""

from __future__ import annotations

import argparse
import sys

from tursotui.cli.common import (
    FAILED,
    OK,
    add_settings_arguments,
    command,
    fail,
    open_workspace,
    scrub,
)
from tursotui.fleet.migrate import TenantMigration, migrate_fleet
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant.migrations import load_folder
from tursotui.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `migrate` command."""
    parser = subparsers.add_parser(
        "migrate",
        help="apply pending migrations to tenants (drizzle-compatible)",
        description="Apply the migrations folder (TURSOTUI_MIGRATIONS_DIR, default the built-in "
        "one) to the named tenants, or to every tenant with --all, exactly as drizzle's own "
        "migrator would. Each tenant's pending migrations run in one transaction; a tenant "
        "ahead of the folder is refused. Exit status 1 if any tenant failed or was refused.",
    )
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="tenants to migrate")
    parser.add_argument("--all", action="store_true", help="every tenant in the registry")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be applied; write nothing"
    )
    add_settings_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


@command
async def run(args: argparse.Namespace) -> int:
    """Migrate the chosen tenants and print a per-tenant summary."""
    if bool(args.slugs) == bool(args.all):
        args.parser.error("name the tenants to migrate, or give --all (not both)")
    async with open_workspace(args) as workspace:
        folder = load_folder(workspace.settings.migrations_dir)
        if workspace.settings.read_only and not args.dry_run:
            return fail("read-only mode: migrations write; use --dry-run to see what is pending")
        everyone = await workspace.registry.tenants()
        if args.all:
            chosen = everyone
        else:
            by_slug: dict[str, Tenant] = {}
            for tenant in everyone:
                by_slug.setdefault(tenant.slug, tenant)
            unknown = [s for s in args.slugs if s not in by_slug]
            if unknown:
                raise RegistryError(f"no tenant {', '.join(map(repr, unknown))} in the registry")
            chosen = [by_slug[s] for s in dict.fromkeys(args.slugs)]
        if not chosen:
            print("the registry has no tenants", file=sys.stderr)
            return OK
        outcomes = await migrate_fleet(
            workspace,
            chosen,
            dry_run=args.dry_run,
            concurrency=workspace.settings.fleet_concurrency,
        )
    print_summary(outcomes, folder_path=str(folder.path))
    return OK if all(o.ok for o in outcomes) else FAILED


def print_summary(outcomes: list[TenantMigration], *, folder_path: str) -> None:
    """One line per tenant on stdout, then a count on stderr."""
    width = max(len(o.slug) for o in outcomes)
    for outcome in outcomes:
        print(scrub(f"{outcome.slug:<{width}}  {' '.join(outcome.summary.split())}"))
    failed = [o for o in outcomes if not o.ok]
    mode = " (dry run, nothing written)" if outcomes and outcomes[0].dry_run else ""
    print(
        f"{len(outcomes) - len(failed)} of {plural(len(outcomes), 'tenant')} ok against "
        f"{folder_path}{mode}",
        file=sys.stderr,
    )
