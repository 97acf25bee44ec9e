"""`tursotui tenants create|destroy|rotate-token`: the provisioning sagas.

`register(tenant_subparsers)` is called by `tursotui.cli.tenants` with the
subparsers of the `tenants` command. Progress goes to stderr, one line per step.
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
    note,
    open_workspace,
    remember_secret,
)
from tursotui.provision import ProvisionError, StepReport
from tursotui.session.registry import RegistryError
from tursotui.session.workspace import Workspace

_MARKS = {"done": "ok", "failed": "FAILED", "skipped": "skipped", "undone": "undone"}


def show_progress(report: StepReport) -> None:
    """Print a finished step on stderr: `  create database ... ok (detail)`."""
    if report.status == "running":
        return
    detail = f" ({report.detail})" if report.detail else ""
    note(f"  {report.step} ... {_MARKS.get(report.status, report.status)}{detail}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `create`, `destroy` and `rotate-token` to the `tenants` command."""
    create = subparsers.add_parser(
        "create",
        help="provision, migrate and register a new tenant (Platform API or local)",
        description=(
            "Create the tenant's database (through the Turso Platform API when TURSO_ORG and "
            "TURSO_PLATFORM_API_TOKEN are set, else a local file under the data directory), "
            "mint its token, run the migrations, check it answers, and only then register it. "
            "A failure undoes what was done; running the command again finishes the job."
        ),
    )
    create.add_argument(
        "slug",
        help="the tenant's slug and database name: lowercase letters, digits, single dashes",
    )
    create.add_argument("--name", help="display name (default: the slug)")
    create.add_argument("--group", help="Turso group for the database (default: TURSOTUI_GROUP)")
    create.add_argument(
        "--read-only-token",
        action="store_true",
        help="register a read-only token (migrations still run with a short-lived full one)",
    )
    add_settings_arguments(create)
    create.set_defaults(handler=run_create)

    destroy = subparsers.add_parser(
        "destroy",
        help="delete the tenant's database, then its registry row",
        description=(
            "Delete the tenant's database (Platform API or local file), then its registry row. "
            "A tenant whose database is already gone is still removed. Asks to type the slug "
            "unless --yes is given."
        ),
    )
    destroy.add_argument("slug", help="the tenant to destroy")
    destroy.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_settings_arguments(destroy)
    destroy.set_defaults(handler=run_destroy)

    rotate = subparsers.add_parser(
        "rotate-token",
        help="invalidate the tenant's tokens, mint a new one and store it",
        description=(
            "Invalidate every token of the tenant's database (Platform API), mint a new one, "
            "store it in the registry and check the tenant answers with it."
        ),
    )
    rotate.add_argument("slug", help="the tenant whose token to rotate")
    rotate.add_argument("--read-only-token", action="store_true", help="mint a read-only token")
    add_settings_arguments(rotate)
    rotate.set_defaults(handler=run_rotate)


@command
async def run_create(args: argparse.Namespace) -> int:
    """`tenants create SLUG`."""
    from tursotui.provision.create import create_tenant  # `tenants` alone does not load it

    async with open_workspace(args) as workspace:
        where = "Turso" if workspace.settings.uses_platform_api else "a local file"
        note(f"creating tenant {args.slug} in {where}")
        try:
            tenant = await create_tenant(
                workspace,
                args.slug,
                name=args.name,
                group=args.group,
                read_only_token=args.read_only_token,
                progress=show_progress,
            )
        except ProvisionError as error:
            return fail(str(error))
        remember_secret(tenant.token)
        note(f"created tenant {tenant.slug}: {tenant.url}")
        return OK


@command
async def run_destroy(args: argparse.Namespace) -> int:
    """`tenants destroy SLUG [--yes]`; a delete-protected tenant is refused before asking."""
    from tursotui.provision.maintain import destroy_tenant

    async with open_workspace(args) as workspace:
        refusal = await _destroy_refusal(workspace, args.slug)
        if refusal is not None:
            return fail(refusal)
        if not args.yes:
            if not sys.stdin.isatty():
                return fail(f"destroying {args.slug} deletes its database; add --yes to confirm")
            print(
                f"This deletes the database of tenant {args.slug} and its registry row.\n"
                f"Type the slug to confirm: ",
                end="",
                file=sys.stderr,
                flush=True,
            )
            if sys.stdin.readline().strip() != args.slug:
                return fail("not confirmed; nothing was changed")
        note(f"destroying tenant {args.slug}")
        try:
            deleted = await destroy_tenant(workspace, args.slug, progress=show_progress)
        except ProvisionError as error:
            return fail(str(error))
        what = "its database and registry row" if deleted else "its registry row"
        note(f"destroyed tenant {args.slug}: removed {what}")
        settings = workspace.settings
        if deleted and (settings.uses_platform_api or settings.trash_days > 0):
            note(f"to bring it back: tursotui tenants undelete {args.slug}")
        return OK


async def _destroy_refusal(workspace: Workspace, slug: str) -> str | None:
    """Why destroying `slug` is refused before any confirmation (read-only, protected)."""
    from tursotui.provision.maintain import destroy_refusal
    from tursotui.provision.protect import protection_refusal

    if workspace.settings.read_only:
        return f"cannot destroy tenant {slug}: tursotui is in read-only mode"
    try:
        tenant = next((t for t in await workspace.registry.tenants() if t.slug == slug), None)
    except RegistryError:
        return None  # the saga says what is wrong with the registry
    if tenant is None:
        return None
    return destroy_refusal(workspace.settings, tenant) or await protection_refusal(
        workspace, tenant
    )


@command
async def run_rotate(args: argparse.Namespace) -> int:
    """`tenants rotate-token SLUG`."""
    from tursotui.provision.maintain import rotate_token

    async with open_workspace(args) as workspace:
        note(f"rotating the token of {args.slug}")
        try:
            tenant = await rotate_token(
                workspace, args.slug, read_only=args.read_only_token, progress=show_progress
            )
        except ProvisionError as error:
            return fail(str(error))
        remember_secret(tenant.token)
        note(f"rotated the token of {tenant.slug}; the old tokens no longer work")
        return OK if tenant.token is not None else FAILED
