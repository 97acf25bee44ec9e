"""`tursotui` with no command: open the TUI on the configured registry."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tursotui.cli.common import command, remember_secret, settings_from_args
from tursotui.session.settings import Settings
from tursotui.session.workspace import Workspace

if TYPE_CHECKING:
    import argparse


async def run_app(settings: Settings) -> int:
    """Open the workspace, run the TUI on it, close it; errors propagate to the caller.

    The registry is opened before the first frame so a bad registry URL or token is one
    line on stderr rather than a screen; tenants are only asked once the TUI is up.
    """
    from tursotui.ui.app import make_app

    workspace = await Workspace.open(settings)
    workspace.on_secret = remember_secret
    try:
        tenants = await workspace.registry.tenants()
        for tenant in tenants:
            remember_secret(tenant.token)
        workspace.registry.prime(tenants)  # the first screen lists these, without a second read
        app = make_app(settings, workspace)
        await app.run_async()
        return app.return_code or 0
    finally:
        await workspace.close()


@command
async def _tui(args: argparse.Namespace | None) -> int:
    return await run_app(settings_from_args(args))


def run_tui(args: argparse.Namespace | None) -> int:
    """Run the TUI for the parsed command line (None: no argument at all); the exit status
    (1: one line on stderr)."""
    try:
        return asyncio.run(_tui(args))
    except KeyboardInterrupt:
        return 130
