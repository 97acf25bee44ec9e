"""The two provisioners: Turso databases through the Platform API, and local `file:` databases."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tursotui.db import connect
from tursotui.platform import PlatformError
from tursotui.provision.base import (
    DatabaseExists,
    Provisioner,
    ProvisionError,
    Steps,
    wait_until_answers,
)
from tursotui.secret import Secret
from tursotui.session.registry import Tenant
from tursotui.session.settings import Settings

if TYPE_CHECKING:
    from tursotui.platform.api import PlatformClient
    from tursotui.session.workspace import Workspace


class LocalProvisioner:
    """Tenants as `file:` databases in one directory (`<data dir>/tenants/<slug>.db`)."""

    kind = "local"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._real: dict[str, str] = {}
        """Directories' real paths, asked once per provisioner (each is made for one
        command or action): 10,000 tenants in one folder are one `realpath`, not 20,000."""

    def _resolved(self, directory: str) -> str:
        real = self._real.get(directory)
        if real is None:
            real = self._real[directory] = os.path.realpath(directory)
        return real

    def path(self, slug: str) -> Path:
        """The file of tenant database `slug`."""
        return self.directory / f"{slug}.db"

    def _files(self, slug: str) -> list[Path]:
        path = self.path(slug)
        return [path] + [path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")]

    async def database_exists(self, slug: str) -> bool:
        return self.path(slug).exists()

    async def create_database(self, slug: str, group: str) -> str:
        path = self.path(slug)
        if path.exists():
            raise DatabaseExists(f"{slug}: the database file {path} exists already")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ProvisionError(f"cannot create {self.directory}: {error.strerror}") from None
        url = f"file:{path}"
        connection = await connect(url, name=slug, create=True)
        await connection.close()
        return url

    async def database_url(self, slug: str) -> str:
        return f"file:{self.path(slug)}"

    async def mint_token(
        self, slug: str, *, read_only: bool = False, expiration: str = "never"
    ) -> Secret | None:
        return None  # a local file has no tokens

    async def wait_until_ready(
        self, slug: str, url: str, token: Secret | None, timeout: float
    ) -> None:
        await wait_until_answers(slug, url, token, timeout)

    async def delete_database(self, slug: str) -> bool:
        existed = False
        for file in self._files(slug):
            try:
                file.unlink()
                existed = existed or file == self.path(slug)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise ProvisionError(
                    f"{slug}: cannot delete {file} ({error.strerror})",
                    cleanup=self.cleanup_command(slug),
                ) from None
        return existed

    async def rotate_token(self, slug: str, *, read_only: bool = False) -> Secret | None:
        raise ProvisionError(f"{slug}: a local tenant has no token to rotate")

    async def database_for(self, tenant: Tenant) -> str | None:
        return self.owned_database(tenant)

    def owned_database(self, tenant: Tenant) -> str | None:
        """The database of `tenant` if it is a file this provisioner made, else None."""
        try:
            location = tenant.location
        except ValueError:
            return None
        if location.transport != "file":
            return None
        # Plain strings, not `Path`s: this runs for every tenant of the tenants screen.
        parent, name = os.path.split(location.target.rstrip("/"))
        stem, suffix = os.path.splitext(name)
        # Only files this provisioner made are deleted; a registered file elsewhere is the
        # operator's own, and `tenants remove` is the way to unregister it.
        if suffix != ".db" or self._resolved(parent) != self._resolved(str(self.directory)):
            return None
        return stem

    def cleanup_command(self, slug: str) -> str:
        return "rm -f " + " ".join(shlex.quote(str(f)) for f in self._files(slug))

    async def close(self) -> None:
        return None


class TursoProvisioner:
    """Tenants as Turso databases, through the Platform API.

    Args:
        client: The Platform API client (closed with the provisioner).
        url_for: Makes a database URL from the API's `Hostname` (`libsql://<Hostname>`);
            tests point it at a local server.
    """

    kind = "turso"

    def __init__(
        self,
        client: PlatformClient,
        *,
        url_for: Callable[[str], str] | None = None,
    ) -> None:
        self.client = client
        self.url_for = url_for or (lambda hostname: f"libsql://{hostname}")

    def _url(self, slug: str, hostname: str | None) -> str:
        if not hostname:
            raise ProvisionError(f"{slug}: the Platform API gave no hostname for the database")
        return self.url_for(hostname)

    async def database_exists(self, slug: str) -> bool:
        try:
            await self.client.get_database(slug)
        except PlatformError as error:
            if error.not_found:
                return False
            raise
        return True

    async def create_database(self, slug: str, group: str) -> str:
        try:
            database = await self.client.create_database(slug, group)
        except PlatformError as error:
            if error.conflict:
                raise DatabaseExists(f"{slug}: {error.message}") from None
            raise
        if not database.hostname:
            database = await self.client.get_database(slug)
        return self._url(slug, database.hostname)

    async def database_url(self, slug: str) -> str:
        return self._url(slug, (await self.client.get_database(slug)).hostname)

    async def mint_token(
        self, slug: str, *, read_only: bool = False, expiration: str = "never"
    ) -> Secret | None:
        return await self.client.create_token(
            slug, expiration=expiration, authorization="read-only" if read_only else "full-access"
        )

    async def wait_until_ready(
        self, slug: str, url: str, token: Secret | None, timeout: float
    ) -> None:
        await wait_until_answers(slug, url, token, timeout)

    async def delete_database(self, slug: str) -> bool:
        try:
            await self.client.delete_database(slug)
        except PlatformError as error:
            if error.not_found:
                return False
            raise
        return True

    async def rotate_token(self, slug: str, *, read_only: bool = False) -> Secret | None:
        await self.client.rotate_tokens(slug)
        return await self.mint_token(slug, read_only=read_only)

    async def database_for(self, tenant: Tenant) -> str | None:
        try:
            location = tenant.location
        except ValueError:
            return None
        for database in await self.client.list_databases():
            if (
                database.hostname
                and database.name
                and (
                    database.hostname == location.host
                    or self.url_for(database.hostname) == tenant.url
                )
            ):
                return database.name
        return None

    def cleanup_command(self, slug: str) -> str:
        return f"turso db destroy {shlex.quote(slug)} --yes --org {shlex.quote(self.client.org)}"

    async def close(self) -> None:
        await self.client.close()


def provisioner_for(settings: Settings) -> Provisioner:
    """The provisioner the settings call for: Turso with credentials, else local files."""
    if settings.uses_platform_api:
        # Here, not at the top: the API client (httpx) only for a fleet on the Platform API.
        from tursotui.platform.api import PlatformClient

        return TursoProvisioner(PlatformClient.from_settings(settings))
    return LocalProvisioner(settings.data_dir / "tenants")


async def register_when_ready(
    turso: TursoProvisioner,
    workspace: Workspace,
    steps: Steps,
    *,
    slug: str,
    database: str,
    hostname: str | None,
    name: str,
) -> Tenant:
    """The steps after a database appears on Turso (a branch, an undeleted one), as `slug`.

    Its token is minted, it is waited for until it answers, and it is registered in the
    registry's own shape (the token only where the registry keeps one). The caller undoes
    what was made if a step fails (`steps.current` says which).
    """
    hostname = hostname or (await turso.client.get_database(database)).hostname
    url = turso._url(slug, hostname)
    steps.start("mint token")
    token = await turso.mint_token(database)
    steps.done()
    steps.start("wait until ready")
    await turso.wait_until_ready(slug, url, token, workspace.settings.timeout * 3)
    steps.done()
    steps.start("register")
    keeps_tokens = await workspace.registry.keeps_tokens()
    return await workspace.registry.add(
        slug, url, token if keeps_tokens else None, name, db_name=database
    )
