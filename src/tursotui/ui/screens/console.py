"""The SQL console of one tenant.

It opens a connection of its own (so cancelling a query never touches other
screens) and closes it when it is dismissed. Statements are classified before
anything is sent: ATTACH/DETACH/load_extension and transaction control are
refused, writes run inside a transaction and show how many rows they changed
before you commit or roll back (or are confirmed before sending, where the
server cannot hold a transaction), destructive ones need the tenant's slug
typed first, and every write goes to the audit log with its SQL. Reads fill the
grid a chunk at a time as you scroll, up to `console_row_cap` rows.

On a remote tenant each call may take `console_timeout` seconds (connecting keeps
the app-wide `timeout`); `f5` runs with no limit. Typed characters never reach the
app's one-letter keys, and the editor's text is kept per tenant across sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ProgressBar, Static, TextArea
from textual.worker import Worker, WorkerState

from tursotui import heap
from tursotui.console.export import ExportError, export_path, export_result
from tursotui.console.history import Draft, History, HistoryError
from tursotui.console.runner import (
    PlannedStatement,
    ResultCursor,
    check_syntax,
    plan,
    plural,
    rows_changed,
    run_write,
    what_it_touches,
)
from tursotui.console.schema import count_rows, read_schema
from tursotui.db import LibsqlError
from tursotui.db.base import RemoteConnection
from tursotui.db.errors import TIMEOUT, describe
from tursotui.display.literal import literal
from tursotui.session.replicas import ReplicaConnection
from tursotui.sqltext import statement_at
from tursotui.ui.frames import FrameHold, hold_frames
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.export_picker import ExportFormatScreen
from tursotui.ui.screens.history_picker import HistoryScreen
from tursotui.ui.screens.sql_error import SqlErrorScreen
from tursotui.ui.screens.typed_confirm import TypedConfirmScreen
from tursotui.ui.screens.value_view import ValueScreen
from tursotui.ui.typeahead import hold_keys_for
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.result_grid import ResultGrid
from tursotui.ui.widgets.schema_panel import SchemaPanel
from tursotui.ui.widgets.sql_editor import SqlEditor
from tursotui.ui.widgets.text_line import TextLine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tursotui.db import Connection
    from tursotui.session.registry import Tenant
    from tursotui.session.workspace import Workspace
    from tursotui.ui.commands import Command

FIRST_PAGE_ROWS = 200
"""Rows shown as soon as a query answers."""
PAGE_ROWS = 500
"""Rows fetched each time the user scrolls near the end."""
KEEP_TEXT_EVERY_S = 1.0
"""How often, at most, the editor's text is written to its file while it changes."""
QUERY_GROUP = "console-query"
FETCH_GROUP = "console-fetch"
EXPORT_GROUP = "console-export"


def _hint(error: BaseException) -> str:
    """What to try after a failure, where there is something."""
    if getattr(error, "code", None) == TIMEOUT:
        return " · f5 runs it with no time limit (ctrl+g stops it)"
    return ""


