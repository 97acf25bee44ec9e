"""Delete protection and blocked reads or writes: what the Platform API says of each tenant.

A Turso database can be delete-protected (itself, or through its group), and
reads or writes can be blocked on it (an unpaid bill does that). tursotui shows
all of it per tenant and refuses to destroy a protected tenant before anything
asks for a confirmation. Local tenants have no platform to say so: their
protection is a list of slugs in `<data dir>/protected.json`, so the same
commands work on the demo fleet.

One `listDatabases` call answers for the whole fleet (each database carries its
flags), plus one call per group in use for the group's own protection.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tursotui.fanout import LoopShare
from tursotui.platform import PlatformError
from tursotui.provision.base import BRANCHES_FILE, Provisioner, ProvisionError
from tursotui.provision.provisioners import LocalProvisioner, TursoProvisioner, provisioner_for
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.settings import Settings
from tursotui.session.workspace import Workspace

if TYPE_CHECKING:  # the API's models load with the first API call, not with `tursotui tenants`
    from tursotui.platform import Database

PROTECTED_FILE = "protected.json"
"""Under the data directory: the slugs of local tenants that are delete-protected."""


class Flags(NamedTuple):
    """What is known of one tenant's lifecycle settings.

    A NamedTuple, not a frozen dataclass: never changed once made, and a tenth of the cost
    to create (`tenants` and the tenants screen's flags load this module).

    Attributes:
        delete_protection: The database itself is delete-protected.
        group_protection: Its group is delete-protected (which protects it too).
        block_reads: Reads are blocked (e.g. an unpaid bill).
        block_writes: Writes are blocked.
        database: The database's name at the provider (None: not found).
        group: Its Turso group (None for local tenants).
        branch_of: The database it was branched from, when the API says so.
        where: `turso` (the Platform API answered) or `local` (`protected.json`).
    """

    delete_protection: bool = False
    group_protection: bool = False
    block_reads: bool = False
    block_writes: bool = False
    database: str | None = None
    group: str | None = None
    branch_of: str | None = None
    where: str = "local"

    @property
    def protected(self) -> bool:
        """Destroying it would be refused."""
        return self.delete_protection or self.group_protection

    @property
    def blocked(self) -> str | None:
        """`reads and writes blocked`, `writes blocked`... or None when nothing is."""
        if self.block_reads and self.block_writes:
            return "reads and writes blocked"
        if self.block_reads:
            return "reads blocked"
        if self.block_writes:
            return "writes blocked"
        return None

    def labels(self) -> list[str]:
        """Short words for a table cell: `protected`, `group protected`, `writes blocked`,
        `branch of acme`."""
        out = []
        if self.delete_protection:
            out.append("protected")
        if self.group_protection:
            out.append("group protected")
        if self.blocked:
            out.append(self.blocked)
        if self.branch_of:
            out.append(f"branch of {self.branch_of}")
        return out

    def as_json(self) -> dict[str, object]:
        """The flags as `tenants --json` prints them."""
        return {
            "delete_protection": self.delete_protection,
            "group_protection": self.group_protection,
            "block_reads": self.block_reads,
            "block_writes": self.block_writes,
            "group": self.group,
            "branch_of": self.branch_of,
        }


# -- local tenants' protection ---------------------------------------------------------------


def _protected_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / PROTECTED_FILE


def local_protected(settings: Settings) -> set[str]:
    """The slugs of protected local tenants (an unreadable file protects nothing new: the
    error is raised by `set_protection`, which must not lose the list)."""
    try:
        data = json.loads(_protected_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {s for s in data if isinstance(s, str)} if isinstance(data, list) else set()


def _write_local_protected(settings: Settings, slugs: set[str]) -> None:
    path = _protected_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(sorted(slugs), indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)  # all or nothing: a crash never leaves half a list


# -- reading ---------------------------------------------------------------------------------


def _branches_made(settings: Settings) -> dict[str, str]:
    """The tenant each branch tursotui made was made of, by the branch's slug.

    The branching module (with the backups a branch is checked against, 9 ms) is loaded
    only when its records exist: the flags are asked on every start of the TUI and by
    `tenants`, and most data directories hold no branch.
    """
    if not (Path(settings.data_dir) / BRANCHES_FILE).exists():
        return {}
    from tursotui.provision.branch import branches

    return {slug: str(record.get("of")) for slug, record in branches(settings).items()}


async def tenant_flags(
    workspace: Workspace,
    tenants: Iterable[Tenant],
    *,
    provisioner: Provisioner | None = None,
) -> dict[str, Flags]:
    """The flags of every tenant that has any to say, by slug (broken rows are skipped).

    Remote tenants are asked of the Platform API (only when credentials are set); local
    tenants made by tursotui read `protected.json`. A tenant that is not found is absent.

    Raises:
        PlatformError: the Platform API could not list the databases.
    """
    settings = workspace.settings
    tenants = [t for t in tenants if not t.broken]
    found: dict[str, Flags] = {}
    local = LocalProvisioner(settings.data_dir / "tenants")
    protected = local_protected(settings)
    made = _branches_made(settings)
    # Asked of the API whenever it can be (`remote`): a tenant is the organization's when
    # a database of the organization has its host (even a `file:` one, as in tests).
    remote: list[Tenant] = []
    by_api = isinstance(provisioner, TursoProvisioner)
    share = LoopShare()
    for tenant in tenants:
        if share.due():
            await share.turn()  # keys typed meanwhile are answered between the slices
        if not by_api and not tenant.is_remote:
            owned = local.owned_database(tenant)
            if owned is not None:
                found[tenant.slug] = Flags(
                    delete_protection=tenant.slug in protected,
                    database=owned,
                    branch_of=made.get(tenant.slug),
                )
                continue
        remote.append(tenant)
    if provisioner is not None and not isinstance(provisioner, TursoProvisioner):
        return found
    if not remote or not (settings.uses_platform_api or provisioner is not None):
        return found
    own = provisioner is None
    turso = provisioner or provisioner_for(settings)
    try:
        if not isinstance(turso, TursoProvisioner):
            return found
        databases = await turso.client.list_databases()
        groups: dict[str, bool] = {}
        for group in sorted({d.group for d in databases if d.group}):
            try:
                config = await turso.client.get_group_configuration(group)
            except PlatformError:
                continue  # the database's own flags still say the most
            groups[group] = config.get("delete_protection") is True
        # Each database by its host and by the URL tursotui makes of it, first one kept,
        # so that each tenant is looked up once: scanning every database for every tenant
        # took seconds on the event loop at 500 tenants (B5), and grows with the square.
        by_key: dict[str, tuple[int, Database]] = {}
        for position, database in enumerate(databases):
            if database.hostname:
                by_key.setdefault("host:" + database.hostname, (position, database))
                by_key.setdefault("url:" + turso.url_for(database.hostname), (position, database))
        for tenant in remote:
            try:
                host = tenant.location.host
            except ValueError:
                continue
            candidates = [by_key.get("host:" + host), by_key.get("url:" + tenant.url)]
            chosen = min((c for c in candidates if c is not None), default=None)
            if chosen is not None:
                database = chosen[1]
                parent = database.parent
                found[tenant.slug] = Flags(
                    delete_protection=bool(database.delete_protection),
                    group_protection=groups.get(database.group or "", False),
                    block_reads=bool(database.block_reads),
                    block_writes=bool(database.block_writes),
                    database=database.name,
                    group=database.group,
                    branch_of=(parent.get("name") if isinstance(parent, dict) else None)
                    or made.get(tenant.slug),
                    where="turso",
                )
        return found
    finally:
        if own:
            await turso.close()


async def protection_refusal(
    workspace: Workspace, tenant: Tenant, *, provisioner: Provisioner | None = None
) -> str | None:
    """Why destroying `tenant` is refused because it is delete-protected, or None.

    Asked before any confirmation: a protected tenant is never offered for deletion. When
    the Platform API cannot be asked, None: the API itself refuses a protected database.
    """
    if tenant.broken:
        return None
    try:
        flags = (await tenant_flags(workspace, [tenant], provisioner=provisioner)).get(tenant.slug)
    except PlatformError:
        return None
    slug = tenant.slug
    if flags is None or not flags.protected:
        return None
    if flags.delete_protection:
        return (
            f"cannot destroy tenant {slug}: it is delete-protected; lift the protection "
            f"first with: tursotui tenants protect {slug} --off"
        )
    return (
        f"cannot destroy tenant {slug}: its group {flags.group} is delete-protected; lift "
        f"it first with: tursotui tenants protect --group {flags.group} --off"
    )


# -- writing ---------------------------------------------------------------------------------


async def set_protection(
    workspace: Workspace,
    slug: str,
    on: bool,
    *,
    provisioner: Provisioner | None = None,
) -> bool:
    """Turn tenant `slug`'s delete protection on or off; audited as `protect-tenant`.

    Returns:
        Whether it was on before.

    Raises:
        ProvisionError: read-only session, unknown tenant, no way to change it, or the
            Platform API refused (the message names the tenant and the cause).
    """
    settings = workspace.settings
    verb = "protect" if on else "unprotect"
    if settings.read_only:
        raise ProvisionError(f"cannot {verb} tenant {slug}: tursotui is in read-only mode")
    try:
        tenant = await workspace.registry.get(slug)
    except RegistryError as error:
        raise ProvisionError(f"cannot {verb} tenant {slug}: {error}") from None
    if tenant.is_remote and not (settings.uses_platform_api or provisioner is not None):
        # Checked before anything is asked: the message says what to set.
        raise ProvisionError(
            f"cannot {verb} tenant {slug}: its database is remote and no Platform API "
            "credentials are set (TURSO_ORG, TURSO_PLATFORM_API_TOKEN)"
        )
    try:
        flags = (await tenant_flags(workspace, [tenant], provisioner=provisioner)).get(slug)
    except PlatformError as error:
        raise ProvisionError(f"cannot {verb} tenant {slug}: {error}") from None
    if flags is None or flags.database is None:
        where = "no database of the organization has its host"
        if not tenant.is_remote:
            where = f"its database {tenant.host} is not one tursotui provisioned"
        raise ProvisionError(f"cannot {verb} tenant {slug}: {where}")
    before = flags.delete_protection
    try:
        async with workspace.audit.recording(
            "protect-tenant", slug, before=before, after=on, detail=flags.database
        ):
            if flags.where == "local":
                protected = local_protected(settings)
                try:
                    _write_local_protected(
                        settings, protected | {slug} if on else protected - {slug}
                    )
                except OSError as error:
                    raise ProvisionError(
                        f"cannot {verb} tenant {slug}: {_protected_path(settings)}: "
                        f"{error.strerror or error}"
                    ) from None
                return before
            own = provisioner is None
            turso = provisioner or provisioner_for(settings)
            try:
                assert isinstance(turso, TursoProvisioner)
                answer = await turso.client.update_database_configuration(
                    flags.database, delete_protection=on
                )
            except PlatformError as error:
                raise ProvisionError(f"cannot {verb} tenant {slug}: {error}") from None
            finally:
                if own:
                    await turso.close()
            if answer.get("delete_protection") is not on:
                raise ProvisionError(
                    f"cannot {verb} tenant {slug}: the Platform API answered delete_protection="
                    f"{answer.get('delete_protection')}"
                )
            return before
    except AuditError as error:
        raise ProvisionError(str(error)) from None


async def set_group_protection(
    workspace: Workspace, group: str, on: bool, *, provisioner: Provisioner | None = None
) -> bool:
    """Turn Turso group `group`'s delete protection on or off; audited as `protect-group`.

    Returns:
        Whether it was on before.
    """
    settings = workspace.settings
    verb = "protect" if on else "unprotect"
    if settings.read_only:
        raise ProvisionError(f"cannot {verb} group {group}: tursotui is in read-only mode")
    if not (settings.uses_platform_api or provisioner is not None):
        raise ProvisionError(
            f"cannot {verb} group {group}: no Platform API credentials are set "
            "(TURSO_ORG, TURSO_PLATFORM_API_TOKEN)"
        )
    own = provisioner is None
    turso = provisioner or provisioner_for(settings)
    try:
        assert isinstance(turso, TursoProvisioner)
        try:
            before = (await turso.client.get_group_configuration(group)).get(
                "delete_protection"
            ) is True
            async with workspace.audit.recording(
                "protect-group", f"group:{group}", before=before, after=on
            ):
                answer = await turso.client.update_group_configuration(group, delete_protection=on)
                if answer.get("delete_protection") is not on:
                    raise ProvisionError(
                        f"cannot {verb} group {group}: the Platform API answered "
                        f"delete_protection={answer.get('delete_protection')}"
                    )
        except PlatformError as error:
            raise ProvisionError(f"cannot {verb} group {group}: {error}") from None
        except AuditError as error:
            raise ProvisionError(str(error)) from None
        return before
    finally:
        if own:
            await turso.close()
