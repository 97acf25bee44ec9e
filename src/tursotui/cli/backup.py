"""`tursotui backup SLUG... | --all [--out DIR]` and `tursotui backup --verify DIR`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tursotui.backup import BackupError, backup_tenants, verify
from tursotui.registry import RegistryError
from tursotui.settings import SettingsError, load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `backup` command."""
    parser = subparsers.add_parser(
        "backup",
        help="back tenants up into SQLite files with a manifest, or verify a backup",
        description=(
            "Write a consistent SQLite file per tenant and a manifest.json (tenant, time, "
            "schema version, row counts, SHA-256) into DIR; --verify DIR opens every file "
            "and compares it with the manifest. Progress goes to stderr."
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
    parser.set_defaults(handler=run)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> int:
    """Back up or verify; 0 when everything succeeded, 1 if anything failed, 2 on usage errors."""
    if args.verify is not None:
        if args.slugs or args.all or args.out:
            _say("tursotui backup: --verify DIR takes no tenants and no --out")
            return 2
        return _verify(args.verify)
    if bool(args.slugs) == bool(args.all):
        _say("tursotui backup: name tenants (SLUG ...) or --all, not both")
        return 2
    try:
        settings = load_settings(read_only=getattr(args, "read_only", None))
    except SettingsError as error:
        _say(f"tursotui: {error}")
        return 1
    from tursotui.workspace import Workspace

    try:
        workspace = await Workspace.open(settings)
    except RegistryError as error:
        _say(f"tursotui: {error}")
        return 1
    try:
        tenants = await workspace.registry.tenants()
        if not args.all:
            by_slug = {t.slug: t for t in tenants}
            unknown = [s for s in args.slugs if s not in by_slug]
            if unknown:
                _say(f"tursotui backup: no tenant {', '.join(unknown)} in the registry")
                return 1
            tenants = [by_slug[s] for s in dict.fromkeys(args.slugs)]
        if not tenants:
            _say("tursotui backup: the registry has no tenants")
            return 1
        out = args.out or settings.data_dir / "backups" / time.strftime(
            "%Y%m%dT%H%M%SZ", time.gmtime()
        )
        _say(f"backing up {len(tenants)} tenant(s) into {out}")
        started = time.perf_counter()
        try:
            result = await backup_tenants(
                tenants,
                out,
                workspace.connection,
                concurrency=min(4, settings.fleet_concurrency),
                progress=lambda slug, text: _say(f"  {slug}: {text}"),
            )
        except OSError as error:
            _say(f"tursotui backup: cannot write {out}: {error}")
            return 1
    except RegistryError as error:
        _say(f"tursotui: {error}")
        return 1
    finally:
        await workspace.close()
    elapsed = time.perf_counter() - started
    _say(
        f"{len(result.records)} backed up, {len(result.failures)} failed in {elapsed:.1f} s; "
        f"manifest: {out / 'manifest.json'}"
    )
    for record in result.records:
        if not record.consistent:
            _say(f"  {record.tenant}: copied without a read transaction; it may mix moments")
    for failure in result.failures:
        _say(f"  FAILED {failure.tenant}: {failure.error}")
    return 1 if result.failures else 0


def _verify(directory: Path) -> int:
    try:
        results = verify(directory)
    except BackupError as error:
        _say(f"tursotui backup: {error}")
        return 1
    bad = 0
    for result in results:
        if result.ok:
            _say(f"  ok      {result.tenant} ({result.file})")
        else:
            bad += 1
            _say(f"  FAILED  {result.tenant} ({result.file}): {'; '.join(result.problems)}")
    _say(f"{len(results) - bad} of {len(results)} backups verified in {directory}")
    return 1 if bad or not results else 0
