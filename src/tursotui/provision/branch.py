"""Point-in-time branches of a tenant, and comparing and restoring rows from them.

The classic ticket: "the customer deleted half their posts at 14:00". A branch
is a new database holding the tenant as it was at a time: through the Platform
API, a database created with `seed: {type: database, name, timestamp}`; for a
local tenant, a copy of the newest `tursotui backup` of it not after that time.
The branch is registered as a tenant of its own (so it can be browsed, and
destroyed like any tenant), and `<data dir>/branches.json` records whose branch
it is and of when (the registry's shape has no place for that).

`diff_tenant` compares the posts and comments of the tenant with a branch:
added (only live), removed (only in the branch), changed (column by column,
branch → live). `restore_rows` writes chosen rows of the branch back into the
live tenant in ONE batch, each row guarded by the state the diff showed: if any
of them changed since, the batch fails as a whole and nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tursotui.db import LibsqlError
from tursotui.platform import PlatformError
from tursotui.provision.base import (
    BRANCHES_FILE,
    Progress,
    Provisioner,
    ProvisionError,
    Steps,
    cause,
    registered,
    slug_problem,
    wait_until_answers,
)
from tursotui.provision.provisioners import (
    LocalProvisioner,
    TursoProvisioner,
    provisioner_for,
    register_when_ready,
)
from tursotui.session.audit import AuditError

# Column names come from the tenant's schema: quoted, never pasted as they are.
from tursotui.session.registry import RegistryError, Tenant, quote_name
from tursotui.session.settings import Settings
from tursotui.session.workspace import Workspace
from tursotui.tenant.backup.manifest import read_manifest
from tursotui.tenant.backup.models import BackupError
from tursotui.tenant.backup.verify import verify_entry

BRANCH_STEPS = ("create branch", "mint token", "wait until ready", "register")
"""The steps of `branch_tenant`, in order."""

TABLES = ("posts", "comments")
"""The tables a diff compares and a restore writes, parents first."""


# -- the branches file -----------------------------------------------------------------------


def _branches_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / BRANCHES_FILE


def branches(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every recorded branch, by its slug: `{"of": slug, "at": time, "where": ...}`."""
    try:
        data = json.loads(_branches_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def _write_branches(settings: Settings, data: dict[str, dict[str, Any]]) -> None:
    path = _branches_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)  # all or nothing


def forget_branch(settings: Settings, slug: str) -> None:
    """Drop `slug`'s branch record (it was destroyed); nothing when it was none."""
    data = branches(settings)
    if data.pop(slug, None) is not None:
        # A stale record names a tenant that is gone; keeping it on a write error does no harm.
        with contextlib.suppress(OSError):
            _write_branches(settings, data)


# -- times -----------------------------------------------------------------------------------


