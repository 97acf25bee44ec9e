"""`tursotui backup SLUG... | --all [--out DIR]` and `tursotui backup --verify DIR`.

Each tenant becomes one consistent SQLite file in DIR, with `manifest.json`
(tenant, time, schema version, row counts, SHA-256); progress goes to stderr.
`--verify DIR` opens every file and compares it with the manifest. Exit status 1
if any tenant could not be backed up or any file does not verify.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tursotui.cli.common import (
    FAILED,
    OK,
    add_settings_arguments,
    command,
    fail,
    note,
    open_workspace,
)
from tursotui.tenant.backup.models import BackupError
from tursotui.tenant.backup.run import backup_tenants
from tursotui.tenant.backup.verify import verify
from tursotui.words import plural


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `backup` command."""
    parser = subparsers.add_parser(
        "backup",
        help="back tenants up into SQLite files with a manifest, or verify a backup",
        description=(
            "Write a consistent SQLite file per tenant and a manifest.json (tenant, time, "
            "schema version, row counts, SHA-256) into DIR; --verify DIR opens every file "
            "and compares it with the manifest. Progress goes to stderr. Exit status 1 if "
            "any tenant failed or any file does not verify."
        ),
    )
    parser.add_argument("slugs", nargs="*", metavar="SLUG", help="tenants to back up")
    parser.add_argument("--all", action="store_true", help="back up every tenant")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="backup directory (default: <data dir>/backups/<UTC time>)",
    )
    parser.add_argument(
        "--verify", type=Path, metavar="DIR", help="check the backup in DIR against its manifest"
    )
    add_settings_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


@command
async def run(args: argparse.Namespace) -> int:
    """Back up or verify; 0 when everything succeeded, 1 if anything failed."""
    if args.verify is not None:
        if args.slugs or args.all or args.out:
            args.parser.error("--verify DIR takes no tenants and no --out")
        return _verify(args.verify)
    if bool(args.slugs) == bool(args.all):
        args.parser.error("name the tenants to back up, or give --all (not both)")
    async with open_workspace(args) as workspace:
        tenants = await workspace.registry.tenants()
        if not args.all:
            by_slug = {t.slug: t for t in tenants}
            unknown = [s for s in args.slugs if s not in by_slug]
            if unknown:
                return fail(f"no tenant {', '.join(unknown)} in the registry")
            tenants = [by_slug[s] for s in dict.fromkeys(args.slugs)]
        if not tenants:
            return fail("the registry has no tenants")
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out: Path = args.out or workspace.settings.data_dir / "backups" / stamp
        note(f"backing up {plural(len(tenants), 'tenant')} into {out}")
        started = time.perf_counter()
        result = await backup_tenants(
            tenants,
            out,
            workspace.connection,
            concurrency=min(4, workspace.settings.fleet_concurrency),
            progress=lambda slug, text: note(f"  {slug}: {text}"),
        )
    elapsed = time.perf_counter() - started
    note(
        f"{len(result.records)} backed up, {len(result.failures)} failed in {elapsed:.1f} s; "
        f"manifest: {out / 'manifest.json'}"
    )
    for record in result.records:
        if not record.consistent:
            note(f"  {record.tenant}: copied without one transaction; it may mix moments")
    for failure in result.failures:
        note(f"  FAILED {failure.tenant}: {failure.error}")
    return FAILED if result.failures else OK


def _verify(directory: Path) -> int:
    try:
        results = verify(directory)
    except BackupError as error:
        return fail(str(error))
    bad = 0
    for result in results:
        if result.ok:
            note(f"  ok      {result.tenant} ({result.file})")
        else:
            bad += 1
            note(f"  FAILED  {result.tenant} ({result.file}): {'; '.join(result.problems)}")
    note(f"{len(results) - bad} of {len(results)} backups verified in {directory}")
    return FAILED if bad or not results else OK
