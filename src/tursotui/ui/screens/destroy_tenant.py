"""Destroying a tenant (`D` on the tenants screen): type its slug to confirm, then watch it go.

`DestroyTenantScreen(tenant)` is a `ModalScreen[bool]`: it dismisses with True
once the tenant's database and registry row are gone, False when the user backs
out. The destroy saga runs in a worker; a failure stays on screen.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tursotui.display.literal import literal
from tursotui.provision import DESTROY_STEPS, ProvisionError, StepReport, destroy_tenant
from tursotui.session.registry import RegistryError, Tenant
from tursotui.ui.screens.new_tenant import step_line
from tursotui.ui.typed import tursotui_app


class DestroyTenantScreen(ModalScreen[bool]):
    """Asks for the tenant's slug, then deletes its database and its registry row."""

    CSS_PATH = "destroy_tenant.tcss"
    AUTO_FOCUS = "#confirm"

    BINDINGS = [
        Binding("escape", "cancel", "Back", tooltip="Back without destroying", id="cancel"),
    ]

    def __init__(self, tenant: Tenant) -> None:
        super().__init__()
        self.tenant = tenant
        self.running = False
        """True while the saga runs."""

    def compose(self) -> ComposeResult:
        tenant = self.tenant
        with Vertical(id="form") as form:
            form.border_title = "Destroy tenant"
            what = Text("This deletes the database of ")
            slug = literal(tenant.slug, max_len=63)
            slug.stylize("bold")
            what.append_text(slug)
            what.append(" (")
            what.append_text(literal(tenant.host, max_len=60))
            what.append(") and its registry row. It cannot be undone.")
            if tenant.broken:
                what.append("\nThe row is broken (")
                what.append_text(literal(tenant.problem, max_len=80))
                what.append("): only the row is removed.")
            yield Static(what, id="what")
            yield Static(Text("Type the slug to confirm:"))
            yield Input(placeholder=tenant.slug, id="confirm", compact=True)
            with Vertical(id="steps"):
                for step in DESTROY_STEPS:
                    yield Static(step_line(step, "pending"), id=f"step-{step.replace(' ', '-')}")
            yield Static("", id="outcome")
            with Horizontal(id="buttons"):
                yield Button(
                    "Destroy (enter)", id="destroy", variant="error", disabled=True, compact=True
                )
                yield Button("Back (esc)", id="cancel", compact=True)

    @property
    def confirmed(self) -> bool:
        """True when the typed text is exactly the slug."""
        return self.query_one("#confirm", Input).value == self.tenant.slug

    @on(Input.Changed, "#confirm")
    def _typed(self) -> None:
        self.query_one("#destroy", Button).disabled = not self.confirmed or self.running

    @on(Input.Submitted, "#confirm")
    def _submitted(self) -> None:
        self.action_destroy()

    @on(Button.Pressed, "#destroy")
    def _destroy_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_destroy()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_destroy(self) -> None:
        """Destroy the tenant, if its slug was typed."""
        if self.running:
            return
        if not self.confirmed:
            self.notify("Type the tenant's slug exactly to confirm.", severity="warning")
            return
        self.running = True
        for widget in self.query("#confirm, #destroy, #cancel"):
            widget.disabled = True
        self._destroy()

    def _show(self, report: StepReport) -> None:
        for widget in self.query(f"#step-{report.step.replace(' ', '-')}"):
            assert isinstance(widget, Static)
            widget.update(step_line(report.step, report.status, report.detail))

    @work(exclusive=True, group="provision", exit_on_error=False, description="destroying a tenant")
    async def _destroy(self) -> None:
        outcome = self.query_one("#outcome", Static)
        try:
            workspace = await tursotui_app(self).wait_workspace()
            deleted = await destroy_tenant(workspace, self.tenant.slug, progress=self._show)
        except (ProvisionError, RegistryError) as error:
            outcome.update(literal(str(error)))
            outcome.set_class(True, "failed")
            self.running = False
            for widget in self.query("#confirm, #cancel"):
                widget.disabled = False
            self._typed()
            return
        tursotui_app(self).registry_changed = True
        self.running = False
        what = "its database and registry row" if deleted else "its registry row"
        self.app.notify(
            f"Tenant {self.tenant.slug} destroyed: removed {what}.",
            title="Destroy tenant",
            markup=False,
        )
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Back without destroying (not while the saga runs)."""
        if self.running:
            self.notify("The tenant is being destroyed; wait for it to finish.", severity="warning")
            return
        self.dismiss(False)