def parse_time(text: str) -> datetime.datetime:
    """An ISO 8601 time (`2026-12-05T14:00:00Z`, `2026-12-05 14:00`; no zone means UTC).

    Raises:
        ProvisionError: it is not a time.
    """
    try:
        when = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProvisionError(
            f"{text!r} is not a time; write it like 2026-12-05T14:00:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def iso(when: datetime.datetime) -> str:
    """`when` in UTC as `2026-12-05T14:00:00Z`."""
    return when.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- making a branch -------------------------------------------------------------------------


async def branch_tenant(
    workspace: Workspace,
    slug: str,
    new_slug: str,
    *,
    at: datetime.datetime | None = None,
    progress: Progress | None = None,
    provisioner: Provisioner | None = None,
) -> Tenant:
    """Make tenant `new_slug`, a copy of tenant `slug` as it was at `at` (default: now).

    Audited as `branch-tenant`. A failure after the branch database exists deletes it
    again, so nothing is left behind.

    Raises:
        ProvisionError: one line naming the tenant, the step and the cause.
    """
    settings = workspace.settings
    problem = slug_problem(new_slug)
    if problem:
        raise ProvisionError(f"cannot branch tenant {slug} as {new_slug!r}: {problem}")
    if settings.read_only:
        raise ProvisionError(f"cannot branch tenant {slug}: tursotui is in read-only mode")
    try:
        tenants = await workspace.registry.tenants()
        source = await workspace.registry.get(slug)
    except RegistryError as error:
        raise ProvisionError(f"cannot branch tenant {slug}: {error}") from None
    if any(t.slug == new_slug for t in tenants):
        raise ProvisionError(f"cannot branch tenant {slug}: tenant {new_slug} exists already")
    when = at or datetime.datetime.now(datetime.UTC)
    steps = Steps(progress)
    local = LocalProvisioner(settings.data_dir / "tenants")
    try:
        if local.owned_database(source) is not None and not isinstance(
            provisioner, TursoProvisioner
        ):
            async with workspace.audit.recording(
                "branch-tenant", new_slug, before=slug, after=iso(when), detail="local"
            ) as entry:
                tenant, backup = await _branch_local(
                    workspace, local, steps, source, new_slug, when
                )
                entry.detail = f"local, from the backup {backup}"
                return tenant
        if not (settings.uses_platform_api or isinstance(provisioner, TursoProvisioner)):
            raise ProvisionError(
                f"cannot branch tenant {slug}: its database is remote and no Platform API "
                "credentials are set (TURSO_ORG, TURSO_PLATFORM_API_TOKEN)"
            )
        own = provisioner is None
        turso = provisioner or provisioner_for(settings)
        try:
            assert isinstance(turso, TursoProvisioner)
            async with workspace.audit.recording(
                "branch-tenant", new_slug, before=slug, after=iso(when), detail="turso"
            ):
                return await _branch_turso(
                    workspace, turso, steps, source, new_slug, when, at is not None
                )
        finally:
            if own:
                await turso.close()
    except AuditError as error:
        raise ProvisionError(str(error)) from None


def _newest_backup(
    settings: Settings, slug: str, when: datetime.datetime
) -> tuple[Path, dict[str, Any]]:
    """The newest backup of `slug` under `<data dir>/backups` taken at or before `when`."""
    root = Path(settings.data_dir) / "backups"
    found: list[tuple[float, Path, dict[str, Any]]] = []
    if root.is_dir():
        for directory in root.iterdir():
            try:
                entries = read_manifest(directory) if directory.is_dir() else []
            except BackupError:
                continue  # an unreadable manifest offers no candidate
            for entry in entries:
                taken = entry.get("time")
                if entry.get("tenant") != slug or not isinstance(taken, int | float):
                    continue
                if taken <= when.timestamp():
                    found.append((float(taken), directory, entry))
    if not found:
        raise ProvisionError(
            f"cannot branch tenant {slug}: no backup of it taken at or before {iso(when)} "
            f"under {root} (make them with: tursotui backup {slug})"
        )
    _taken, directory, entry = max(found, key=lambda f: f[0])
    return directory, entry


async def _branch_local(
    workspace: Workspace,
    local: LocalProvisioner,
    steps: Steps,
    source: Tenant,
    new_slug: str,
    when: datetime.datetime,
) -> tuple[Tenant, str]:
    settings = workspace.settings
    steps.start("create branch")
    try:
        directory, entry = _newest_backup(settings, source.slug, when)
        check = verify_entry(directory, entry)
        if not check.ok:
            raise ProvisionError(
                f"cannot branch tenant {source.slug}: the backup {directory / check.file} does "
                f"not verify ({'; '.join(check.problems)})"
            )
        target = local.path(new_slug)
        if target.exists():
            raise ProvisionError(f"cannot branch tenant {source.slug}: {target} exists already")
    except ProvisionError as error:
        steps.report("create branch", "failed", str(error))
        raise
    taken = datetime.datetime.fromtimestamp(float(entry["time"]), datetime.UTC)
    created = False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / str(entry["file"]), target)
        created = True
        steps.done(f"from the backup of {iso(taken)}")
        steps.report("mint token", "skipped", "a local file needs none")
        steps.start("wait until ready")
        await wait_until_answers(new_slug, f"file:{target}", None, settings.timeout)
        steps.done()
        steps.start("register")
        tenant = await workspace.registry.add(
            new_slug,
            f"file:{target}",
            None,
            f"{source.name} @ {iso(taken)}",
            db_name=new_slug,
        )
        record = {"of": source.slug, "at": iso(taken), "asked": iso(when), "where": "local"}
        _write_branches(settings, branches(settings) | {new_slug: record})
        steps.done()
        return tenant, str(directory / str(entry["file"]))
    except (OSError, RegistryError, LibsqlError, ProvisionError) as error:
        failed = steps.current or "create branch"
        steps.report(failed, "failed", cause(error))
        if await registered(workspace, new_slug):
            with contextlib.suppress(RegistryError):
                await workspace.registry.remove(new_slug)
        if created:
            await local.delete_database(new_slug)
            steps.report("create branch", "undone", "the branch's file was deleted again")
        what = getattr(error, "strerror", None) or cause(error)
        raise ProvisionError(
            f"branching tenant {source.slug} as {new_slug} failed at step {failed!r}: {what}; "
            "nothing is left behind",
            step=failed,
        ) from None


