"""The Turso Platform API: an async client, its models and its one error type.

Plain async Python; nothing here knows about the UI. The client and its models load on
first use (they pull in httpx and pydantic models): a session without Platform API
tenants only ever needs `PlatformError`, from `tursotui.platform.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tursotui.platform.errors import PlatformError

if TYPE_CHECKING:
    from tursotui.platform.api import PlatformClient
    from tursotui.platform.models import Database, Group

_LAZY = {"PlatformClient": "api", "Database": "models", "Group": "models"}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)


__all__ = ["Database", "Group", "PlatformClient", "PlatformError"]
