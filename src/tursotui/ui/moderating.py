"""What the moderation screens (posts, one post, the fleet queue) share.

The status keys p/a/u are declared here once, so the three screens cannot drift apart
on which key does what; each screen says in its own words what the key acts on. What a
write did is put together into one status line here too (`outcome_text`). The
posts list and the post screen both reach the tenant's connection through
`tenant_connection`, which lives here rather than in either screen so that neither
screen has to import the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.session.registry import RegistryError
from tursotui.session.replica_store import ReplicaError
from tursotui.tenant.moderation import ModerationError
from tursotui.ui.typed import tursotui_app

if TYPE_CHECKING:
    from textual.screen import Screen

    from tursotui.db import Connection
    from tursotui.session.registry import Tenant


def status_bindings(
    publish: str, archive: str, draft: str, *, show_draft: bool = True
) -> list[Binding]:
    """The p/a/u keys that set a post's status; the arguments are each key's tooltip."""
    return [
        Binding("p", "moderate('published')", "Publish", tooltip=publish),
        Binding("a", "moderate('archived')", "Archive", tooltip=archive),
        Binding("u", "moderate('draft')", "To draft", show=show_draft, tooltip=draft),
    ]


def outcome_text(
    *, done: str | None = None, unchanged: str | None = None, conflicts: str | None = None
) -> Text:
    """The status line after a moderation write: what was done (green), then what was left
    alone because it already had the status, or because someone else changed it (yellow)."""
    said = Text()
    for part, style in (
        (done, "bold green"),
        (unchanged, "bold yellow"),
        (conflicts, "bold yellow"),
    ):
        if part:
            said.append(" " if said else "")
            said.append(part, style=style)
    return said


async def tenant_connection(screen: Screen, tenant: Tenant) -> Connection:
    """The workspace's connection to `tenant` (raises ModerationError with a readable message)."""
    try:
        return await tursotui_app(screen).workspace.connection(tenant)
    except (LibsqlError, RegistryError) as error:
        raise ModerationError(describe(error)) from None


async def sync_replica(screen: Screen, tenant: Tenant) -> None:
    """Sync the tenant's replica before a reload (`r`); a failed sync is said, and the
    replica, marked stale, is read all the same."""
    try:
        await tursotui_app(screen).workspace.sync_replica(tenant.slug)
    except ReplicaError as error:
        screen.notify(f"{error} (showing the replica)", title="Replica stale", severity="warning")


__all__ = ["outcome_text", "status_bindings", "sync_replica", "tenant_connection"]