async def _branch_turso(
    workspace: Workspace,
    turso: TursoProvisioner,
    steps: Steps,
    source: Tenant,
    new_slug: str,
    when: datetime.datetime,
    at_given: bool,
) -> Tenant:
    settings = workspace.settings
    steps.start("create branch")
    try:
        database = await turso.database_for(source)
        if database is None:
            raise ProvisionError(
                f"cannot branch tenant {source.slug}: no database of the organization has its host"
            )
        group = (await turso.client.get_database(database)).group or settings.group
        seed = {"type": "database", "name": database}
        if at_given:
            seed["timestamp"] = iso(when)  # else the copy is of now, as the API makes it
        made = await turso.client.create_database(
            new_slug,
            group,
            seed=seed,
        )
    except PlatformError as error:
        steps.report("create branch", "failed", str(error))
        raise ProvisionError(
            f"cannot branch tenant {source.slug} as {new_slug}: {error}; nothing was created"
        ) from None
    except ProvisionError as error:
        steps.report("create branch", "failed", str(error))
        raise
    steps.done(f"as of {iso(when)}")
    try:
        tenant = await register_when_ready(
            turso,
            workspace,
            steps,
            slug=new_slug,
            database=new_slug,
            hostname=made.hostname,
            name=f"{source.name} @ {iso(when)}",
        )
        record = {"of": source.slug, "at": iso(when), "where": "turso", "database": database}
        _write_branches(settings, branches(settings) | {new_slug: record})
        steps.done()
        return tenant
    except (PlatformError, ProvisionError, RegistryError, LibsqlError, OSError) as error:
        failed = steps.current or "mint token"
        steps.report(failed, "failed", cause(error))
        if await registered(workspace, new_slug):
            with contextlib.suppress(RegistryError):
                await workspace.registry.remove(new_slug)
        try:
            await turso.delete_database(new_slug)
        except (PlatformError, ProvisionError) as undo_error:
            command = turso.cleanup_command(new_slug)
            raise ProvisionError(
                f"branching tenant {source.slug} as {new_slug} failed at step {failed!r}: "
                f"{cause(error)}. Deleting the branch failed too ({cause(undo_error)}); clean "
                f"up with: {command}",
                step=failed,
                cleanup=command,
            ) from None
        steps.report("create branch", "undone", "the branch database was deleted again")
        raise ProvisionError(
            f"branching tenant {source.slug} as {new_slug} failed at step {failed!r}: "
            f"{cause(error)}; the branch database was deleted again, nothing is left behind",
            step=failed,
        ) from None


