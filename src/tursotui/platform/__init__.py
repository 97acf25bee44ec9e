"""The Turso Platform API (SPEC §4): an async client, its models and its one error type.

Plain async Python; nothing here knows about the UI.
"""

from tursotui.platform.api import PlatformClient
from tursotui.platform.errors import PlatformError
from tursotui.platform.models import Database, Group

__all__ = ["Database", "Group", "PlatformClient", "PlatformError"]
