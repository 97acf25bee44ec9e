"""What the provisioning sagas share: step names, the error type, progress reports, slug rules,
the `Provisioner` interface, and waiting for a new database to answer."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

from tursotui.db import LibsqlError, connect
from tursotui.db.errors import describe
from tursotui.errors import TursotuiError
from tursotui.secret import Secret
from tursotui.session.registry import RegistryError, Tenant
from tursotui.session.workspace import Workspace

SLUG_PATTERN = re.compile(r"^(?=.{1,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
"""Turso's database-name rule (lowercase letters, digits, dashes; at most 64), made conservative:
at most 63 characters (one DNS label, since the name becomes part of the hostname), no
leading, trailing or doubled dash."""

CREATE_STEPS = (
    "create database",
    "mint token",
    "wait until ready",
    "migrate",
    "verify",
    "register",
)
"""The steps of `create_tenant`, in order, as progress reports name them."""

BRANCHES_FILE = "branches.json"
"""Under the data directory: which tenant each branch was made of, and as of when (written
by `provision.branch`; here so that reading the flags can tell there is none without
loading the branching saga)."""

DESTROY_STEPS = ("delete database", "remove registry row")
ROTATE_STEPS = ("rotate tokens", "update registry", "verify")

SETUP_TOKEN_EXPIRATION = "1h"
"""Lifetime of the full-access token that migrates a tenant registered with a read-only token."""


class ProvisionError(TursotuiError):
    """A tenant could not be created, destroyed or re-keyed; the message says why and what is left.

    Attributes:
        step: The step that failed, if one did.
        cleanup: The exact command that removes what was left behind, when something was.
    """

    title = "Provisioning"

    def __init__(self, message: str, *, step: str | None = None, cleanup: str | None = None):
        super().__init__(message)
        self.step = step
        self.cleanup = cleanup


class DatabaseExists(ProvisionError):
    """The database to create exists already (Platform API 409, or the file is there)."""


class StepReport(NamedTuple):
    """What a saga is doing, for a progress display (a NamedTuple: never changed once made,
    and cheaper to create than a frozen dataclass for every command loading this module).

    Attributes:
        step: The step's name (see `CREATE_STEPS`, `DESTROY_STEPS`, `ROTATE_STEPS`).
        status: `running`, `done`, `skipped`, `failed` or `undone`.
        detail: A few words more (e.g. "adopted the existing database"), or None.
    """

    step: str
    status: str
    detail: str | None = None


Progress = Callable[[StepReport], None]


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name a tenant database, or None when it can."""
    if SLUG_PATTERN.match(slug):
        return None
    if not slug:
        return "the slug is empty"
    if len(slug) > 63:
        return f"the slug is {len(slug)} characters long; at most 63"
    if SLUG_PATTERN.match(slug.lower()):
        return "the slug must be lowercase"
    if slug.startswith("-") or slug.endswith("-"):
        return "the slug cannot start or end with a dash"
    if "--" in slug:
        return "the slug cannot contain two dashes in a row"
    return "the slug may hold only lowercase letters, digits and dashes"


class Provisioner(Protocol):
    """Makes and removes tenant databases somewhere (Turso, or local files)."""

    kind: str
    """`turso` or `local`."""

    async def database_exists(self, slug: str) -> bool:
        """True when a database named `slug` exists."""
        ...

    async def create_database(self, slug: str, group: str) -> str:
        """Create database `slug` (in `group`); return its URL. Raises DatabaseExists."""
        ...

    async def database_url(self, slug: str) -> str:
        """The URL of the existing database `slug` (to adopt it)."""
        ...

    async def mint_token(
        self, slug: str, *, read_only: bool = False, expiration: str = "never"
    ) -> Secret | None:
        """A new token for database `slug`, or None where databases need none."""
        ...

    async def wait_until_ready(
        self, slug: str, url: str, token: Secret | None, timeout: float
    ) -> None:
        """Return once the new database answers a query; ProvisionError after `timeout`."""
        ...

    async def delete_database(self, slug: str) -> bool:
        """Delete database `slug`; False when it was already gone."""
        ...

    async def rotate_token(self, slug: str, *, read_only: bool = False) -> Secret | None:
        """Invalidate every token of database `slug` and mint a new one."""
        ...

    async def database_for(self, tenant: Tenant) -> str | None:
        """The name of the database this provisioner holds for `tenant`, or None if none."""
        ...

    def cleanup_command(self, slug: str) -> str:
        """The exact command that deletes database `slug` by hand."""
        ...

    async def close(self) -> None:
        """Release the provisioner's connections."""
        ...


async def wait_until_answers(slug: str, url: str, token: Secret | None, timeout: float) -> None:
    """Poll a new database with `SELECT 1` until it answers (new Turso hostnames take a moment).

    Raises:
        ProvisionError: it did not answer within `timeout` seconds (the last cause is named).
    """
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        try:
            connection = await connect(url, token, name=slug, timeout=max(0.5, timeout / 2))
            try:
                await connection.execute("SELECT 1")
            finally:
                await connection.close()
            return
        except LibsqlError as error:
            if time.monotonic() + delay > deadline:
                raise ProvisionError(
                    f"{slug}: the new database does not answer ({describe(error)})",
                    step="wait until ready",
                ) from None
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


class Steps:
    """Reports steps to a progress callback and remembers the current one."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.current: str | None = None

    def report(self, step: str, status: str, detail: str | None = None) -> None:
        if status == "running":
            self.current = step
        if self.progress is not None:
            self.progress(StepReport(step, status, detail))

    def start(self, step: str, detail: str | None = None) -> None:
        self.report(step, "running", detail)

    def done(self, detail: str | None = None) -> None:
        if self.current:
            self.report(self.current, "done", detail)


def cause(error: BaseException) -> str:
    if isinstance(error, LibsqlError):
        return describe(error)
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__


async def registered(workspace: Workspace, slug: str) -> bool:
    try:
        return any(t.slug == slug for t in await workspace.registry.tenants())
    except RegistryError:
        return False