# -- comparing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowChange:
    """One row that differs between the branch and the live tenant.

    Attributes:
        table: `posts` or `comments`.
        id: The row's id.
        kind: `added` (only live), `removed` (only in the branch), `changed`.
        before: The row in the branch (None when added).
        after: The row live (None when removed).
    """

    table: str
    id: str
    kind: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def columns(self) -> list[str]:
        """The columns whose values differ (every column for an added or removed row)."""
        row = self.before or self.after or {}
        if self.before is None or self.after is None:
            return list(row)
        return [c for c in self.before if self.before.get(c) != self.after.get(c)]

    def as_json(self) -> dict[str, Any]:
        changes = (
            {
                c: {"before": (self.before or {}).get(c), "after": (self.after or {}).get(c)}
                for c in self.columns
            }
            if self.kind == "changed"
            else None
        )
        return {
            "table": self.table,
            "id": self.id,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "changes": changes,
        }


@dataclass
class Diff:
    """What differs between tenant `slug` (live) and its branch `branch`."""

    slug: str
    branch: str
    changes: list[RowChange] = field(default_factory=list)

    def find(self, table: str, row_id: str) -> RowChange | None:
        for change in self.changes:
            if change.table == table and change.id == row_id:
                return change
        return None


async def _rows(
    workspace: Workspace, tenant: Tenant, table: str
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    connection = await workspace.connection(tenant)
    exists = await connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    )
    if not exists.rows:
        return [], {}
    result = await connection.execute(f'SELECT * FROM "{table}" ORDER BY id')
    columns = list(result.columns)
    return columns, {
        str(row[columns.index("id")]): dict(zip(columns, row, strict=True)) for row in result.rows
    }


async def diff_tenant(workspace: Workspace, slug: str, branch: str) -> Diff:
    """Posts and comments added, removed or changed in tenant `slug` since branch `branch`.

    Only reads. Rows are compared on the columns both sides have.

    Raises:
        ProvisionError: a tenant is not in the registry or cannot be read.
    """
    try:
        live = await workspace.registry.get(slug)
        past = await workspace.registry.get(branch)
    except RegistryError as error:
        raise ProvisionError(f"cannot compare {slug} with {branch}: {error}") from None
    diff = Diff(slug, branch)
    for table in TABLES:
        try:
            live_columns, now = await _rows(workspace, live, table)
            past_columns, then = await _rows(workspace, past, table)
        except LibsqlError as error:
            raise ProvisionError(f"cannot compare {slug} with {branch}: {cause(error)}") from None
        common = [c for c in live_columns if c in past_columns]

        def keep(row: dict[str, Any], common: list[str] = common) -> dict[str, Any]:
            return {c: row.get(c) for c in common}

        for row_id in sorted(set(now) | set(then)):
            if row_id not in then:
                diff.changes.append(RowChange(table, row_id, "added", None, keep(now[row_id])))
            elif row_id not in now:
                diff.changes.append(RowChange(table, row_id, "removed", keep(then[row_id]), None))
            elif keep(now[row_id]) != keep(then[row_id]):
                diff.changes.append(
                    RowChange(table, row_id, "changed", keep(then[row_id]), keep(now[row_id]))
                )
    return diff


# -- restoring -------------------------------------------------------------------------------


def _guard(table: str, change: RowChange) -> tuple[str, list[Any]]:
    """A statement that fails (so the whole batch does) unless the live row is as the diff
    showed: present with the same values, or absent for a removed row.

    SQLite has no RAISE outside triggers; `json()` of text that is not JSON is an error
    that every libSQL server reports, so it stands in for one.
    """
    if change.after is None:
        condition, args = f'NOT EXISTS (SELECT 1 FROM "{table}" WHERE id = ?)', [change.id]
    else:
        columns = list(change.after)
        where = " AND ".join(f"{quote_name(c)} IS ?" for c in columns)
        condition = f'EXISTS (SELECT 1 FROM "{table}" WHERE {where})'
        args = [change.after[c] for c in columns]
    message = f"guard: {table} {change.id} changed since the diff"
    return f"SELECT CASE WHEN {condition} THEN 1 ELSE json(?) END", [*args, message]


