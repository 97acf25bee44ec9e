"""A Turso group's tokens: mint one, or rotate them all (with the care per-tenant rotation takes).

Rotating a group's tokens invalidates every token of every database in the group:
each tenant of the group whose registry row stores a token stops answering until
it has a new one, and tenants opened with the group token (TURSO_GROUP_AUTH_TOKEN)
need the new group token in the settings. `group_impact` says exactly which, for
the confirmation; `rotate_group_tokens` can mint and store the rows' new tokens
right after (`rekey`), each checked by a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tursotui.platform import PlatformError
from tursotui.provision.base import Provisioner, ProvisionError, wait_until_answers
from tursotui.provision.provisioners import TursoProvisioner, provisioner_for
from tursotui.secret import Secret
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.workspace import Workspace

if TYPE_CHECKING:  # the API client (httpx) only where a fleet uses the Platform API
    from tursotui.platform.api import TokenAuthorization


@dataclass
class GroupImpact:
    """What rotating group `group`'s tokens touches.

    Attributes:
        group: The group.
        databases: Names of every database in the group.
        tenants: Registered tenants whose database is in the group.
        stored: Those whose registry row stores a token: each needs a new one.
        group_token: Those opened with the group token: the settings need the new one.
        other: Those whose token comes from elsewhere (minted per session, a command).
    """

    group: str
    databases: list[str] = field(default_factory=list)
    tenants: list[Tenant] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)
    group_token: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The confirmation's text: how many, and which rows need a new token."""
        lines = [
            f"Rotating the tokens of group {self.group} invalidates every token of its "
            f"{len(self.databases)} databases; {len(self.tenants)} registered tenants are in it."
        ]
        if self.stored:
            lines.append(
                f"Registry rows that will need a new token ({len(self.stored)}): "
                + ", ".join(self.stored)
            )
        if self.group_token:
            lines.append(
                f"Opened with the group token ({len(self.group_token)}): "
                + ", ".join(self.group_token)
                + " (set the new one in TURSO_GROUP_AUTH_TOKEN)"
            )
        if self.other:
            lines.append(f"Other token sources ({len(self.other)}): " + ", ".join(self.other))
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {
            "group": self.group,
            "databases": self.databases,
            "tenants": [t.slug for t in self.tenants],
            "need_new_token": self.stored,
            "use_group_token": self.group_token,
            "other": self.other,
        }


def _needs_api(workspace: Workspace, what: str, provisioner: Provisioner | None) -> None:
    settings = workspace.settings
    if not (settings.uses_platform_api or isinstance(provisioner, TursoProvisioner)):
        raise ProvisionError(
            f"cannot {what}: no Platform API credentials are set "
            "(TURSO_ORG, TURSO_PLATFORM_API_TOKEN)"
        )


async def group_impact(
    workspace: Workspace, group: str, *, provisioner: Provisioner | None = None
) -> GroupImpact:
    """Which databases and registered tenants a rotation of `group`'s tokens touches.

    Raises:
        ProvisionError: no credentials, or the Platform API failed (one line).
    """
    _needs_api(workspace, f"rotate the tokens of group {group}", provisioner)
    own = provisioner is None
    turso = provisioner or provisioner_for(workspace.settings)
    try:
        assert isinstance(turso, TursoProvisioner)
        try:
            databases = await turso.client.list_databases(group)
            tenants = await workspace.registry.tenants()
        except PlatformError as error:
            raise ProvisionError(f"cannot read group {group}: {error}") from None
        except RegistryError as error:
            raise ProvisionError(f"cannot read group {group}: {error}") from None
        impact = GroupImpact(group, sorted(d.name for d in databases if d.name))
        for tenant in tenants:
            if tenant.broken:
                continue
            for database in databases:
                hostname = database.hostname
                if hostname and (
                    hostname == _host(tenant) or turso.url_for(hostname) == tenant.url
                ):
                    impact.tenants.append(tenant)
                    source = workspace.tokens.choose(tenant).source
                    bucket = {"stored": impact.stored, "group": impact.group_token}.get(
                        source, impact.other
                    )
                    bucket.append(tenant.slug)
                    break
        return impact
    finally:
        if own:
            await turso.close()


