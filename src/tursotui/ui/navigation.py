"""How one screen opens another: one typed function per screen, in one place.

Screens are imported when first opened, so start-up loads only the tenants screen, and
screens open one another without importing one another (a plain import would close an
import cycle: the posts list opens the console, the fleet opens the posts list...). The
module each screen is loaded from is named once, in `SCREENS`; tests/test_navigation.py
checks that every entry loads the class it names, so a renamed screen fails a test
instead of a key press.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from tursotui.provision.usage import TenantUsage
    from tursotui.session.registry import Tenant
    from tursotui.ui.screens.audit import AuditScreen
    from tursotui.ui.screens.author import AuthorScreen
    from tursotui.ui.screens.branch_diff import BranchDiffScreen
    from tursotui.ui.screens.console import ConsoleScreen
    from tursotui.ui.screens.destroy_tenant import DestroyTenantScreen
    from tursotui.ui.screens.fleet import FleetScreen
    from tursotui.ui.screens.new_tenant import NewTenantScreen
    from tursotui.ui.screens.post import PostScreen
    from tursotui.ui.screens.posts import PostsScreen
    from tursotui.ui.screens.queue import QueueScreen
    from tursotui.ui.screens.rotate_token import RotateTokenScreen
    from tursotui.ui.screens.usage import UsageScreen

SCREENS: dict[str, str] = {
    "AuditScreen": "audit",
    "AuthorScreen": "author",
    "BranchDiffScreen": "branch_diff",
    "ConsoleScreen": "console",
    "DestroyTenantScreen": "destroy_tenant",
    "FleetScreen": "fleet",
    "NewTenantScreen": "new_tenant",
    "PostScreen": "post",
    "PostsScreen": "posts",
    "QueueScreen": "queue",
    "RotateTokenScreen": "rotate_token",
    "UsageScreen": "usage",
}
"""Each screen class opened here, and its module under `tursotui.ui.screens`."""


def open_by_name(app: App[Any], module: str, class_name: str, *args: Any) -> Screen | None:
    """Push `tursotui.ui.screens.<module>.<class_name>(*args)`, importing it when needed.

    A screen that cannot load says so in a notification instead of taking the app down.
    """
    try:
        screen_class = getattr(importlib.import_module(f"tursotui.ui.screens.{module}"), class_name)
    except Exception as error:  # a screen that cannot load must not take the app down
        app.notify(
            f"{type(error).__name__}: {error}",
            title=f"The {module.replace('_', ' ')} screen failed to load",
            severity="error",
            markup=False,
        )
        return None
    screen = screen_class(*args)
    app.push_screen(screen)
    return cast("Screen", screen)


def _open(app: App[Any], class_name: str, *args: Any) -> Any:
    return open_by_name(app, SCREENS[class_name], class_name, *args)


def fleet(app: App[Any]) -> FleetScreen | None:
    """All tenants side by side."""
    return _open(app, "FleetScreen")


def branch_diff(app: App[Any], tenant: Tenant, branch: str) -> BranchDiffScreen | None:
    """`tenant` compared with its branch `branch` (a slug), to restore rows from it."""
    return _open(app, "BranchDiffScreen", tenant.slug, branch)


def usage(app: App[Any], usage: TenantUsage) -> UsageScreen | None:
    """A tenant's usage read already: figures, top queries and their index advice."""
    return _open(app, "UsageScreen", usage)


def audit(app: App[Any]) -> AuditScreen | None:
    """The audit log of every write."""
    return _open(app, "AuditScreen")


def queue(app: App[Any], mode: str = "drafts") -> QueueScreen | None:
    """The moderation queue across tenants (`drafts` or `comments`)."""
    return _open(app, "QueueScreen", mode)


def author(app: App[Any], email: str, tenant: Tenant | None = None) -> AuthorScreen | None:
    """An author on every tenant where their email exists (`email` may be a user id of
    `tenant`: the screen learns the email from it)."""
    return _open(app, "AuthorScreen", email, tenant)


def new_tenant(app: App[Any]) -> NewTenantScreen | None:
    """Create, migrate and register a tenant."""
    return _open(app, "NewTenantScreen")


def posts(app: App[Any], tenant: Tenant) -> PostsScreen | None:
    """One tenant's posts."""
    return _open(app, "PostsScreen", tenant)


def post(app: App[Any], tenant: Tenant, post_id: str) -> PostScreen | None:
    """One post and its comments."""
    return _open(app, "PostScreen", tenant, post_id)


def console(app: App[Any], tenant: Tenant) -> ConsoleScreen | None:
    """The SQL console on one tenant."""
    return _open(app, "ConsoleScreen", tenant)


def destroy_tenant(app: App[Any], tenant: Tenant) -> DestroyTenantScreen | None:
    """Destroy a tenant (asks first)."""
    return _open(app, "DestroyTenantScreen", tenant)


def rotate_token(app: App[Any], tenant: Tenant) -> RotateTokenScreen | None:
    """Give a tenant a new token."""
    return _open(app, "RotateTokenScreen", tenant)


__all__ = [
    "SCREENS",
    "audit",
    "author",
    "console",
    "destroy_tenant",
    "fleet",
    "new_tenant",
    "open_by_name",
    "post",
    "posts",
    "queue",
    "rotate_token",
]
