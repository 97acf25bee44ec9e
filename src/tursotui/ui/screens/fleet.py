"""The fleet: every tenant side by side, rows filling in as tenants answer.

One row per registry row, asked `settings.fleet_concurrency` at a time; a dead or
slow tenant is a row with its error, never a frozen screen, and cancelling keeps
what has arrived. From here: search posts and comments across tenants (the `/`
panel, `ui/screens/fleet_search.py`), migrate the whole fleet, create missing
indexes, and open the cross-tenant moderation queue. Once every row has answered, what
each tenant costs (rows read and written, storage) fills the usage columns.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import ProgressBar

from tursotui.db import LibsqlError
from tursotui.db.errors import describe
from tursotui.display.literal import literal
from tursotui.display.posts import when
from tursotui.fanout import LoopShare
from tursotui.fleet import overview as fleet
from tursotui.session.audit import AuditError
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant import indexes
from tursotui.ui import navigation
from tursotui.ui.feedback import StatusFeedback
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.screens.fleet_search import FleetSearch
from tursotui.ui.tenant_cells import schema_style
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.sortable_list import SortableList
from tursotui.ui.widgets.text_line import TextLine
from tursotui.ui.write_keys import WriteKeys
from tursotui.words import plural

if TYPE_CHECKING:
    from tursotui.fleet.overview import FleetRow
    from tursotui.provision.usage import TenantUsage
    from tursotui.session.workspace import Workspace


def _missing(row: FleetRow) -> tuple[indexes.WantedIndex, ...]:
    """The indexes `row` lacks (none while its advice has not loaded)."""
    return row.indexes.missing if row.indexes is not None else ()


def _number(value: int | None) -> Text:
    return (
        Text("—", style="dim", justify="right")
        if value is None
        else Text(str(value), justify="right")
    )


def _count(value: int | None, *, size: bool = False) -> Text:
    """A usage figure in a few characters: `950`, `12.3k`, `4.1M`; storage `512B`, `8.0K`."""
    if value is None:
        return Text("—", style="dim", justify="right")
    units = ("B", "K", "M", "G", "T") if size else ("", "k", "M", "G", "T")
    step = 1024 if size else 1000
    shown, unit = float(value), 0
    while shown >= 1000 and unit < len(units) - 1:
        shown /= step
        unit += 1
    text = f"{value}{units[0]}" if unit == 0 else f"{shown:.1f}{units[unit]}"
    return Text(text, justify="right")


def _flags_shown(flags: Any) -> tuple[bool, bool]:
    """What a row's cells show of a tenant's flags (`provision.protect.Flags`, or None):
    protected (`◆`), blocked (`block`)."""
    if flags is None:
        return (False, False)
    return (bool(flags.protected), bool(flags.blocked))


def _schema(label: str | None) -> Text:
    if label is None:
        return Text("—", style="dim")
    return Text(label, style=schema_style(label))


SortKey = Callable[["FleetRow", "TenantUsage | None"], Any]
"""A column's sort key, of a row and the tenant's usage (None until read)."""


def _most(value: int | None) -> tuple[bool, int]:
    """Sort key putting the biggest figure first and unknown ones last."""
    return (value is None, -(value or 0))


COLUMNS: tuple[tuple[str, str, int, SortKey], ...] = (
    ("tenant", "tenant", 16, lambda r, u: r.slug.lower()),
    ("state", "state", 5, lambda r, u: (not r.reachable, r.slug)),
    (
        "latency",
        "ms",
        6,
        lambda r, u: r.health.latency_ms if r.health.latency_ms is not None else 1e12,
    ),
    ("schema", "schema", 12, lambda r, u: r.health.schema or "~"),
    ("draft", "drafts", 6, lambda r, u: -(r.count("draft") or -1)),
    ("published", "publ.", 6, lambda r, u: -(r.count("published") or -1)),
    ("archived", "arch.", 6, lambda r, u: -(r.count("archived") or -1)),
    ("comments", "comm.", 7, lambda r, u: -(r.comments if r.comments is not None else -1)),
    ("newest", "newest", 16, lambda r, u: -(r.newest_activity or 0)),
    ("indexes", "indexes", 9, lambda r, u: -len(r.indexes.missing) if r.indexes else 1),
    ("read", "read", 7, lambda r, u: _most(u.rows_read if u else None)),
    ("written", "written", 7, lambda r, u: _most(u.rows_written if u else None)),
    ("storage", "storage", 7, lambda r, u: _most(u.storage_bytes if u else None)),
    ("error", "error", 40, lambda r, u: (r.error is None, r.error or "")),
)
"""(key, header, width, sort key) of each column; sorting puts the interesting end first."""

NARROW_COLUMNS = ("tenant", "state", "schema", "draft", "comments", "indexes", "error")
"""The columns that fit an 80-column terminal; the others appear from 120 columns on."""

WIDE_FROM = 120

FIGURE_COLUMNS = (
    "latency",
    "draft",
    "published",
    "archived",
    "comments",
    "read",
    "written",
    "storage",
)
"""Columns of figures: right-aligned, their headers too."""

USAGE_COLUMNS = ("read", "written", "storage")
"""What each tenant costs (rows read and written this month, storage): from 150 columns on;
narrower, the current row's figures are on the line under the table."""

