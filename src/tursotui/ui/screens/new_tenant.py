"""The new-tenant form (`n` on the tenants screen): slug, name and group, checked as you type,
then the create saga step by step.

`enter` moves to the next field, never creates: creating is `ctrl+s` or the Create button,
and both first show what will be created (slug, name, group, where) and wait for a yes.

The saga runs in a worker; the screen dismisses with the new `Tenant`, or with
None when the user goes back. A failure stays on screen (the message may hold a
cleanup command to copy), and the form can be sent again: re-running finishes
what a half-failed run left.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tursotui.display.literal import literal
from tursotui.provision import (
    CREATE_STEPS,
    LocalProvisioner,
    ProvisionError,
    StepReport,
    create_tenant,
    slug_problem,
)
from tursotui.session.registry import RegistryError, Tenant
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.typed import tursotui_app

STEP_MARKS = {
    "pending": ("○", "dim"),
    "running": ("…", "bold yellow"),
    "done": ("✓", "green"),
    "skipped": ("–", "dim"),
    "failed": ("✗", "bold red"),
    "undone": ("↺", "yellow"),
}
"""How each step status is drawn: a mark that reads without colour, and a style."""


def step_line(step: str, status: str, detail: str | None = None) -> Text:
    """One progress line: mark, step name, and the detail shown literally."""
    mark, style = STEP_MARKS.get(status, ("?", ""))
    line = Text.assemble((f"{mark} ", style), (step, style if status != "pending" else "dim"))
    if detail:
        line.append(" — ")
        line.append_text(literal(detail, max_len=120))
    return line


class NewTenantScreen(ModalScreen[Tenant | None]):
    """A form that creates, migrates and registers a tenant, showing each step."""

    CSS_PATH = "new_tenant.tcss"
    AUTO_FOCUS = "#slug"

    BINDINGS = [
        Binding(
            "ctrl+s",
            "create",
            "Create…",
            tooltip="Show what will be created, then create it",
            id="create",
        ),
        Binding("escape", "cancel", "Back", tooltip="Back without creating", id="cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._existing: set[str] = set()
        self.running = False
        """True while the saga runs (the form is locked, escape does not leave)."""

    def compose(self) -> ComposeResult:
        settings = tursotui_app(self).settings
        turso = settings.uses_platform_api
        with Vertical(id="form") as form:
            form.border_title = "New tenant"
            with Horizontal(classes="row"):
                yield Label("Slug", classes="field-label")
                yield Input(placeholder="e.g. acme", id="slug", max_length=63, compact=True)
            yield Static("", id="slug-problem")
            with Horizontal(classes="row"):
                yield Label("Name", classes="field-label")
                yield Input(placeholder="(default: the slug)", id="name", compact=True)
            # Groups and token kinds exist only on Turso; the local form leaves them out.
            with Horizontal(classes="row turso-only"):
                yield Label("Group", classes="field-label")
                yield Input(value=settings.group, id="group", compact=True)
            yield Checkbox(
                "register a read-only token",
                id="read-only-token",
                classes="turso-only",
                compact=True,
            )
            where = (
                f"Turso organization {settings.turso_org}"
                if turso
                else f"a local file under {settings.data_dir / 'tenants'}"
            )
            yield Static(literal(f"Creates the database in {where}."), id="where")
            with Vertical(id="steps"):
                for step in CREATE_STEPS:
                    yield Static(step_line(step, "pending"), id=f"step-{step.replace(' ', '-')}")
            yield Static("", id="outcome")
            with Horizontal(id="buttons"):
                yield Button(
                    "Create… (ctrl+s)", id="create", variant="success", disabled=True, compact=True
                )
                yield Button("Back (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        if not tursotui_app(self).settings.uses_platform_api:
            for widget in self.query(".turso-only"):
                widget.display = False
        self._load_slugs()

    @work(exclusive=True, group="registry", exit_on_error=False)
    async def _load_slugs(self) -> None:
        """The slugs already taken, to say so while the user types."""
        try:
            workspace = await tursotui_app(self).wait_workspace()
            self._existing = {t.slug for t in await workspace.registry.tenants()}
        except RegistryError:
            return  # the saga checks again, and says what is wrong with the registry
        self._validate()

    # -- validation as you type --------------------------------------------------------------

    def problem(self) -> str | None:
        """What is wrong with the slug typed so far, or None."""
        slug = self.query_one("#slug", Input).value
        if not slug:
            return "type a slug: lowercase letters, digits and single dashes"
        problem = slug_problem(slug)
        if problem:
            return problem
        if slug in self._existing:
            return f"tenant {slug} already exists"
        return None

    @on(Input.Changed, "#slug")
    def _validate(self) -> None:
        problem = self.problem()
        shown = self.query_one("#slug-problem", Static)
        if problem is None:
            shown.update(Text("✓ available", style="green"))
        else:
            shown.update(literal(problem))
        shown.set_class(problem is not None, "invalid")
        self.query_one("#create", Button).disabled = problem is not None or self.running

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """`enter` goes to the next field; after the last, to the Create button."""
        event.stop()
        fields = [self.query_one("#slug", Input), self.query_one("#name", Input)]
        if tursotui_app(self).settings.uses_platform_api:
            fields.append(self.query_one("#group", Input))
        if event.input in fields[:-1]:
            fields[fields.index(event.input) + 1].focus()
            return
        create = self.query_one("#create", Button)
        if create.disabled:
            self.query_one("#slug", Input).focus()  # the line under it says what is wrong
        else:
            create.focus()

    @on(Button.Pressed, "#create")
    def _create_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_create()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    # -- the saga ----------------------------------------------------------------------------

    def summary(self) -> Text:
        """What creating would do with what the form holds: slug, name, group, where."""
        settings = tursotui_app(self).settings
        slug = self.query_one("#slug", Input).value
        name = self.query_one("#name", Input).value.strip()
        lines: list[tuple[str, str]] = [("slug", slug), ("name", name or f"{slug} (the slug)")]
        if settings.uses_platform_api:
            group = self.query_one("#group", Input).value.strip() or settings.group
            token = "read-only" if self.query_one("#read-only-token", Checkbox).value else "full"
            lines += [
                ("where", f"a new database in Turso organization {settings.turso_org}"),
                ("group", group),
                ("token", f"{token} access, stored in the registry"),
            ]
        else:
            path = LocalProvisioner(settings.data_dir / "tenants").path(slug)
            lines.append(("where", f"a new local file {path}"))
        text = Text()
        text.append("Create this tenant, migrate it and register it?\n", style="bold")
        for label, value in lines:
            text.append(f"\n{label:>6}  ", style="dim")
            text.append_text(literal(value, max_len=200))
        return text

    def action_create(self) -> None:
        """Show what will be created; create it once the user says yes."""
        if self.running:
            return
        problem = self.problem()
        if problem is not None:
            self.notify(problem, title="New tenant", severity="warning", markup=False)
            return

        def answered(create: bool | None) -> None:
            if create:
                self._start()

        self.app.push_screen(
            ConfirmScreen(self.summary(), yes="Create", no="Back", title="New tenant"), answered
        )

    def _start(self) -> None:
        """Run the create saga with what the form holds (checked again: it may have changed)."""
        if self.running or self.problem() is not None:
            return
        for step in CREATE_STEPS:
            self._show(StepReport(step, "pending"))
        self.query_one("#outcome", Static).update("")
        self._lock(True)
        self._create(
            self.query_one("#slug", Input).value,
            self.query_one("#name", Input).value.strip() or None,
            self.query_one("#group", Input).value.strip() or None,
            self.query_one("#read-only-token", Checkbox).value,
        )

    def _lock(self, running: bool) -> None:
        self.running = running
        for widget in self.query("#slug, #name, #group, #read-only-token, #create, #cancel"):
            widget.disabled = running
        if not running:
            self._validate()
            self.query_one("#slug", Input).focus()

    def _show(self, report: StepReport) -> None:
        widget_id = f"#step-{report.step.replace(' ', '-')}"
        for widget in self.query(widget_id):
            assert isinstance(widget, Static)
            widget.update(step_line(report.step, report.status, report.detail))

    @work(exclusive=True, group="provision", exit_on_error=False, description="creating a tenant")
    async def _create(
        self, slug: str, name: str | None, group: str | None, read_only_token: bool
    ) -> None:
        outcome = self.query_one("#outcome", Static)
        try:
            workspace = await tursotui_app(self).wait_workspace()
            tenant = await create_tenant(
                workspace,
                slug,
                name=name,
                group=group,
                read_only_token=read_only_token,
                progress=self._show,
            )
        except (ProvisionError, RegistryError) as error:
            outcome.update(literal(str(error)))
            outcome.set_class(True, "failed")
            self._lock(False)
            return
        tursotui_app(self).registry_changed = True
        self.running = False
        self.app.notify(f"Tenant {tenant.slug} created.", title="New tenant", markup=False)
        self.dismiss(tenant)

    def action_cancel(self) -> None:
        """Back to the tenants screen (not while the saga runs: it must finish or undo)."""
        if self.running:
            self.notify(
                "The tenant is being created; wait for it to finish or fail.",
                severity="warning",
            )
            return
        self.dismiss(None)
