"""How posts and comments read in the moderation screens: times, statuses, verbs.

Values from a tenant go through `literal()`: a hostile status or date is shown, never
interpreted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text

from tursotui.display.literal import literal

VERBS = {"published": "publish", "archived": "archive", "draft": "move back to draft"}
PAST = {"published": "Published", "archived": "Archived", "draft": "Moved back to draft"}
ALREADY = {
    "published": "already published",
    "archived": "already archived",
    "draft": "already a draft",
}
"""What a write that would change nothing says instead (nothing is written or audited)."""

READ_ONLY_HINT = "read-only session (--read-only / TURSOTUI_READ_ONLY): {} is disabled"


def when(value: Any) -> Text:
    """An integer-seconds timestamp in local time; anything else shown literally."""
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return Text(datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M"))
        except (OverflowError, OSError, ValueError):
            pass
    return literal(value, 16)


def status_text(value: Any) -> Text:
    """A status, coloured when known, literal (and flagged) when not."""
    styles = {"draft": "yellow", "published": "green", "archived": "dim"}
    if isinstance(value, str) and value in styles:
        return Text(value, style=styles[value])
    text = literal(value, 12)
    text.stylize("magenta")
    return text