USAGE_FROM = 150

STOPPED = Text("stopped before it answered (r asks again)", style="yellow")
"""The error cell of a row whose tenant was still being asked when `c` stopped the asking."""


PAINT_EVERY_S = 0.2
"""How often answers are painted (their rows, the progress line) while tenants answer.

One repaint per answer starved the event loop the probes run on at 10,000 tenants: the
answers that arrive meanwhile are painted together, the first of them at once.
"""


class FleetScreen(StatusFeedback, WriteKeys):
    """Every tenant at once: health, schema, counts, activity, index advice."""

    CSS_PATH = "fleet.tcss"
    AUTO_FOCUS = "#fleet-table"
    FEEDBACK_REPAINT = "show_progress"
    HELP_TITLE = "fleet"

    WRITE_ACTIONS = frozenset({"migrate", "indexes"})
    """Hidden and refused in a read-only session."""

    BINDINGS = [
        Binding(
            "enter", "open", "Posts", tooltip="Moderate the current tenant's posts", id="fleet.open"
        ),
        Binding("r", "refresh", "Refresh", tooltip="Ask every tenant again", id="fleet.refresh"),
        Binding(
            "c",
            "cancel",
            "Cancel",
            tooltip="Stop asking; keep the rows that arrived",
            id="fleet.cancel",
        ),
        Binding(
            "o",
            "sort",
            "Sort",
            tooltip="Sort by the next column (click a header too)",
            id="fleet.sort",
        ),
        Binding("O", "reverse", "Reverse", tooltip="Reverse the sort order", show=False),
        Binding(
            "slash",
            "search",
            "Search",
            tooltip="Search posts and comments across every tenant",
            id="fleet.search",
        ),
        Binding(
            "m", "queue", "Queue", tooltip="Drafts and comments across tenants", id="fleet.queue"
        ),
        Binding(
            "A",
            "author",
            "Author",
            tooltip="An author by email on every tenant (their posts, comments, purge)",
            show=False,
            id="fleet.author",
        ),
        Binding(
            "M",
            "migrate",
            "Migrate",
            tooltip="Migrate every tenant (dry run first)",
            id="fleet.migrate",
        ),
        Binding(
            "i",
            "indexes(False)",
            "Indexes",
            tooltip="Create the current tenant's missing indexes",
            id="fleet.indexes",
        ),
        Binding(
            "I",
            "indexes(True)",
            "All indexes",
            show=False,
            tooltip="Create the missing indexes on every tenant that lacks them",
        ),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tenants: list[Tenant] = []
        self.rows: dict[str, FleetRow] = {}
        """Answers by row key (the tenant's position: slugs of broken rows may repeat)."""
        self.sort_column: int | None = None
        self.sort_reverse = False
        self.asking = False
        """Tenants are being asked (`c` stops it). Not `loading`: that is Textual's, and a
        screen `loading` is covered by a spinner, its rows hidden and never repainted."""
        self.cancelled = False
        self.token = 0
        self.note: Text | None = None
        self._asked: dict[str, int] = {}
        """Each tenant's write count (audit generation) when its row was last asked for."""
        self._unpainted: dict[str, None] = {}
        """Keys of the rows whose answers (or usage, or flags) arrived since the last paint."""
        self._painted_at = float("-inf")
        self._paint_due = False
        """A paint is scheduled (see `changed`)."""
        self._shown: tuple[str, ...] = ()
        """The keys of the table's columns (those that fit the width when it was set up)."""
        self._keep: tuple[str | None, int] = (None, 0)
        """`r`: the tenant under the cursor (its slug) and its row, to put the cursor back."""
        self.flags: dict[str, Any] = {}
        """Delete protection and blocks by slug (`provision.protect.Flags`), once asked."""
        self.usage: dict[str, TenantUsage] = {}
        """What each tenant costs, by row key, once read (see `ask_usage`)."""

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TenantHeader("fleet", id="fleet-header")
        yield TextLine(id="fleet-progress")
        yield ProgressBar(id="fleet-bar", show_eta=False)
        yield FleetSearch(id="fleet-search-panel")
        yield SortableList(id="fleet-table")
        yield TextLine(id="fleet-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.action_refresh()

    @property
    def search_panel(self) -> FleetSearch:
        """The `/` panel: posts and comments across tenants."""
        return self.query_one("#fleet-search-panel", FleetSearch)

    @property
    def workspace(self) -> Workspace:
        """The app's workspace."""
        return tursotui_app(self).workspace

    @property
    def table(self) -> SortableList:
        """The fleet table: a row per registry row, in display order."""
        return self.query_one("#fleet-table", SortableList)

    def _setup_table(self) -> None:
        """Columns for the terminal's width (the sorted one marked), no rows."""
        columns = self.columns()
        if self.sort_column is not None and self.sort_column >= len(columns):
            self.sort_column = None  # narrower than the column sorted by
        narrow = (self.app.size.width or 80) < WIDE_FROM
        keyed = []
        for index, (key, header, width, _sort) in enumerate(columns):
            label = header
            if key == "tenant" and narrow:
                width = 12
            if index == self.sort_column:
                label += " ▼" if not self.sort_reverse else " ▲"
                width = max(width, len(label))  # the arrow says which way: never cut off
            keyed.append(
                (key, Text(label, justify="right") if key in FIGURE_COLUMNS else label, width)
            )
        used = sum(width + 2 for key, _label, width in keyed if key != "error")
        room = max(12, (self.app.size.width or 80) - used - 4)
        keyed = [(key, label, room if key == "error" else width) for key, label, width in keyed]
        self._shown = tuple(key for key, _label, _width in keyed)
        self.table.set_keyed_columns(keyed)

    def _list(self, keys: list[str]) -> None:
        """Put these rows in the table, in this order; each row's cells made when shown."""
        self._unpainted.clear()  # every row is made from the answers as they are now
        self.table.add_rows((key, partial(self.row_cells, key)) for key in keys)

    def row_cells(self, key: str) -> list[Text]:
        """The cells of a row as its answers stand (pending until its tenant answers)."""
        row = self.rows.get(key)
        return self._pending_cells(self.tenants[int(key)]) if row is None else self._cells(key, row)

    def changed(self, key: str) -> None:
        """A row's answer, usage or flags changed: painted with the others (`PAINT_EVERY_S`)."""
        self._unpainted[key] = None
        self._schedule_paint()

    def _schedule_paint(self) -> None:
        waited = time.monotonic() - self._painted_at
        if waited >= PAINT_EVERY_S:
            self.paint()
        elif not self._paint_due:  # the answers held back are shown shortly
            self._paint_due = True
            self.set_timer(PAINT_EVERY_S - waited, self._due_paint)

    def _due_paint(self) -> None:
        self._paint_due = False
        self.paint()

    def paint(self) -> None:
        """Show what arrived since the last paint: its rows (one repaint), the progress line.

        The cursor stays on its row: rows are changed in place, never moved (the sort is
        applied when every tenant has answered).
        """
        table = self.table
        if self._unpainted:
            self._painted_at = time.monotonic()
            current = table.cursor_key
            table.update_rows(
                (key, partial(self.row_cells, key)) for key in self._unpainted if table.has_row(key)
            )
            if current in self._unpainted:
                self.show_detail()
            self._unpainted.clear()
        self.show_progress()

    def on_resize(self, event: events.Resize) -> None:
        # Wider or narrower than where columns come and go: the table is set up again.
        if self._shown and tuple(key for key, *_rest in self.columns()) != self._shown:
            self._resort()

    def columns(self) -> list[tuple[str, str, int, SortKey]]:
        """The columns shown at the terminal's width."""
        width = self.app.size.width or 80
        if width >= USAGE_FROM:
            return list(COLUMNS)
        if width >= WIDE_FROM:
            return [column for column in COLUMNS if column[0] not in USAGE_COLUMNS]
        return [column for column in COLUMNS if column[0] in NARROW_COLUMNS]

    def shown_columns(self) -> list[tuple[str, str, int, SortKey]]:
        """The table's columns (those of `columns()` when the table was set up)."""
        if not self._shown:
            return self.columns()
        return [column for column in COLUMNS if column[0] in self._shown]

    def _sorted_by(self) -> str | None:
        """The key of the column sorted by, if any."""
        if self.sort_column is None:
            return None
        return self.shown_columns()[self.sort_column][0]

    def show_progress(self) -> None:
        """The line above the table: answered / total, errors, what is running."""
        total = len(self.tenants)
        answered = len(self.rows)
        failed = sum(1 for r in self.rows.values() if not r.reachable)
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(f" {answered}/{plural(total, 'tenant')} answered", style="bold")
        if failed:
            line.append(f" · {failed} down", style="red")
        missing = sum(1 for r in self.rows.values() if r.indexes and r.indexes.missing)
        if missing:
            line.append(f" · {missing} missing indexes (i/I)", style="yellow")
        if self.asking:
            line.append(
                f" · asking {self.workspace.settings.fleet_concurrency} at a time… (c cancels)",
                style="dim",
            )
        elif self.cancelled and answered < total:
            line.append(" · cancelled (r asks again)", style="yellow")
        if self.note is not None:
            line.append(" · ")
            line.append_text(self.note)
        self.append_feedback(line)
        self.query_one("#fleet-progress", TextLine).update(line)
        bar = self.query_one("#fleet-bar", ProgressBar)
        bar.update(total=max(total, 1), progress=answered)

    # --- loading --------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Reload the registry and ask every tenant again (the cursor stays on its tenant)."""
        tenant = self.current_tenant() if self.tenants else None
        self._keep = (tenant.slug if tenant else None, self._cursor_row())
        self.token += 1
        self.rows.clear()
        self.usage.clear()
        self.cancelled = False
        self.asking = True
        self.note = None
        self.load(self.token)

    @work(exclusive=True, group="fleet", exit_on_error=False, description="fleet overview")
    async def load(self, token: int) -> None:
        """Read the registry, show a pending row per tenant, then fill rows as they answer."""
        try:
            workspace = await tursotui_app(self).wait_workspace()
            # Tenants read from replicas are synced first (none are open on the first load).
            stale = await workspace.sync_replicas()
            if stale:
                self.notify(stale[0], title=f"{len(stale)} replica(s) stale", severity="warning")
            tenants = await workspace.registry.tenants()
        except (RegistryError, LibsqlError) as error:
            self.asking = False
            self.notify(describe(error), title="Registry", severity="error", markup=False)
            self.show_progress()
            return
        if token != self.token:
            return
        self.tenants = tenants
        self._setup_table()
        self._list([str(index) for index in range(len(tenants))])
        self._restore_cursor(tenants)
        self.show_detail()
        self.show_progress()
        self.ask_flags(token, tenants)
        keys: dict[int, str] = {}
        asked: dict[str, int] = {}
        generation = workspace.audit.generation
        share = LoopShare()
        for index, tenant in enumerate(tenants):  # thousands: in slices, keys first
            if share.due():
                await share.turn()
            keys[id(tenant)] = str(index)
            asked[tenant.slug] = generation(tenant.slug)
        if token != self.token:
            return
        self._asked = asked
        # Rows and the progress line (which counts every row) are painted a few times a
        # second, not per answer: per answer, 10,000 tenants cost 10,000 repaints and
        # 10,000 counts of up to 10,000 rows.
        try:
            async for row in fleet.overview(workspace, tenants):
                if token != self.token:
                    return
                key = keys[id(row.tenant)]
                self.rows[key] = row
                self.changed(key)
        finally:
            if token == self.token:
                self.asking = False
                self.paint()
        if self.sort_column is not None:
            self._resort()
        # Usage is asked once every row has answered: its requests never hold the overview back.
        self.ask_usage(token, tenants)

    def _cursor_row(self) -> int:
        return self.table.cursor_row

    def _restore_cursor(self, tenants: list[Tenant]) -> None:
        """After a reload: the cursor on the tenant it was on, else on the row where it was."""
        slug, row = self._keep
        self._keep = (None, 0)
        if slug is not None:
            row = next((i for i, t in enumerate(tenants) if t.slug == slug), row)
        self.table.move_cursor(row=row)

    def on_screen_resume(self) -> None:
        self.catch_up()

    def catch_up(self) -> None:
        """Read again what a write made stale since it was read (see `ui.stale`)."""
        # Back from a screen that wrote to tenants (posts, console…): their rows are asked again.
        audit = self.workspace.audit
        stale = [
            (str(index), tenant)
            for index, tenant in enumerate(self.tenants)
            if tenant.slug in self._asked
            and audit.generation(tenant.slug) != self._asked[tenant.slug]
            and str(index) in self.rows
        ]
        if stale and not self.asking:
            for _key, tenant in stale:
                self._asked[tenant.slug] = audit.generation(tenant.slug)
            self.ask_again(self.token, stale)

    @work(group="load", exit_on_error=False, description="fleet rows again")
    async def ask_again(self, token: int, stale: list[tuple[str, Tenant]]) -> None:
        """Ask these tenants again and show their new rows (the others keep theirs)."""
        keys = {id(tenant): key for key, tenant in stale}
        async for row in fleet.overview(self.workspace, [tenant for _key, tenant in stale]):
            if token != self.token:
                return
            key = keys[id(row.tenant)]
            self.rows[key] = row
            self.changed(key)
        self.paint()

    @work(exclusive=True, group="fleet-flags", exit_on_error=False, description="protection")
    async def ask_flags(self, token: int, tenants: list[Tenant]) -> None:
        """Delete protection and blocks of every tenant (one Platform API listing): a
        protected tenant is marked `◆`, a blocked one's state reads `blocked`."""
        from tursotui.platform import PlatformError
        from tursotui.provision.protect import tenant_flags  # loads only when used

        try:
            flags = await tenant_flags(self.workspace, tenants)
        except PlatformError as error:
            self.notify(str(error), title="Delete protection", severity="warning", markup=False)
            return
        if token != self.token or not flags:
            return
        before, self.flags = self.flags, flags
        # Only the rows whose cells the flags change (a ◆, `block`): every local tenant
        # tursotui made has flags, and repainting 10,000 rows for none held the screen. In
        # slices: the rows are thousands, and keys typed meanwhile go first.
        share = LoopShare()
        for key, row in list(self.rows.items()):
            if share.due():
                await share.turn()
                if token != self.token:
                    return
            if _flags_shown(before.get(row.slug)) != _flags_shown(flags.get(row.slug)):
                self.changed(key)
        self.show_detail()  # (the line under the table names the current tenant's flags)
        self.paint()

    @work(exclusive=True, group="fleet-usage", exit_on_error=False, description="usage")
    async def ask_usage(self, token: int, tenants: list[Tenant]) -> None:
        """Rows read and written and storage of every tenant, from where `tenants usage`
        reads them, `fleet_concurrency` at a time; a figure that cannot be read stays `—`."""
        # Loaded in a thread (tens of milliseconds the first time): a key typed meanwhile
        # is not held up by it.
        await asyncio.to_thread(importlib.import_module, "tursotui.provision.usage")
        from tursotui.provision.usage import usage_stream  # loads only when used

        share = LoopShare()
        keys: dict[str, list[str]] = {}
        for index, tenant in enumerate(tenants):  # thousands: in slices, keys first
            if share.due():
                await share.turn()
            keys.setdefault(tenant.slug, []).append(str(index))
        async for usage in usage_stream(
            self.workspace, tenants, concurrency=self.workspace.settings.fleet_concurrency
        ):
            if token != self.token:
                return
            if share.due():  # local sizes come a few hundred at once
                await share.turn()
                if token != self.token:
                    return
            for key in keys.get(usage.slug, []):
                self.usage[key] = usage
                if key in self.rows:
                    self.changed(key)
        self.paint()
        if self.sort_column is not None and self._sorted_by() in USAGE_COLUMNS:
            self._resort()

    def _pending_cells(self, tenant: Tenant) -> list[Text]:
        """A row that has not answered: still being asked (`…`) or stopped by `c`."""
        if self.cancelled:
            # A `…` left after `c` would read as "still asking" forever.
            state, error = Text("stop", style="yellow"), STOPPED
        else:
            state, error = Text("…", style="dim"), Text("")
        cells = [literal(tenant.slug or "(no slug)", 16), state]
        cells += [Text("")] * (len(self._shown) - 3)
        return [*cells, error]

    def _show_stopped(self) -> None:
        """Mark every row that had not answered when `c` stopped the asking."""
        for index in range(len(self.tenants)):
            if str(index) not in self.rows:
                self._unpainted[str(index)] = None
        self.paint()
        self.show_detail()

    def _cells(self, key: str, row: FleetRow) -> list[Text]:
        shown = set(self._shown)
        return [
            cell
            for (column, *_rest), cell in zip(COLUMNS, self._all_cells(key, row), strict=True)
            if column in shown
        ]

    def _all_cells(self, key: str, row: FleetRow) -> list[Text]:
        latency = row.health.latency_ms
        advice = row.indexes
        index_cell = (
            Text("—", style="dim")
            if advice is None
            else Text(advice.label, style="green" if advice.label == "ok" else "yellow")
        )
        state = Text("ok", style="green") if row.reachable else Text("down", style="bold red")
        flags = self.flags.get(row.slug)
        slug = literal(row.slug or "(no slug)", 16)
        if flags is not None and flags.blocked:
            state = Text("block", style="bold red")  # it answers, but must not look healthy
        if flags is not None and flags.protected:
            slug.append(" ◆", style="bold yellow")
        return [
            slug,
            state,
            self._latency_cell(row.slug, latency),
            _schema(row.health.schema),
            _number(row.count("draft")),
            _number(row.count("published")),
            _number(row.count("archived")),
            _number(row.comments),
            when(row.newest_activity),
            index_cell,
            *self._usage_cells(key),
            literal(row.error, 200) if row.error else Text(""),
        ]

    def _usage_cells(self, key: str) -> list[Text]:
        """Rows read, rows written, storage: blank until read, `—` where they cannot be."""
        usage = self.usage.get(key)
        if usage is None:
            return [Text("")] * 3
        return [
            _count(usage.rows_read),
            _count(usage.rows_written),
            _count(usage.storage_bytes, size=True),
        ]

    def _latency_cell(self, slug: str, latency: float | None) -> Text:
        # A tenant read from its replica answered locally: its time says nothing of the
        # primary, so the cell says `repl` instead (the line under the table gives its age).
        if self.workspace.replica_of(slug) is not None:
            return Text("repl", style="cyan", justify="right")
        if latency is None:
            return Text("—", style="dim", justify="right")
        return Text(f"{latency:.0f}", justify="right")

    @on(SortableList.RowHighlighted, "#fleet-table")
    def show_detail(self) -> None:
        """The line under the table: the current tenant's host and its whole error, if any."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        tenant = self.current_tenant()
        if tenant is not None:
            line.append(" ")
            line.append_text(literal(tenant.slug or "(no slug)", 30))
            line.append("  ")
            line.append_text(literal(tenant.host, 60))
            flags = self.flags.get(tenant.slug)
            if flags is not None and flags.labels():
                line.append("  " + ", ".join(flags.labels()), style="bold yellow")
            freshness = self.workspace.freshness_label(tenant)
            if freshness is not None and freshness[0] != "primary":
                line.append(f"  {freshness[0]}", style="yellow" if freshness[1] else "cyan")
            row = self.rows.get(self.current_key() or "")
            key = self.current_key() or ""
            if row is not None and not row.error:
                self._append_hidden(line, key, row)  # a row with an error shows the error instead
            if row is None and self.cancelled:
                line.append("  ")
                line.append_text(STOPPED)
            elif row is not None and row.error:
                line.append("  ! ", style="bold red")
                line.append_text(literal(row.error, 500))
            elif row is not None and row.indexes and row.indexes.missing:
                line.append(
                    "  missing: " + ", ".join(i.label for i in row.indexes.missing), style="yellow"
                )
        self.query_one("#fleet-detail", TextLine).update(line)

    def _append_hidden(self, line: Text, key: str, row: FleetRow) -> None:
        """The columns too wide for the terminal, for the current row (`ms 12 · publ. 3`)."""
        shown = set(self._shown)
        cells = zip(COLUMNS, self._all_cells(key, row), strict=True)
        for (column, header, _width, _sort), cell in cells:
            if column in shown or column == "error" or not cell.plain:
                continue  # (a blank cell: usage not read yet)
            line.append(f"  {header} ", style="dim")
            cell = cell.copy()
            cell.justify = None
            line.append_text(cell)

    def action_cancel(self) -> None:
        """Stop asking the tenants (or stop the search); rows that arrived stay."""
        if self.asking:
            self.token += 1
            self.workers.cancel_group(self, "fleet")
            self.asking = False
            self.cancelled = True
            self._show_stopped()
            self.show_progress()
        self.search_panel.cancel()

    # --- sorting --------------------------------------------------------------------

    def action_sort(self) -> None:
        """Sort by the next column."""
        count = len(self.shown_columns())
        self.sort_column = 0 if self.sort_column is None else (self.sort_column + 1) % count
        self._resort()

    def action_reverse(self) -> None:
        """Reverse the sort order."""
        if self.sort_column is None:
            self.sort_column = 0
        self.sort_reverse = not self.sort_reverse
        self._resort()

    @on(SortableList.HeaderSelected, "#fleet-table")
    def _on_header(self, event: SortableList.HeaderSelected) -> None:
        index = event.column_index
        if index == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = index, False
        self._resort()

    def sorted_keys(self) -> list[str]:
        """Row keys in display order: answered rows by the sort column, pending ones last."""
        keys = [str(i) for i in range(len(self.tenants))]
        if self.sort_column is None:
            return keys
        sort_key = self.shown_columns()[self.sort_column][3]
        answered = sorted(
            (k for k in keys if k in self.rows),
            key=lambda k: sort_key(self.rows[k], self.usage.get(k)),
            reverse=self.sort_reverse,
        )
        return answered + [k for k in keys if k not in self.rows]

    def _resort(self) -> None:
        """The rows again, in the sort's order; the cursor stays on its tenant."""
        table = self.table
        current = self.current_key()
        self._setup_table()
        self._list(self.sorted_keys())
        if current is not None and table.has_row(current):
            table.move_cursor(row=table.get_row_index(current))

    # --- the current row ------------------------------------------------------------

    def current_key(self) -> str | None:
        """Row key under the cursor."""
        return self.table.cursor_key

    def current_tenant(self) -> Tenant | None:
        """The tenant under the cursor."""
        key = self.current_key()
        return None if key is None else self.tenants[int(key)]

    def action_cursor(self, step: int) -> None:
        """Move the cursor (j/k)."""
        table = self.table
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def action_open(self) -> None:
        """Open the posts of the tenant under the cursor (or the post of the search hit)."""
        if self.search_panel.is_open and self.search_panel.results_focused:
            self.search_panel.open_current()
            return
        tenant = self.current_tenant()
        if tenant is None:
            return
        if tenant.broken:
            self.notify(
                f"{tenant.slug or 'this row'}: {tenant.problem}", severity="warning", markup=False
            )
            return
        navigation.posts(self.app, tenant)

    @on(SortableList.RowSelected, "#fleet-table")
    def _on_select(self, event: SortableList.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_queue(self) -> None:
        """The moderation queue across tenants."""
        navigation.queue(self.app)

    def action_back(self) -> None:
        """Close the search if open, else go back."""
        if self.search_panel.is_open:
            self.search_panel.close()
            self.query_one("#fleet-table").focus()
            return
        tursotui_app(self).action_back()

    # --- search across tenants ------------------------------------------------------

    def action_author(self) -> None:
        """Open the author screen with an email to type (the keys typed next go into it)."""
        navigation.author(self.app, "")

    def action_search(self) -> None:
        """Open the search of posts and comments across tenants."""
        self.search_panel.open()

    # --- index advice ---------------------------------------------------------------

    def action_indexes(self, every: bool) -> None:
        """Create missing indexes on the current tenant, or on every tenant lacking some."""
        if self.workspace.settings.read_only:
            self.notify("read-only session: creating indexes is disabled", severity="warning")
            return
        if every:
            targets = [r for r in self.rows.values() if r.indexes and r.indexes.missing]
        else:
            key = self.current_key()
            row = self.rows.get(key) if key is not None else None
            targets = [row] if row and row.indexes and row.indexes.missing else []
        if not targets:
            self.say(
                "No missing indexes here (wait for the row to load, or see the indexes column).",
                style="yellow",
            )
            return
        self.create_indexes(targets)

    @work(group="indexes", exit_on_error=False, description="creating indexes")
    async def create_indexes(self, targets: list[FleetRow]) -> None:
        """Plan (migrations first), confirm, apply (audited), then ask the tenants again."""
        from tursotui.fleet.migrate import apply_index_plan
        from tursotui.tenant.migrations import MigrationError, load_folder

        workspace = self.workspace
        try:
            folder = load_folder(workspace.settings.migrations_dir)
        except MigrationError as error:
            self.notify(str(error), title="Indexes", severity="error", markup=False)
            return
        plans: list[tuple[FleetRow, indexes.IndexPlan]] = []
        failed: list[str] = []
        for row in targets:
            try:
                conn = await workspace.connection(row.tenant)
                plan = await indexes.plan(conn, _missing(row), folder)
            except (LibsqlError, RegistryError) as error:
                failed.append(f"{row.slug}: {describe(error)}")
                continue
            plans.append((row, plan))
        if plans and not await self.app.push_screen_wait(
            ConfirmScreen(self._indexes_question(plans), yes="Create", title="Indexes")
        ):
            return
        done = 0
        for row, plan in plans:
            try:
                await apply_index_plan(workspace, row.tenant, plan, folder)
                done += 1
            except (indexes.IndexAdviceError, AuditError) as error:
                failed.append(f"{row.slug}: {describe(error)}")
        if done:
            self.say(f"Created the missing indexes on {plural(done, 'tenant')}.")
        for message in failed:
            self.notify(message, title="Indexes not created", severity="error", markup=False)
        self.action_refresh()

    @staticmethod
    def _indexes_question(plans: list[tuple[FleetRow, indexes.IndexPlan]]) -> Text:
        """What `i`/`I` will do on each tenant: migrate (when that builds the indexes), create."""
        question = Text("Create missing indexes on ")
        if len(plans) == 1:
            question.append_text(literal(plans[0][0].slug, 40))
        else:
            question.append(plural(len(plans), "tenant"))
        question.append("?\n\n")
        for row, plan in plans[:8]:
            question.append_text(literal(row.slug, 20))
            steps = []
            if plan.migrations:
                tags = ", ".join(m.tag for m in plan.migrations)
                covered = ", ".join(i.label for i in plan.covered)
                steps.append(f"migrate ({tags}), which creates {covered}")
            if plan.create:
                steps.append("create " + ", ".join(i.label for i in plan.create))
            question.append(": " + "; then ".join(steps) + "\n")
        if len(plans) > 8:
            question.append(f"… and {len(plans) - 8} more\n")
        if any(plan.migrations for _row, plan in plans):
            question.append(
                "\nIndexes a pending migration creates come from that migration, so the "
                "migration and the index advice never conflict."
            )
        question.append(
            "\nBuilding an index on a large table takes a while and holds a write lock."
        )
        return question

    # --- migrations -----------------------------------------------------------------

    def action_migrate(self) -> None:
        """Migrate the fleet: dry run, confirm, run with a progress bar, summary."""
        if self.workspace.settings.read_only:
            self.notify("read-only session: migrating is disabled", severity="warning")
            return
        self.migrate_fleet()

    @work(exclusive=True, group="migrate", exit_on_error=False, description="fleet migration")
    async def migrate_fleet(self) -> None:
        """Dry run, confirm with what is pending, then migrate with a progress bar."""
        from tursotui.ui.screens.fleet_migration import run_fleet_migration

        await run_fleet_migration(self)
        self.action_refresh()
