"""`tursotui` with no command: open the TUI on the configured registry."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tursotui.cli.common import command, remember_secret, settings_from_args
from tursotui.session.first_frame import settings_stamp
from tursotui.session.settings import Settings
from tursotui.session.workspace import Workspace

if TYPE_CHECKING:
    import argparse

    from tursotui.session.first_frame import Painted


async def run_app(
    settings: Settings, painted: Painted | None = None, *, keep_first_frame: bool = False
) -> int:
    """Open the workspace, run the TUI on it, close it; errors propagate to the caller.

    The registry is opened before the first frame so a bad registry URL or token is one
    line on stderr rather than a screen; tenants are only asked once the TUI is up.

    Args:
        settings: The session's settings.
        painted: The first frame painted before this (see session.first_frame).
        keep_first_frame: Keep the app's first frame for the next start to paint (when
            nothing was painted: a painted frame was kept with the same stamp).
    """
    from tursotui.ui.app import make_app

    # Stamped before the registry is read: a write meanwhile makes the kept frame stale.
    stamp = settings_stamp(settings) if keep_first_frame and painted is None else None
    workspace = await Workspace.open(settings)
    workspace.on_secret = remember_secret
    try:
        tenants = await workspace.registry.tenants()
        for tenant in tenants:
            remember_secret(tenant.token)
        workspace.registry.prime(tenants)  # the first screen lists these, without a second read
        app = make_app(settings, workspace, painted=painted, first_frame=stamp)
        await app.run_async()
        return app.return_code or 0
    finally:
        await workspace.close()


@command
async def _tui(args: argparse.Namespace | None, painted: Painted | None) -> int:
    try:
        # Only `tursotui` alone keeps its first frame: that is the start that paints it.
        return await run_app(settings_from_args(args), painted, keep_first_frame=args is None)
    finally:
        if painted is not None:
            painted.close()  # before an error is printed: on the screen the user returns to


def run_tui(args: argparse.Namespace | None, painted: Painted | None = None) -> int:
    """Run the TUI for the parsed command line (None: no argument at all); the exit status
    (1: one line on stderr). `painted`: the first frame painted before (it is given back)."""
    try:
        return asyncio.run(_tui(args, painted))
    except KeyboardInterrupt:
        return 130