class ConsoleScreen(Screen[None]):
    """A SQL editor, a schema panel and an incremental result grid on one tenant."""

    CSS_PATH = "console.tcss"
    PALETTE_NOUN = "console"
    AUTO_FOCUS = "#editor"
    """The editor has focus from the start, so SQL typed right after `s` lands in it."""

    BINDINGS = [
        Binding(
            "ctrl+r", "run", "Run", tooltip="Run the statement under the cursor, or the selection"
        ),
        Binding("ctrl+enter", "run", "Run", show=False),
        Binding(
            "f5",
            "run_unlimited",
            "Run, no time limit",
            tooltip="Run like ctrl+r, for as long as it takes (ctrl+g stops it)",
            show=False,
        ),
        Binding("ctrl+g", "cancel", "Cancel", tooltip="Cancel the running query or export"),
        Binding("f8", "history", "History", tooltip="Search the statements run on this tenant"),
        Binding("ctrl+s", "export", "Export", tooltip="Export the whole result to CSV or JSON"),
        # F4 first: ctrl+b is tmux's prefix key and never reaches an app running inside tmux.
        Binding("f4", "toggle_schema", "Schema", tooltip="Show or hide the schema panel"),
        Binding("ctrl+b", "toggle_schema", "Schema", show=False),
        Binding("f2", "focus_editor", "Editor", tooltip="Move to the editor"),
        Binding(
            "f9",
            "toggle_reads",
            "Replica/primary",
            tooltip="Run reads on the tenant's primary instead of its replica, or back",
            show=False,
        ),
        Binding("f3", "focus_results", "Results", tooltip="Move to the result grid"),
        Binding(
            "escape",
            "leave",
            "Back",
            tooltip="Back to the previous screen; the editor's text is kept for this tenant",
        ),
        # `?` is a character the editor takes; in the console, help is a function key.
        Binding("f1", "help", "Help", tooltip="Every key of the console", show=False),
    ]

    KEEPS_LETTERS = True
    """The app's one-letter keys (`t`, `q`, `?`) do nothing here: a letter typed while the
    grid has focus must not close the console or quit the app."""

    def __init__(self, tenant: Tenant) -> None:
        super().__init__()
        self.tenant = tenant
        self.connection: Connection | None = None
        self._cursor: ResultCursor | None = None
        self._cursor_sql = ""
        self._transaction: Any = None
        self._fetching = False
        self._last_select = ""
        self._history: History | None = None
        self._draft: Draft | None = None
        self._editor: SqlEditor | None = None
        self._kept_at = 0.0
        """When the editor's text was last written to its file (monotonic seconds)."""
        self._restored = False
        self._frames: FrameHold | None = None
        """Frames held from ctrl+r until the rows are shown (see `ui.frames`)."""

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TenantHeader("SQL console", self.tenant)
        with Horizontal(id="console-body"):
            yield SchemaPanel(id="schema")
            with Vertical(id="console-main"):
                yield SqlEditor(id="editor")
                yield TextLine(id="status")
                yield ProgressBar(id="export-progress", show_eta=False)
                yield Static(id="run-log")
                yield ResultGrid(id="grid")
        yield KeysFooter()

    @property
    def workspace(self) -> Workspace:
        return tursotui_app(self).workspace

    @property
    def read_only(self) -> bool:
        return bool(self.workspace.settings.read_only)

    def on_mount(self) -> None:
        self.query_one("#export-progress").display = False
        data_dir = self.workspace.settings.data_dir
        self._history = History.for_tenant(data_dir, self.tenant.slug)
        self._draft = Draft.for_tenant(data_dir, self.tenant.slug)
        self._editor = editor = self.query_one(SqlEditor)
        try:
            kept = self._draft.read()
        except HistoryError as error:
            self.notify(str(error), title="SQL console", severity="warning", markup=False)
            kept = ""
        if kept:
            editor.load_text(kept)
            editor.move_cursor(editor.document.end)
            self._restored = True
        mode = "read-only mode: writes are refused · " if self.read_only else ""
        self._status(f"{mode}connecting to {self.tenant.slug}…")
        editor.focus()
        self._open()

    async def on_unmount(self) -> None:
        heap.release()  # this screen's widgets and result, set aside by a query, die with it
        if self._draft is not None and self._editor is not None:
            # However the console is left (the app quitting too), its text is kept; if it
            # cannot be, `escape` has asked already and there is nobody left to tell.
            with contextlib.suppress(HistoryError):
                self._draft.save(self._editor.text)
        # Leaving mid-query must not wait for it: stop it, then release the connection.
        if self.connection is not None:
            self.connection.interrupt()
        interrupt = getattr(self._transaction, "interrupt", None)
        if interrupt is not None:
            interrupt()
        await self._close_cursor()
        if self.connection is not None:
            await self.connection.close()

    @work(exclusive=True, group="console-open", exit_on_error=False, description="connect")
    async def _open(self) -> None:
        try:
            self.connection = await self._connect()
        except Exception as error:  # RegistryError or LibsqlError: both have human messages
            self._status(f"cannot connect: {describe(error)}", error=True)
            return
        mode = "read-only mode · " if self.read_only else ""
        kept = "the text you left here is back · " if self._restored else ""
        self._status(f"{mode}connected · {kept}ctrl+r runs the statement under the cursor")
        await self._load_schema()

    async def _load_schema(self) -> None:
        if self.connection is None:
            return
        try:
            schema = await read_schema(self.connection)
        except LibsqlError as error:
            self.notify(describe(error), title="Schema", severity="error", markup=False)
            return
        self.query_one(SchemaPanel).show_schema(schema)
        self.query_one(SqlEditor).set_schema_words(schema.names())

    # -- status -----------------------------------------------------------------------

    def _status(self, message: str | Text, *, error: bool = False) -> None:
        text = message if isinstance(message, Text) else Text(message)
        if error:
            text.stylize("bold red")
        self.query_one("#status", TextLine).update(text)

    def _log(self, lines: list[Text]) -> None:
        log = self.query_one("#run-log", Static)
        if not lines and not log.display:
            return  # Static.update() lays out the whole screen: not for a log that stays hidden
        log.display = bool(lines)
        log.update(Text("\n").join(lines))

    # -- running ----------------------------------------------------------------------

    def selected_sql(self) -> str:
        """The selection if any, else the statement under the cursor."""
        editor = self.query_one(SqlEditor)
        if editor.selected_text.strip():
            return editor.selected_text
        text = editor.text
        row, column = editor.cursor_location
        offset = sum(len(line) + 1 for line in text.split("\n")[:row]) + column
        span = statement_at(text, offset)
        return span.sql if span else ""

    def action_run_unlimited(self) -> None:
        """Run like `action_run`, without the console's time limit on remote calls."""
        self.action_run(unlimited=True)

    def action_run(self, unlimited: bool = False) -> None:
        """Run the statement under the cursor or the selection (several: in order)."""
        if self.connection is None:
            self.notify("Not connected yet.", severity="warning")
            return
        if self.busy:
            self.notify("A query is running: cancel it first (ctrl+g).", severity="warning")
            return
        sql = self.selected_sql()
        if not sql.strip():
            self.notify("Nothing to run: the editor has no statement here.", severity="warning")
            return
        # A quick query's rows are painted in the key's first frame, without `running…`.
        self._release_frames()
        self._frames = hold_frames(self.app)
        self.run_sql(sql, unlimited=unlimited)

    def _release_frames(self) -> None:
        if self._frames is not None:
            self._frames.release()
            self._frames = None

    @property
    def busy(self) -> bool:
        """True while a statement or an export runs."""
        return any(w.is_running and w.group in (QUERY_GROUP, EXPORT_GROUP) for w in self.workers)

    async def _connect(self) -> Connection:
        """A connection of the console's own: connecting is held to the app-wide timeout,
        its statements to the console's (analytic queries take longer than a page read)."""
        connection = await self.workspace.open_tenant(self.tenant)
        if isinstance(connection, RemoteConnection):
            connection.timeout = self.workspace.settings.console_timeout
        if self.workspace.replicas.wanted(self.tenant):
            # Reads from the tenant's replica, writes to its primary; F9 switches reads.
            connection = await self.workspace.with_replica(self.tenant, connection)
        return connection

    def action_toggle_reads(self) -> None:
        """Send reads to the primary, or back to the replica (a tenant with a replica)."""
        if not isinstance(self.connection, ReplicaConnection):
            self.notify("This tenant has no replica: every statement runs on its primary.")
            return
        self.connection.prefer_primary = not self.connection.prefer_primary
        self._status(f"reads now run on the {self.connection.where}")

    def _limit(self, seconds: float | None) -> None:
        """How long each remote call may take from now on (None: as long as it takes)."""
        if isinstance(self.connection, RemoteConnection):
            self.connection.timeout = seconds

    @work(exclusive=True, group=QUERY_GROUP, exit_on_error=False, description="SQL query")
    async def run_sql(self, text: str, *, unlimited: bool = False) -> None:
        """Run every statement of `text` in order; stop at the first error or refusal.

        Args:
            text: One or more statements.
            unlimited: Remote calls wait as long as the server takes (`ctrl+g` still stops).
        """
        try:
            # What exists now lives on; a collection during the query walks only its rows.
            heap.set_aside()
            await self._close_cursor()
            if self.connection is None or self.connection.closed:
                # The connection died (server restarted, closed under us): open a fresh one.
                self._status("reconnecting…")
                self.connection = await self._connect()
            self._limit(None if unlimited else self.workspace.settings.console_timeout)
            try:
                await self._run_all(text)
            finally:
                if unlimited:
                    self._limit(self.workspace.settings.console_timeout)
        finally:
            self._release_frames()

    async def _run_all(self, text: str) -> None:
        statements = plan(text, read_only=self.read_only)
        log: list[Text] = []
        for number, statement in enumerate(statements, 1):
            prefix = Text(f"{number}. " if len(statements) > 1 else "", style="dim")
            try:
                outcome = await self._run_one(statement)
            except asyncio.CancelledError:
                # Cancelled (ctrl+g, or the screen is leaving): SQLite must stop too, or the
                # connection's thread stays busy with a statement nobody waits for.
                if self.connection is not None:
                    self.connection.interrupt()
                self._remember(statement, ok=False, summary="cancelled")
                raise
            except Exception as error:  # LibsqlError, AuditError, a transport's own failure
                self._remember(statement, ok=False, summary=describe(error))
                log.append(prefix + Text(f"✗ {describe(error)}", style="red"))
                self._log(log if len(statements) > 1 else [])
                self._status(f"failed: {describe(error)}{_hint(error)}", error=True)
                code = getattr(error, "code", None)
                await self.app.push_screen_wait(
                    SqlErrorScreen(describe(error) + _hint(error), code=code, sql=statement.sql)
                )
                return
            ok = outcome is not None and not outcome.startswith("refused")
            if outcome is not None:
                self._remember(statement, ok=ok, summary=outcome)
                log.append(prefix + Text(("✓ " if ok else "✗ ") + outcome))
            self._log(log if len(statements) > 1 else [])
            if not ok:
                return

    async def _run_one(self, statement: PlannedStatement) -> str | None:
        """Run one statement; returns its summary (None when the user chose not to run it)."""
        assert self.connection is not None
        kind = statement.kind
        if not kind.is_known:
            await check_syntax(self.connection, statement.sql)
        if statement.refusal:
            self._status(f"refused: {statement.refusal}", error=True)
            self.notify(statement.refusal, title="Refused", severity="error", markup=False)
            return f"refused: {statement.refusal}"
        if kind.writes:
            return await self._write(statement)
        return await self._read(statement)

    async def _read(self, statement: PlannedStatement) -> str:
        assert self.connection is not None
        grid = self.query_one(ResultGrid)
        unlimited = (
            isinstance(self.connection, RemoteConnection) and self.connection.timeout is None
        )
        limit = "no time limit · ctrl+g stops it · " if unlimited else ""
        self._status(Text(f"running… ({limit}{literal(statement.sql, 60).plain})"))
        started = time.perf_counter()
        cursor = ResultCursor(self.connection, statement.sql, chunk_size=FIRST_PAGE_ROWS)
        await cursor.open()
        rows = await cursor.fetch(FIRST_PAGE_ROWS)
        grid.show_result(cursor.columns)
        # Not `_append`: frames are held until these rows show, so letting the loop run
        # before them would only put off the frame that shows them.
        grid.append_rows(rows)
        self._cursor, self._cursor_sql = cursor, statement.sql
        self._last_select = statement.sql
        self._started = started
        cursor.chunk_size = PAGE_ROWS
        grid.more_available = cursor.has_more
        if not cursor.has_more:
            await self._close_cursor()
        self._show_read_status(cursor, started)
        self._release_frames()  # the rows are there: paint them now
        if not cursor.returns_rows:
            return "no rows"
        return plural(cursor.loaded, "row") + (" shown, more on scroll" if cursor.has_more else "")

    def _show_read_status(self, cursor: ResultCursor, started: float) -> None:
        grid = self.query_one(ResultGrid)
        elapsed = (time.perf_counter() - started) * 1000
        parts = []
        if not cursor.returns_rows:
            parts.append("no rows")
        elif cursor.has_more:
            cap = self.workspace.settings.console_row_cap
            if cursor.loaded >= cap:
                parts.append(f"showing the first {cursor.loaded:,} rows (the cap); export for all")
            else:
                parts.append(f"showing the first {cursor.loaded:,} rows; scroll for more")
        else:
            parts.append(plural(cursor.loaded, "row"))
        if grid.hidden_columns:
            parts.append(f"{grid.hidden_columns:,} more columns not shown")
        parts.append(f"first rows in {cursor.first_rows_ms:,.0f} ms")
        parts.append(f"{elapsed:,.0f} ms")
        if cursor.rows_read is not None:
            parts.append(f"{plural(cursor.rows_read, 'row')} read")
        if cursor.rows_written:
            parts.append(f"{plural(cursor.rows_written, 'row')} written")
        if isinstance(self.connection, ReplicaConnection):
            parts.append(f"read on the {self.connection.where} (F9 switches)")
        self._status(" · ".join(parts))

    async def _write(self, statement: PlannedStatement) -> str | None:
        assert self.connection is not None
        kind = statement.kind
        touches = what_it_touches(kind, self.tenant.slug)
        if kind.destructive:
            typed = await self.app.push_screen_wait(
                TypedConfirmScreen(
                    Text(f"{touches}\n\n") + literal(statement.sql, 500, multiline=True),
                    self.tenant.slug,
                )
            )
            if not typed:
                self._status("not run: the destructive statement was not confirmed")
                return "not run (not confirmed)"

        async def decide(result: Any) -> bool:
            if result is None:
                question = Text(f"{touches}\n\n") + literal(statement.sql, 500, multiline=True)
                question.append("\n\nThis server cannot hold a transaction: run it now?")
                run_now = await self.app.push_screen_wait(
                    ConfirmScreen(question, yes="Run", no="Don't", title="Write")
                )
                return bool(run_now)
            changed = rows_changed(kind, result)
            question = Text(f"{touches}\n\n")
            question.append(
                f"It changed {plural(changed, 'row')} (not committed yet).", style="bold"
            )
            question.append("\nCommit, or roll back?")
            commit = await self.app.push_screen_wait(
                ConfirmScreen(question, yes="Commit", no="Roll back", title="Write")
            )
            return bool(commit)

        self._status(Text(f"running the write… ({literal(statement.sql, 60).plain})"))
        outcome = await run_write(
            self.connection,
            self.workspace.audit,
            self.tenant.slug,
            statement.sql,
            decide=decide,
            on_transaction=self._hold_transaction,
        )
        self._transaction = None
        result = outcome.result
        if result.columns:
            grid = self.query_one(ResultGrid)
            grid.show_result(tuple(result.columns))
            grid.append_rows([row.astuple() for row in result.rows])
        changed = rows_changed(kind, result)
        if not outcome.committed:
            what = "rolled back" if outcome.in_transaction else "not run"
            summary = f"{what}: {plural(changed, 'row')} would have changed"
            if not outcome.in_transaction:
                summary = "not run"
            self._status(summary)
            return summary
        summary = f"committed: {plural(changed, 'row')} changed"
        self._status(f"{summary} · {outcome.elapsed_ms:,.0f} ms")
        if kind.verb in ("CREATE", "DROP", "ALTER"):
            await self._load_schema()
        return summary

    def _hold_transaction(self, transaction: object) -> None:
        self._transaction = transaction

    def _remember(self, statement: PlannedStatement, *, ok: bool, summary: str) -> None:
        if self._history is None:
            return
        try:
            self._history.add(statement.sql, ok=ok, summary=summary[:200])
        except HistoryError as error:
            self.notify(str(error), title="History", severity="warning", markup=False)

    # -- more rows on scroll ----------------------------------------------------------

    @on(ResultGrid.RowsWanted)
    def _more_rows(self) -> None:
        # The flag is set here, not in the worker: the grid asks on every scroll step, and a
        # second fetch must never start (nor cancel the first half-way through a chunk).
        if self._cursor is not None and not self._fetching and not self.busy:
            self._fetching = True
            self._fetch_more()

    @work(group=FETCH_GROUP, exit_on_error=False, description="more rows")
    async def _fetch_more(self) -> None:
        cursor = self._cursor
        cap = self.workspace.settings.console_row_cap
        want = 0 if cursor is None else min(PAGE_ROWS, cap - cursor.loaded)
        if cursor is None or want <= 0:
            self._fetching = False
            return
        try:
            rows = await cursor.fetch(want)
        except LibsqlError as error:
            self._status(f"stopped loading rows: {describe(error)}", error=True)
            await self._close_cursor()
            return
        finally:
            self._fetching = False
        if cursor is not self._cursor:
            return  # a new query replaced this result meanwhile
        grid = self.query_one(ResultGrid)
        await self._append(grid, rows)
        grid.more_available = cursor.has_more and cursor.loaded < cap
        self._show_read_status(cursor, self._started)
        if not cursor.has_more:
            await self._close_cursor()

    async def _append(self, grid: ResultGrid, rows: list[tuple]) -> None:
        """Add rows to the grid, then let the loop breathe (a repaint) before more work."""
        grid.append_rows(rows)
        await asyncio.sleep(0)

    async def _close_cursor(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            await cursor.close()

    # -- cancel -----------------------------------------------------------------------

    def action_cancel(self) -> None:
        """Cancel the running query or export; control returns at once."""
        running = [
            w
            for w in self.workers
            if w.is_running and w.group in (QUERY_GROUP, EXPORT_GROUP, FETCH_GROUP)
        ]
        if not running:
            self.notify("Nothing is running.")
            return
        # Local: SQLite stops the statement; remote: the request is abandoned with the task.
        if self.connection is not None:
            self.connection.interrupt()
        interrupt = getattr(self._transaction, "interrupt", None)
        if interrupt is not None:
            interrupt()
        for worker in running:
            worker.cancel()
        self._status("cancelled")
        self.query_one("#export-progress").display = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group in (
            QUERY_GROUP,
            FETCH_GROUP,
            EXPORT_GROUP,
        ):
            error = event.worker.error
            self._status(f"failed: {describe(error) if error else 'unknown error'}", error=True)

    # -- letters, leaving, the kept text --------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        # A character the focused widget did not take (the grid, the schema panel) stops
        # here unless a key of the console itself wants it: the app's one-letter keys
        # would close the console or quit the app in the middle of a typed burst.
        if not event.is_printable:
            return
        bound = self.active_bindings.get(event.key)
        if bound is not None and bound.node is not self.app:
            return
        event.stop()
        event.prevent_default()
        self.app.bell()
        self._status("type in the editor (F2) · esc leaves · F1 keys")

    def action_help(self) -> None:
        """Every key of the console."""
        tursotui_app(self).action_help()

    def palette_commands(self) -> Iterator[Command]:
        """The app's commands whose keys the console keeps for typing, offered by name: the
        app refuses their actions while the console is on top, so these call them directly."""
        app = tursotui_app(self)
        yield "help: keys", self.action_help, "Every key of the console (F1)"
        yield "tenant: switch", app.action_switch_tenant, "Back to the tenants list"
        yield "app: quit", app.action_quit_app, "Quit tursotui (asks while work is running)"

    @on(TextArea.Changed, "#editor")
    def _text_changed(self) -> None:
        # Written at most once a second while typing, not once per key of a burst, and
        # always on the way out (a timer for the last keys would outlive the screen).
        if time.monotonic() - self._kept_at >= KEEP_TEXT_EVERY_S:
            self._keep_text()

    def _keep_text(self) -> str | None:
        """Write the editor's text to this tenant's file; why it could not be, or None."""
        self._kept_at = time.monotonic()
        if self._draft is None or self._editor is None:
            return None
        try:
            self._draft.save(self._editor.text)
        except HistoryError as error:
            self._status(str(error), error=True)
            return str(error)
        return None

    def action_leave(self) -> None:
        """Back to the previous screen, keeping the editor's text (asks if it cannot)."""
        problem = self._keep_text()
        if problem is None:
            self.app.pop_screen()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.app.pop_screen()

        question = Text(f"{problem}.\n\nLeave anyway? The editor's text would be lost.")
        self.app.push_screen(ConfirmScreen(question, yes="Leave", no="Stay"), answered)

    # -- history, export, schema, values ----------------------------------------------

    def action_history(self) -> None:
        """Open the searchable history; the chosen statement replaces the editor's text."""
        if self._history is None:
            return
        try:
            entries = self._history.entries()
        except HistoryError as error:
            self.notify(str(error), title="History", severity="error", markup=False)
            return

        def chosen(sql: str | None) -> None:
            if sql:
                editor = self.query_one(SqlEditor)
                editor.load_text(sql)
                editor.move_cursor(editor.document.end)
                editor.focus()

        self.app.push_screen(HistoryScreen(entries, self.tenant.slug), chosen)

    def action_export(self) -> None:
        """Export the whole current result (the query runs again) to CSV or JSON."""
        if not self._last_select:
            self.notify("Run a query first: the export writes its whole result.")
            return
        if self.busy:
            self.notify("Something is running: wait or cancel it first.", severity="warning")
            return

        def picked(fmt: str | None) -> None:
            if fmt:
                self.run_export(self._last_select, fmt)

        self.app.push_screen(ExportFormatScreen(), picked)

    @work(exclusive=True, group=EXPORT_GROUP, exit_on_error=False, description="export")
    async def run_export(self, sql: str, fmt: str) -> None:
        """Write every row of `sql` to a file under the data directory."""
        assert self.connection is not None
        await self._close_cursor()
        path = export_path(self.workspace.settings.data_dir, self.tenant.slug, fmt)
        bar = self.query_one("#export-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)

        def progress(rows: int) -> None:
            self._status(f"exporting… {rows:,} rows written · ctrl+g cancels")

        try:
            done = await export_result(self.connection, sql, path, fmt, progress=progress)
        except (LibsqlError, ExportError) as error:
            self._status(f"export failed: {describe(error)}", error=True)
            return
        finally:
            bar.display = False
        self._status(f"exported {plural(done.rows, 'row')} to {done.path}")
        self.notify(str(done.path), title=f"Exported {done.rows:,} rows", markup=False)

    def action_toggle_schema(self) -> None:
        """Show or hide the schema panel."""
        panel = self.query_one(SchemaPanel)
        panel.display = not panel.display

    def action_focus_editor(self) -> None:
        """Move to the editor (the keys typed next go there, however fast)."""
        editor = self.query_one(SqlEditor)
        editor.focus()
        hold_keys_for(self.app, editor)

    def action_focus_results(self) -> None:
        """Move to the result grid (the keys typed next go there, however fast)."""
        grid = self.query_one(ResultGrid)
        grid.focus()
        hold_keys_for(self.app, grid)

    @on(ResultGrid.ValueWanted)
    def _show_value(self, event: ResultGrid.ValueWanted) -> None:
        self.app.push_screen(ValueScreen(event.column, event.value))

    @on(SchemaPanel.CountWanted)
    def _count(self, event: SchemaPanel.CountWanted) -> None:
        self._count_rows(event.table)

    @work(group="console-count", exit_on_error=False, description="row count")
    async def _count_rows(self, table: str) -> None:
        if self.connection is None:
            return
        try:
            count = await count_rows(self.connection, table)
        except LibsqlError as error:
            self.notify(describe(error), title="Row count", severity="error", markup=False)
            return
        self.query_one(SchemaPanel).show_count(table, count)

    @on(SchemaPanel.NameChosen)
    def _insert_name(self, event: SchemaPanel.NameChosen) -> None:
        editor = self.query_one(SqlEditor)
        editor.insert(event.name)
        editor.focus()


__all__ = ["ConsoleScreen"]
