"""What the Turso Platform API answers, as pydantic models.

Every field is optional and unknown fields are kept, because the API's shapes
have changed over time; a missing field is None, never an error.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Database(_Answer):
    """One database of the organization (`Database` in the OpenAPI spec)."""

    name: str | None = Field(default=None, alias="Name")
    """The database name, unique in the organization."""

    id: str | None = Field(default=None, alias="DbId")
    """The database's UUID."""

    hostname: str | None = Field(default=None, alias="Hostname")
    """The DNS name clients connect to (`<db>-<org>.turso.io`)."""

    group: str | None = None
    """The group the database belongs to."""

    primary_region: str | None = Field(default=None, alias="primaryRegion")
    """Location code of the group's primary."""

    block_reads: bool | None = None
    """Reads are blocked."""

    block_writes: bool | None = None
    """Writes are blocked."""

    delete_protection: bool | None = None
    """The database cannot be deleted while this is on."""

    parent: dict[str, str] | None = None
    """The database it was branched from (`id`, `name`, `branched_at`), for a branch."""

    deleted_at: str | None = None
    """When it was deleted (only in the list of deleted databases, v3 API)."""

    @property
    def url(self) -> str | None:
        """The libSQL URL of the database (`libsql://<Hostname>`), when the hostname is known."""
        return f"libsql://{self.hostname}" if self.hostname else None


class Group(_Answer):
    """One group of the organization (`Group` in the OpenAPI spec)."""

    name: str | None = None
    """The group's name."""

    uuid: str | None = None
    """The group's id."""

    primary: str | None = None
    """Location code of the group's primary."""

    locations: list[str] | None = None
    """Where the group has replicas."""

    archived: bool | None = None
    """The group is archived (inactive)."""

    delete_protection: bool | None = None
    """The group and its databases cannot be deleted while this is on."""
