"""How a screen learns that a write made what it shows stale.

Every write goes through the audit log, which counts them per tenant
(`AuditLog.generation`). A screen that shows a tenant's data remembers the count
it read at and defines `catch_up()`: read again what is stale, the cursor kept on
the same item. It is called when the screen is shown again (`on_screen_resume`)
and, through `catch_up`, when a write that outlived the screen that started it
(the user went back while it ran) finishes.
"""

from __future__ import annotations

from textual.app import App


def catch_up(app: App) -> None:
    """Let the screen on top read again whatever a finished write made stale."""
    method = getattr(app.screen, "catch_up", None)
    if method is not None:
        method()