def _write(table: str, change: RowChange) -> tuple[str, list[Any]]:
    """The statement that puts the branch's row back (insert, update, or delete an added one)."""
    if change.before is None:  # added since: it goes
        return f'DELETE FROM "{table}" WHERE id = ?', [change.id]
    columns = list(change.before)
    quoted = ", ".join(quote_name(c) for c in columns)
    if change.after is None:  # removed since: it comes back
        marks = ", ".join("?" for _ in columns)
        return f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', [
            change.before[c] for c in columns
        ]
    changed = change.columns
    sets = ", ".join(f"{quote_name(c)} = ?" for c in changed)
    return f'UPDATE "{table}" SET {sets} WHERE id = ?', [
        *(change.before[c] for c in changed),
        change.id,
    ]


async def _changed_since(
    workspace: Workspace, tenant: Tenant, chosen: list[RowChange]
) -> list[RowChange]:
    """The chosen rows whose live state is no longer what the diff showed."""
    changed = []
    for table in TABLES:
        try:
            _columns, now = await _rows(workspace, tenant, table)
        except LibsqlError:
            return []
        for change in chosen:
            if change.table != table:
                continue
            live = now.get(change.id)
            if change.after is None:
                if live is not None:
                    changed.append(change)
            elif live is None or any(live.get(c) != v for c, v in change.after.items()):
                changed.append(change)
    return changed


async def restore_rows(
    workspace: Workspace,
    diff: Diff,
    *,
    posts: list[str] | None = None,
    comments: list[str] | None = None,
) -> list[RowChange]:
    """Put chosen rows of the branch back into the live tenant, as the diff showed them.

    One batch: a guard per row (the live row is still what the diff showed), then the
    writes (posts before comments when inserting, comments before posts when deleting).
    Audited as `restore-rows` with the row ids; all or nothing.

    Raises:
        ProvisionError: read-only, a row not in the diff, or the batch failed (a guard
            says which row changed since the diff); nothing was written.
    """
    slug = diff.slug
    if workspace.settings.read_only:
        raise ProvisionError(f"cannot restore rows into {slug}: tursotui is in read-only mode")
    chosen: list[RowChange] = []
    for table, ids in (("posts", posts or []), ("comments", comments or [])):
        for row_id in dict.fromkeys(ids):
            change = diff.find(table, row_id)
            if change is None:
                raise ProvisionError(
                    f"cannot restore {table} {row_id} into {slug}: it does not differ from "
                    f"branch {diff.branch}"
                )
            chosen.append(change)
    if not chosen:
        raise ProvisionError(f"cannot restore into {slug}: no rows were chosen")
    order = {"posts": 0, "comments": 1}
    inserts = sorted((c for c in chosen if c.kind != "added"), key=lambda c: order[c.table])
    deletes = sorted((c for c in chosen if c.kind == "added"), key=lambda c: -order[c.table])
    statements = [_guard(c.table, c) for c in chosen]
    statements += [_write(c.table, c) for c in inserts + deletes]
    try:
        tenant = await workspace.registry.get(slug)
        connection = await workspace.connection(tenant)
        ids = [f"{c.table}:{c.id}" for c in chosen]
        async with workspace.audit.recording(
            "restore-rows", slug, ids, before="live", after=f"branch {diff.branch}"
        ) as entry:
            try:
                await connection.batch(list(statements))
            except LibsqlError as error:
                text = cause(error)
                if "guard:" in text or "malformed JSON" in text:
                    changed = await _changed_since(workspace, tenant, chosen)
                    why = "rows changed since the diff; compare again"
                    if changed:
                        why = f"{changed[0].table} {changed[0].id} changed since the diff"
                    raise ProvisionError(
                        f"cannot restore into {slug}: {why}; nothing was restored"
                    ) from None
                raise ProvisionError(
                    f"restoring rows into {slug} failed: {text}; nothing was restored"
                ) from None
            entry.detail = f"{len(chosen)} rows from branch {diff.branch}"
    except RegistryError as error:
        raise ProvisionError(f"cannot restore into {slug}: {error}") from None
    except AuditError as error:
        raise ProvisionError(str(error)) from None
    return chosen
