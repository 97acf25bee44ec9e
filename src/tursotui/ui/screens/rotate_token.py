"""Rotating a tenant's token (the `tenant: rotate token` palette action): confirm, then watch.

`RotateTokenScreen(tenant)` is a `ModalScreen[bool]`: True once the new token is
stored and answers, False when the user backs out. The saga runs in a worker.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tursotui.display.literal import literal
from tursotui.provision import ROTATE_STEPS, ProvisionError, StepReport, rotate_token
from tursotui.session.registry import RegistryError, Tenant
from tursotui.ui.screens.new_tenant import step_line
from tursotui.ui.typed import tursotui_app


class RotateTokenScreen(ModalScreen[bool]):
    """Invalidates a tenant's tokens, mints a new one, stores it and checks it answers."""

    CSS_PATH = "rotate_token.tcss"
    AUTO_FOCUS = "#cancel"

    BINDINGS = [
        Binding("y", "rotate", "Rotate", tooltip="Rotate the token now", id="rotate"),
        Binding("escape", "cancel", "Back", tooltip="Back without rotating", id="cancel"),
    ]

    def __init__(self, tenant: Tenant) -> None:
        super().__init__()
        self.tenant = tenant
        self.running = False
        """True while the saga runs."""

    def compose(self) -> ComposeResult:
        with Vertical(id="form") as form:
            form.border_title = "Rotate token"
            what = Text("Invalidate every token of ")
            what.append_text(literal(self.tenant.slug, max_len=63))
            what.append(" and store a new one. Apps still using the old token lose access.")
            yield Static(what, id="what")
            with Vertical(id="steps"):
                for step in ROTATE_STEPS:
                    yield Static(step_line(step, "pending"), id=f"step-{step.replace(' ', '-')}")
            yield Static("", id="outcome")
            with Horizontal(id="buttons"):
                yield Button("Rotate (y)", id="rotate", variant="warning", compact=True)
                yield Button("Back (esc)", id="cancel", compact=True)

    @on(Button.Pressed, "#rotate")
    def _rotate_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_rotate()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_rotate(self) -> None:
        """Rotate the token now."""
        if self.running:
            return
        self.running = True
        for widget in self.query("#rotate, #cancel"):
            widget.disabled = True
        self._rotate()

    def _show(self, report: StepReport) -> None:
        for widget in self.query(f"#step-{report.step.replace(' ', '-')}"):
            assert isinstance(widget, Static)
            widget.update(step_line(report.step, report.status, report.detail))

    @work(exclusive=True, group="provision", exit_on_error=False, description="rotating a token")
    async def _rotate(self) -> None:
        outcome = self.query_one("#outcome", Static)
        try:
            workspace = await tursotui_app(self).wait_workspace()
            await rotate_token(workspace, self.tenant.slug, progress=self._show)
        except (ProvisionError, RegistryError) as error:
            outcome.update(literal(str(error)))
            outcome.set_class(True, "failed")
            self.running = False
            for widget in self.query("#rotate, #cancel"):
                widget.disabled = False
            return
        tursotui_app(self).registry_changed = True
        self.running = False
        self.app.notify(f"Token of {self.tenant.slug} rotated.", title="Rotate token", markup=False)
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Back without rotating (not while the saga runs)."""
        if self.running:
            self.notify("The token is being rotated; wait for it to finish.", severity="warning")
            return
        self.dismiss(False)
