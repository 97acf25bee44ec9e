"""Migrating the fleet from the fleet screen: dry run, confirmation, progress bar, summary.

Uses `tursotui.fleet.migrate.migrate_fleet` (the same code as `tursotui migrate --all`):
each tenant in its own transaction, bounded concurrency, audited, no early stop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static

from tursotui.display.literal import literal
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.words import plural

if TYPE_CHECKING:
    from tursotui.ui.screens.fleet import FleetScreen


def _progress(screen: FleetScreen, verb: str, total: int) -> Callable[[Any], None]:
    """A `progress` callback moving the fleet screen's bar and status line."""
    done = 0
    bar = screen.query_one("#fleet-bar", ProgressBar)
    bar.update(total=max(total, 1), progress=0)

    def advance(_outcome: Any) -> None:
        nonlocal done
        done += 1
        bar.update(total=max(total, 1), progress=done)
        screen.note = Text(f"{verb} {done}/{plural(total, 'tenant')}…", style="bold")
        screen.show_progress()
        bar.update(total=max(total, 1), progress=done)

    return advance


async def run_fleet_migration(screen: FleetScreen) -> None:
    """Dry run, confirm with what is pending, migrate with a progress bar, show the summary.

    Runs inside a worker of `screen` (it waits for the modal answers).
    """
    from tursotui.fleet.migrate import APPLIED, migrate_fleet
    from tursotui.tenant.migrations import MigrationError

    app = screen.app
    workspace = screen.workspace
    tenants = screen.tenants or await workspace.registry.tenants()
    try:
        plan = await migrate_fleet(
            workspace, tenants, dry_run=True, progress=_progress(screen, "checking", len(tenants))
        )
    except MigrationError as error:
        screen.notify(str(error), title="Migrations", severity="error", markup=False)
        return
    finally:
        screen.note = None
        screen.show_progress()
    pending = [m for m in plan if m.outcome == APPLIED]
    if not pending:
        await app.push_screen_wait(MigrationSummary("Nothing to migrate", plan))
        return
    question = Text(f"Migrate {len(pending)} of {plural(len(plan), 'tenant')}?\n\n")
    question.append_text(summary_text(plan, limit=10))
    question.append("\nEach tenant in its own transaction; the others go on if one fails.")
    if not await app.push_screen_wait(
        ConfirmScreen(question, yes="Migrate", title="Fleet migration")
    ):
        return
    try:
        outcomes = await migrate_fleet(
            workspace,
            [m.tenant for m in pending],
            progress=_progress(screen, "migrating", len(pending)),
        )
    finally:
        screen.note = None
        screen.show_progress()
    by_tenant = {id(m.tenant): m for m in outcomes}
    report = [by_tenant.get(id(m.tenant), m) for m in plan]
    failed = sum(1 for m in outcomes if not m.ok)
    title = f"Migrated {plural(len(outcomes) - failed, 'tenant')}" + (
        f", {failed} failed" if failed else ""
    )
    await app.push_screen_wait(MigrationSummary(title, report))


def summary_text(outcomes: list[Any], *, limit: int | None = None) -> Text:
    """One line per tenant: slug and what migrating it did (or would do)."""
    text = Text()
    shown = outcomes if limit is None else outcomes[:limit]
    for outcome in shown:
        style = "green" if outcome.ok else "red" if outcome.outcome == "failed" else "magenta"
        text.append_text(literal(outcome.slug or "(no slug)", 20))
        text.append(": ")
        line = literal(outcome.summary, 200)
        line.stylize(style)
        text.append_text(line)
        text.append("\n")
    if limit is not None and len(outcomes) > limit:
        text.append(f"… and {len(outcomes) - limit} more\n", style="dim")
    return text


class MigrationSummary(ModalScreen[None]):
    """The per-tenant outcome of a fleet migration (or a dry run); escape or enter closes it."""

    CSS_PATH = "fleet.tcss"
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, outcomes: list[Any]) -> None:
        super().__init__()
        self.title_text = title
        self.outcomes = outcomes

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="migration-summary") as box:
            box.border_title = self.title_text
            yield Static(summary_text(self.outcomes), id="migration-lines")
        yield KeysFooter()

    def action_close(self) -> None:
        """Close the summary."""
        self.dismiss(None)
