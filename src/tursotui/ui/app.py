"""The tursotui application: global keys, the workspace, screen navigation, worker failures.

`make_app(settings)` builds it; the tenants screen shows at once, while the
workspace (registry connection) opens in a worker, so start-up never waits on
the network.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState
from textual.worker_manager import WorkerManager

from tursotui import heap
from tursotui.db.errors import describe
from tursotui.session.settings import Settings
from tursotui.session.workspace import Workspace
from tursotui.ui import navigation
from tursotui.ui.commands import TursotuiCommands
from tursotui.ui.first_frame import driver_over
from tursotui.ui.typeahead import KeyGate, hold_keys_for

if TYPE_CHECKING:
    from tursotui.session.first_frame import Painted, Stamp
    from tursotui.session.registry import Tenant

QUIET_GROUPS = frozenset(
    {
        # the tenants screen, from its first frame on
        *("workspace", "registry", "health", "flags", "filter-warm", "usage", "destroy-check"),
        *("load", "page", "counts", "arrivals", "deleted", "diff"),
        *("fleet", "fleet-flags", "fleet-usage", "fleet-search", "author-find", "author-items"),
        *("console-open", "console-count"),
    }
)
"""Worker groups that only read: quitting while they run needs no confirmation.

Any other running worker (a write, a migration, a console query, or one left in
Textual's `default` group) counts as pending work, and `q` asks first.
"""


LETTER_ACTIONS = frozenset({"help", "switch_tenant", "quit_app"})
"""The app's actions bound to a single character (`?`, `t`, `q`)."""


class ReportingWorkerManager(WorkerManager):
    """Textual's worker manager, telling the app about every worker that failed.

    A worker's `StateChanged` message does not bubble, so a screen that forgets to
    handle it would fail silently (harlequin #1117); this sees every worker end.
    """

    def _remove_worker(self, worker: Worker) -> None:
        super()._remove_worker(worker)
        if worker.state == WorkerState.ERROR and not worker.exit_on_error:
            app = self._app
            if isinstance(app, TursotuiApp):
                app.report_worker_failure(worker)


class TursotuiApp(App[None]):
    """The operator's console for a database-per-tenant fleet.

    Attributes:
        settings: The session's settings.
    """

    CSS_PATH = "app.tcss"
    TITLE = "tursotui"
    COMMANDS = App.COMMANDS | {TursotuiCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="Every key of this screen", id="help"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="back"),
        Binding("t", "switch_tenant", "Tenant", tooltip="Switch to another tenant", id="tenant"),
        Binding("q", "quit_app", "Quit", tooltip="Quit (asks if work is pending)", id="quit"),
        Binding(
            "ctrl+z",
            "undo_last",
            "Undo",
            tooltip="Undo this session's last moderation action (says what, asks first)",
            show=False,
            id="undo",
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        workspace: Workspace | None = None,
        *,
        painted: Painted | None = None,
        first_frame: Stamp | None = None,
    ) -> None:
        super().__init__(driver_class=None if painted is None else driver_over(painted))
        self._workers = ReportingWorkerManager(self)
        self.settings = settings
        self._workspace = workspace
        self._owns_workspace = workspace is None
        self._workspace_error: BaseException | None = None
        self._workspace_ready = asyncio.Event()
        self._asking_quit = False
        self.key_gate = KeyGate(self)
        """Lets the keys of a burst through one at a time (see typeahead)."""
        self.registry_changed = False
        """Set by screens that add or remove tenants: the tenants screen reloads on return."""
        self._undoing = False
        self.first_frame = first_frame
        """The stamp to keep this start's first frame with (see session.first_frame), until
        it is kept; None when there is nothing to keep."""
        if workspace is not None:
            self._workspace_ready.set()

    def get_default_screen(self) -> Screen:
        # The first screen keeps its styles in DEFAULT_CSS rather than a CSS_PATH: Textual
        # then parses them once, with the widgets' own, instead of re-parsing the whole
        # stylesheet twice more (once for a screen's file, once to refresh) before the
        # first frame.
        from tursotui.ui.screens.tenants import TenantsScreen

        return TenantsScreen()

    # --- the workspace -------------------------------------------------------------------

    @property
    def workspace(self) -> Workspace:
        """The open workspace (raises RuntimeError while it is still opening)."""
        if self._workspace is None:
            raise RuntimeError("the workspace is not open yet")
        return self._workspace

    @property
    def workspace_open(self) -> bool:
        """True once the workspace is open."""
        return self._workspace is not None

    async def wait_workspace(self) -> Workspace:
        """The workspace, once open; re-raises why it could not be opened."""
        await self._workspace_ready.wait()
        if self._workspace_error is not None:
            raise self._workspace_error
        return self.workspace

    def on_load(self) -> None:
        # Before the first screen is built and styled: the registry is read on its own
        # thread meanwhile, and the tenants screen that waits for it is shown the sooner.
        if self._workspace is None:
            self._open_workspace()

    def on_mount(self) -> None:
        # Once the first screen is up, what exists now lives for the session (see heap).
        self.call_after_refresh(heap.set_aside)

    @work(exclusive=True, group="workspace", exit_on_error=False)
    async def _open_workspace(self) -> None:
        from tursotui.session.registry import RegistryError

        try:
            self._workspace = await Workspace.open(self.settings)
        except RegistryError as error:
            # Not notified here: whoever waits for the workspace (the tenants screen)
            # shows the reason where the tenants would have been.
            self._workspace_error = error
        except BaseException as error:
            self._workspace_error = error
            raise
        finally:
            self._workspace_ready.set()

    async def on_unmount(self) -> None:
        if self._owns_workspace and self._workspace is not None:
            await self._workspace.close()

    # --- keys ----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        # Every key and paste from the terminal goes through the gate, in order; see typeahead.
        gate = self.key_gate
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if gate.is_admitted(event):
                await gate.admitted(event, lambda: super(TursotuiApp, self).on_event(event))
            else:
                gate.arrived(event)
            return
        if isinstance(event, events.Key) and gate.is_returning(event):
            await gate.returned(event, lambda: super(TursotuiApp, self).on_event(event))
            return
        await super().on_event(event)

    # --- failures --------------------------------------------------------------------------

    def report_worker_failure(self, worker: Worker) -> None:
        """Tell the user a worker failed: one notification naming what failed and why."""
        error = worker.error
        what = worker.description or worker.name or "a background task"
        message = describe(error) if error is not None else "failed"
        self.notify(f"{message}", title=f"{what} failed"[:60], severity="error", markup=False)

    # --- navigation -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A screen that takes typed text everywhere (the SQL console) keeps the one-letter
        # keys: hidden from its footer and help, and never run there.
        return not (action in LETTER_ACTIONS and getattr(self.screen, "KEEPS_LETTERS", False))

    def open_screen(self, module: str, class_name: str, *args: Any) -> Screen | None:
        """Push `tursotui.ui.screens.<module>.<class_name>(*args)` (see `ui.navigation`)."""
        return navigation.open_by_name(self, module, class_name, *args)

    def tenants_screen(self) -> Screen:
        """The tenants screen at the bottom of the stack."""
        return self.screen_stack[0]

    def current_tenant(self) -> Tenant | None:
        """The tenant of the screen on top, if it is about one."""
        return getattr(self.screen, "tenant", None)

    # Textual's own `action_back` is async; this one is sync on purpose so that screens can
    # call it directly, and Textual runs sync and async actions alike.
    def action_back(self) -> None:  # type: ignore[override]
        """Back to the previous screen (the tenants screen stays)."""
        if len(self.screen_stack) > 1:
            self.pop_screen()

    def action_switch_tenant(self) -> None:
        """Back to the tenants screen, with the filter open to type the next tenant's name."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        tenants = self.tenants_screen()
        start_filter = getattr(tenants, "action_filter", None)
        if start_filter is not None:
            # The name typed right after `t` goes into the filter, however fast it comes.
            hold_keys_for(self, lambda: tenants.query_one_optional("#filter"))
            self.call_later(start_filter)

    def action_help(self) -> None:
        """Show every key of the current screen."""
        from tursotui.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen.for_screen(self.screen))

    # --- quitting ----------------------------------------------------------------------------

    def pending_work(self) -> list[str]:
        """Running workers that may be writing (anything outside the read-only groups)."""
        return [
            worker.description or worker.name or worker.group
            for worker in self.workers
            if worker.is_running and worker.group not in QUIET_GROUPS
        ]

    async def action_quit(self) -> None:
        """`ctrl+q` (Textual's own quit key): the same question as `q` when work is running."""
        await self.action_quit_app()

    def exit(self, *args: Any, **kwargs: Any) -> None:
        """Exit; a write cut short from now on is recorded as cut short by closing the app."""
        if self._workspace is not None:
            from tursotui.session.audit import APP_CLOSED

            self._workspace.audit.cancelled_because = APP_CLOSED
        super().exit(*args, **kwargs)

    async def action_quit_app(self) -> None:
        """Quit, asking first if work is still running."""
        pending = self.pending_work()
        if not pending:
            self.exit()
            return
        if self._asking_quit:
            return  # `q` or `ctrl+q` again while asked: one question is enough

        from tursotui.ui.screens.confirm import ConfirmScreen

        def answered(quit_anyway: bool | None) -> None:
            self._asking_quit = False
            if quit_anyway:
                self.exit()

        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        listed = ", ".join(pending[:3]) + more
        question = f"Work is still running ({listed}).\nQuit anyway?"
        self._asking_quit = True
        self.push_screen(ConfirmScreen(question, yes="Quit", no="Stay"), answered)

    # --- undo ------------------------------------------------------------------------------

    def action_undo_last(self) -> None:
        """Undo this session's last moderation action, after a confirmation saying what."""
        from tursotui.tenant.undo import READ_ONLY

        if self.settings.read_only:
            self.notify(READ_ONLY, title="Undo", severity="warning", markup=False)
            return
        if not self.workspace_open or self._undoing:
            return  # one undo at a time: a second ctrl+z while asked is the same undo
        self._undoing = True
        self.run_worker(
            self._undo_last(), group="moderate", exit_on_error=False, description="undo"
        )

    async def _undo_last(self) -> None:
        from rich.text import Text

        from tursotui.tenant.moderation import ModerationError
        from tursotui.tenant.undo import History, describe_plan, undo_entries
        from tursotui.ui import stale
        from tursotui.ui.screens.confirm import ConfirmScreen

        try:
            audit = self.workspace.audit
            history = await asyncio.to_thread(History.read, audit)
            entries = history.latest_action(ids=audit.finished)
            if entries is None:
                self.notify("Nothing to undo: no moderation action of this session is left.")
                return
            question = Text("Undo the last moderation action?\n\n")
            question.append(describe_plan(entries))
            confirm = ConfirmScreen(question, yes="Undo", no="Keep", title="Undo", ask_reason=True)
            if not await self.push_screen_wait(confirm):
                return
            try:
                outcomes = await undo_entries(self.workspace, entries, reason=confirm.reason)
            except ModerationError as error:
                self.notify(str(error), title="Not undone", severity="error", markup=False)
                return
            failed = any(o.error or o.conflicts for o in outcomes)
            self.notify(
                "\n".join(o.summary for o in outcomes),
                title="Undo: some rows left alone" if failed else "Undone",
                severity="warning" if failed else "information",
                markup=False,
            )
            stale.catch_up(self)
        finally:
            self._undoing = False

    def action_open_fleet(self) -> None:
        """All tenants side by side."""
        navigation.fleet(self)

    def action_open_audit(self) -> None:
        """The audit log of every write."""
        navigation.audit(self)

    def action_open_queue(self, mode: str = "drafts") -> None:
        """The moderation queue across tenants (`drafts` or `comments`)."""
        navigation.queue(self, mode)

    def action_new_tenant(self) -> None:
        """Create, migrate and register a tenant."""
        navigation.new_tenant(self)


def make_app(
    settings: Settings,
    workspace: Workspace | None = None,
    *,
    painted: Painted | None = None,
    first_frame: Stamp | None = None,
) -> TursotuiApp:
    """Build the app; it opens a workspace from `settings` unless one is given.

    Args:
        settings: The session's settings.
        workspace: An already open workspace (tests, `tursotui demo`); the caller closes it.
        painted: The first frame a start painted before the app (the app takes it over).
        first_frame: The stamp to keep the app's first frame with, for the next start.
    """
    return TursotuiApp(settings, workspace, painted=painted, first_frame=first_frame)


__all__ = ["TursotuiApp", "make_app"]