def _host(tenant: Tenant) -> str | None:
    try:
        return tenant.location.host
    except ValueError:
        return None


async def mint_group_token(
    workspace: Workspace,
    group: str,
    *,
    expiration: str = "never",
    read_only: bool = False,
    provisioner: Provisioner | None = None,
) -> Secret:
    """A new token for every database of `group`; audited as `mint-group-token` (never the
    token itself)."""
    if workspace.settings.read_only:
        raise ProvisionError(
            f"cannot mint a token for group {group}: tursotui is in read-only mode"
        )
    _needs_api(workspace, f"mint a token for group {group}", provisioner)
    authorization: TokenAuthorization = "read-only" if read_only else "full-access"
    own = provisioner is None
    turso = provisioner or provisioner_for(workspace.settings)
    try:
        assert isinstance(turso, TursoProvisioner)
        async with workspace.audit.recording(
            "mint-group-token",
            f"group:{group}",
            after=authorization,
            detail=f"expires {expiration}",
        ):
            try:
                return await turso.client.create_group_token(
                    group, expiration=expiration, authorization=authorization
                )
            except PlatformError as error:
                raise ProvisionError(f"cannot mint a token for group {group}: {error}") from None
    except AuditError as error:
        raise ProvisionError(str(error)) from None
    finally:
        if own:
            await turso.close()


@dataclass
class RotateOutcome:
    """What `rotate_group_tokens` did: the impact, the rows re-keyed, and those that failed."""

    impact: GroupImpact
    rekeyed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


async def rotate_group_tokens(
    workspace: Workspace,
    group: str,
    *,
    rekey: bool = False,
    provisioner: Provisioner | None = None,
) -> RotateOutcome:
    """Invalidate every token of `group`; with `rekey`, mint and store a new token for each
    registry row that stores one (each checked with a query). Audited as
    `rotate-group-token`, each re-keyed row as `rotate-token`.

    Raises:
        ProvisionError: refused (read-only, no credentials) or the rotation failed; a row
            that could not be re-keyed is listed in the outcome, not raised.
    """
    settings = workspace.settings
    if settings.read_only:
        raise ProvisionError(
            f"cannot rotate the tokens of group {group}: tursotui is in read-only mode"
        )
    own = provisioner is None
    turso = provisioner or provisioner_for(settings)
    try:
        impact = await group_impact(workspace, group, provisioner=turso)
        assert isinstance(turso, TursoProvisioner)
        outcome = RotateOutcome(impact)
        try:
            async with workspace.audit.recording(
                "rotate-group-token",
                f"group:{group}",
                impact.stored,
                detail=f"{len(impact.databases)} databases",
            ):
                try:
                    await turso.client.rotate_group_tokens(group)
                except PlatformError as error:
                    raise ProvisionError(
                        f"cannot rotate the tokens of group {group}: {error}; nothing changed"
                    ) from None
            for tenant in impact.tenants:
                await workspace.forget(tenant.slug)  # its cached connection holds a dead token
            if rekey:
                for tenant in impact.tenants:
                    if tenant.slug in impact.stored:
                        await _rekey(workspace, turso, tenant, outcome)
        except AuditError as error:
            raise ProvisionError(str(error)) from None
        return outcome
    finally:
        if own:
            await turso.close()


async def _rekey(
    workspace: Workspace, turso: TursoProvisioner, tenant: Tenant, outcome: RotateOutcome
) -> None:
    slug = tenant.slug
    try:
        async with workspace.audit.recording(
            "rotate-token", slug, before=tenant.host, detail="after the group's rotation"
        ):
            database = await turso.database_for(tenant)
            if database is None:
                raise ProvisionError(f"{slug}: no database of the organization has this host")
            token = await turso.mint_token(database)
            await workspace.registry.set_token(slug, token or "")
            await wait_until_answers(slug, tenant.url, token, workspace.settings.timeout)
        outcome.rekeyed.append(slug)
    except (PlatformError, ProvisionError, RegistryError, AuditError) as error:
        outcome.failed[slug] = str(error)  # one row's failure does not stop the others
