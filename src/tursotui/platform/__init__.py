"""The Turso Platform API: an async client, its models and its one error type.

Plain async Python; nothing here knows about the UI.
"""

from tursotui.platform.api import PlatformClient
from tursotui.platform.errors import PlatformError
from tursotui.platform.models import Database, Group

# The CLI treats the error types of `tursotui.platform` as the user's to act on
# (`tursotui.cli.common.user_errors` looks them up by module).
PlatformError.__module__ = __name__

__all__ = ["Database", "Group", "PlatformClient", "PlatformError"]
