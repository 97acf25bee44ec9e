"""The tenants screen: the registry as a table, each tenant's health filled in as it answers.

It is interactive at once: rows appear as soon as the registry is read, and
reachability, latency, post counts and schema version arrive afterwards, probed
concurrently (`settings.fleet_concurrency` at a time). Answers for an older
load of the registry are dropped.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import Input, Static

from tursotui import heap
from tursotui.display.literal import literal
from tursotui.fanout import LoopShare
from tursotui.session.registry import RegistryError, Tenant
from tursotui.tenant import STATUSES
from tursotui.ui import navigation
from tursotui.ui.commands import Command
from tursotui.ui.first_frame import keep_frame
from tursotui.ui.focus_paint import FocusWithoutRepaint
from tursotui.ui.screens.tenants_lifecycle import LifecycleCommands
from tursotui.ui.tenant_cells import (
    Row,
    count_cell,
    empty_registry_hint,
    health_cell,
    registry_origin_short,
    registry_where,
    schema_cell,
    where,
)
from tursotui.ui.typeahead import hold_keys_for
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.filter_box import FilterBox
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.text_line import TextLine
from tursotui.ui.write_keys import WriteKeys

if TYPE_CHECKING:  # provisioning and the probes load only when used
    from tursotui.provision.protect import Flags
    from tursotui.session.workspace import Workspace
    from tursotui.tenant.health import TenantHealth

WIDE = 110
"""From this width on, the table also shows the tenant's name."""

PAINT_EVERY_S = 0.5
"""How often health answers are painted into the table while they stream in."""

KEY_LOOK_S = 0.01
"""How long the probes wait after the list is shown for a key typed meanwhile to arrive,
and how often they look again while keys are on their way."""
KEYS_FIRST_S = 1.0
"""How long keys typed without pause may hold the probes back, at most."""


def probe_all(
    workspace: Workspace, tenants: Iterable[Tenant], concurrency: int | None = None
) -> AsyncIterator[TenantHealth]:
    """`tenant.health.probe_all`, its module loaded on first use: the frame listing the
    tenants does without the probes (nor the pool and the JSON they read with)."""
    from tursotui.tenant.health import probe_all as probe

    return probe(workspace, tenants, concurrency)


class TenantsScreen(WriteKeys, LifecycleCommands, FocusWithoutRepaint):
    """The registry's tenants with their health: pick one to work on."""

    # Styles of the first screen, parsed with its widgets' (see `TursotuiApp.get_default_screen`).
    # As default CSS they yield to any rule of a .tcss file, whatever its selector: the other
    # screens' files name only their own widgets' ids.
    DEFAULT_CSS = """
    TenantsScreen {
        layout: vertical;
    }

    TenantsScreen #filter {
        height: 3;
        margin: 0 0;
        border: tall $accent;
    }

    TenantsScreen #tenants {
        height: 1fr;
    }

    TenantsScreen #empty-hint {
        height: auto;
        padding: 1 2;
    }

    TenantsScreen #detail {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        background: $boost;
    }
    """
    HELP_TITLE = "tenants"
    PALETTE_NOUN = "tenants"
    AUTO_FOCUS = "#tenants"

    WRITE_ACTIONS = frozenset({"new", "destroy", "rotate_token", "protect"})
    """Hidden and refused in a read-only session."""

    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="Moderate this tenant's posts", id="open"),
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Type to filter; enter opens the match",
            key_display="/",
            id="filter",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            tooltip="Reload the registry and ask every tenant again",
            id="refresh",
        ),
        Binding("n", "new", "New", tooltip="Create, migrate and register a tenant", id="new"),
        Binding("f", "fleet", "Fleet", tooltip="All tenants side by side", id="fleet"),
        Binding(
            "s", "console", "SQL", tooltip="SQL console on this tenant", show=False, id="console"
        ),
        Binding(
            "D",
            "destroy",
            "Destroy",
            tooltip="Drop this tenant's database (type its slug)",
            show=False,
            id="destroy",
        ),
        Binding(
            "A", "audit", "Audit log", tooltip="Every write tursotui made", show=False, id="audit"
        ),
        Binding(
            "R",
            "rotate_token",
            "Rotate token",
            tooltip="Issue a new token for this tenant and store it",
            show=False,
            id="rotate",
        ),
        Binding("escape", "escape", "Clear filter", show=False),
        Binding("t", "filter", "Tenant", tooltip="Type to pick a tenant", show=False),
        Binding("down", "filter_move(1)", show=False),
        Binding("up", "filter_move(-1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.generation = 0
        """Bumped on every registry load; answers from an older load are dropped."""
        self.filter_text = ""
        self.registry_error: str | None = None
        self._wide: bool | None = None
        self._filled_for: str | None = None
        """The filter text the table was last filled for."""
        self._listed: list[Row] | None = None
        """The rows the table holds (`rows` when it holds them all, shown or filtered out)."""
        self._haystacks: tuple[list[Row], list[str], list[str]] | None = None
        """`rows`, their keys and their filter texts (`Row.haystack`), in order, side by side."""
        self._unpainted: list[Row] = []
        self.registry_read = False
        """The registry has been read once (until then an empty table means "not yet")."""
        self._by_key: dict[str, Row] = {}
        self._limited: dict[str, float] = {}
        """Rows waiting out a rate limit (HTTP 429) before their answer, and until when."""
        self.answered = 0
        """Rows whose health has arrived (kept as they come: counting 10,000 rows per paint
        of the detail line would cost more than the paint)."""
        self._probed: dict[str, int] = {}
        """Each tenant's write count (audit generation) when its health was last asked for."""
        self.flags: dict[str, Flags] = {}
        """Delete protection and blocks by slug (see `provision.protect`), once asked."""

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TenantHeader("tenants")
        # The filter box comes once the rows are shown (see `filter_box`).
        yield RowList(id="tenants")
        # The hint of an empty registry comes when the registry is read empty (see
        # `_show_detail`): a fleet's first frame does without one more widget to style.
        yield TextLine(Text("opening the registry…", style="dim"), id="detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        # Which registry is open, and why this one, is the first thing a new user needs.
        settings = tursotui_app(self).settings
        where, origin = registry_where(settings, 32), registry_origin_short(settings)
        self.query_one(TenantHeader).title = f"tenants │ {where} ({origin})"
        self._build_columns()
        self.set_interval(PAINT_EVERY_S, self.paint_health)
        self.load()

    @property
    def table(self) -> RowList:
        """The tenants table."""
        return self.query_one("#tenants", RowList)

    def _build_columns(self) -> None:
        wide = self.app.size.width >= WIDE
        if wide == self._wide:
            return
        self._wide = wide
        columns = [
            ("slug", 16 if wide else 14),
            ("where", 32 if wide else 16),
            ("health", 9),
            ("draft", 7 if wide else 5),
            ("pub", 7 if wide else 5),
            ("arch", 7 if wide else 5),
            ("schema", 12 if wide else 10),
        ]
        if wide:
            columns.insert(0, ("name", 22))
        self.table.set_columns(columns)
        self._listed = None  # the cells of the other width: every row listed anew
        self._fill()

    def on_resize(self, event: Resize) -> None:
        self._build_columns()

    def _cells(self, row: Row) -> list[Text]:
        health = row.health
        waiting = health is None and row.key in self._limited
        flags = self.flags.get(row.tenant.slug)
        slug = literal(row.tenant.slug or "(no slug)", 20)
        if flags is not None and flags.protected:
            slug.append(" ◆", style="bold yellow")  # delete-protected: destroy is refused
        blocked = flags.blocked if flags is not None else None
        cells = [
            slug,
            where(row.tenant, 32 if self._wide else 16),
            # A blocked tenant (an unpaid bill) answers, but must not look healthy.
            Text("blocked", style="bold red")
            if blocked
            else (Text("waiting", style="yellow") if waiting else health_cell(health)),
            # Six-digit counts would be cut (`250,…`) in 80 columns: `250k` there.
            *(count_cell(health, status, 7 if self._wide else 5) for status in STATUSES),
            Text("rate limited", style="yellow")
            if waiting
            else schema_cell(health, narrow=not self._wide),
        ]
        if self._wide:
            cells.insert(0, literal(row.tenant.name, 22))
        return cells

    def visible_rows(self) -> list[Row]:
        """The rows the filter lets through, in registry order."""
        keys = set(self._visible_keys())
        return [row for row in self.rows if row.key in keys]

    def _visible_keys(self) -> list[str]:
        """The keys of the rows the filter lets through, in registry order."""
        _, keys, haystacks = self._filter_texts()
        needle = self.filter_text.lower()
        if not needle:
            return list(keys)
        if "\x00" in needle:
            return []
        # Side by side: a third of the time of asking each row for its text (10,000 rows).
        return [key for key, haystack in zip(keys, haystacks, strict=True) if needle in haystack]

    def _filter_texts(
        self, made: list[str] | None = None
    ) -> tuple[list[Row], list[str], list[str]]:
        """`rows` with their keys and filter texts, made once per reading of the registry
        (`made`: the texts, made by `_warm_filter`)."""
        if self._haystacks is None or self._haystacks[0] is not self.rows:
            rows = self.rows
            texts = made if made is not None else [row.haystack for row in rows]
            self._haystacks = (rows, [row.key for row in rows], texts)
        return self._haystacks

    def _fill(self, *, keep_cursor: bool = True) -> None:
        """Redraw the table from `rows` and the filter, keeping the cursor on the same tenant.

        Rows are keyed by slug, so after a reload of the registry the cursor is on the
        tenant it was on, wherever that tenant now is; a tenant that is gone leaves it on
        the row that took its place. `keep_cursor=False`: the cursor on the first row.
        """
        table = self.table
        key, index = table.cursor_key, table.cursor_row
        if self._listed is not self.rows:
            # The table holds every row, the filter only shows some of them: a filter key
            # and back (escape) make no row again, however many tenants there are.
            table.clear()
            # Cells are made when a row is first shown (a row makes its own, see `Row`):
            # 10,000 tenants cost a screenful.
            table.add_rows(zip([row.key for row in self.rows], self.rows, strict=True))
            self._listed = self.rows
        if self.filter_text:
            table.show_only(self._visible_keys())
        else:
            table.show_all()
        self._filled_for = self.filter_text
        if keep_cursor and key is not None:
            table.move_cursor(row=table.get_row_index(key) if table.has_row(key) else index)
        self._show_detail()

    def highlighted(self) -> Row | None:
        """The row under the cursor, if any."""
        key = self.table.cursor_key
        return None if key is None else self._by_key.get(key)

    # --- the detail line ------------------------------------------------------------------

    def _show_detail(self) -> None:
        detail = self.query_one("#detail", TextLine)
        hint = self.query_one_optional("#empty-hint", Static)
        empty = self.registry_read and not self.rows and not self.registry_error
        if empty and (hint is None or not hint.display):
            if hint is None:
                hint = Static(id="empty-hint")
                self.mount(hint, before=detail)
            hint.update(empty_registry_hint(tursotui_app(self).settings))
        if hint is not None:
            hint.display = empty
        if self.registry_error:
            detail.update(literal(self.registry_error, style="bold red"))
            return
        row = self.highlighted()
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        shown, total = self.table.row_count, len(self.rows)
        answered = self.answered
        noun = "tenant" if total == 1 else "tenants"
        line.append(f"{shown}/{total} {noun}" if shown != total else f"{total} {noun}")
        if answered < total:
            line.append(f" · asking {total - answered}…", style="dim")
        if row is not None:
            line.append(" │ ")
            tenant = row.tenant
            line.append_text(literal(tenant.name, 40, style="bold"))
            line.append(" ")
            line.append_text(literal(self._location(tenant), 60))
            counts = row.health.counts if row.health else None
            if counts and not self._wide and any(v >= 10_000 for v in counts.values()):
                # The narrow table shows `250k`; the exact figures are here.
                exact = " · ".join(f"{s} {counts.get(s, 0):,}" for s in STATUSES)
                line.append(f" · {exact}", style="dim")
            if tenant.is_remote and not tenant.broken:
                # Where its token comes from (stored, command, group, minted), never the token.
                source = tursotui_app(self).workspace.tokens.choose(tenant).label
                line.append(f" · token {source}", style="dim")
            until = self._limited.get(row.key) if row.health is None else None
            if until is not None:
                left = max(0.0, until - time.monotonic())
                line.append(
                    f" — waiting (rate limited), asking again in {left:.0f} s", style="yellow"
                )
            flags = self.flags.get(tenant.slug)
            if flags is not None and flags.labels():
                line.append(" · ")
                line.append(", ".join(flags.labels()), style="bold yellow")
            problem = tenant.problem or (row.health.error if row.health else None)
            if problem:
                line.append(" — ")
                line.append_text(literal(problem, 120, style="red"))
        if tursotui_app(self).workspace_open:  # how the registry was understood, last: least urgent
            line.append_text(
                literal(f" │ {tursotui_app(self).workspace.registry.summary()}", style="dim")
            )
        detail.update(line)

    def _location(self, tenant: Tenant) -> str:
        """Where a tenant lives, in full; local files under the data dir relative to it."""
        if tenant.broken:
            return tenant.url or tenant.host  # a row with only a database name: the name
        if tenant.is_remote:
            return tenant.host
        path = Path(tenant.host)
        data_dir = Path(tursotui_app(self).settings.data_dir)
        if path.is_relative_to(data_dir):
            return f"<data dir>/{path.relative_to(data_dir)}"
        return str(path)

    @on(RowList.RowHighlighted, "#tenants")
    def _highlighted(self) -> None:
        self._show_detail()

    # --- loading --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Reload the registry and ask every tenant again."""
        self.load()

    @work(exclusive=True, group="registry", exit_on_error=False, description="loading the registry")
    async def load(self) -> None:
        """Read the registry, show its rows, then probe every tenant concurrently."""
        self.generation += 1
        generation = self.generation
        try:
            workspace = await tursotui_app(self).wait_workspace()
            tenants = await workspace.registry.tenants()
        except RegistryError as error:
            self.registry_error = str(error)
            self.rows = []
            self._by_key = {}
            self.answered = 0
            self._fill()
            self.notify(str(error), title="Registry", severity="error", markup=False)
            return
        if generation != self.generation:
            return
        self.registry_error = None
        self.registry_read = True
        self._unpainted = []
        with heap.paused():  # 20,000 objects that live as long as the list: nothing to collect
            self.rows = _keyed_rows(tenants, self._cells)
            self._by_key = {row.key: row for row in self.rows}
            self.answered = 0
            self._fill()
        self._probed = {}
        # The rows first: the probes and the flags import and start what the frame listing
        # the tenants does not need (the migrations folder, provisioning), so they begin
        # once that frame is out, and after the keys typed meanwhile (see `_ask_tenants`).
        self.call_after_refresh(self._ask_tenants, generation)
        self.call_after_refresh(self._mount_filter_box)  # not needed by that frame either
        if tursotui_app(self).first_frame is not None:
            self.call_after_refresh(self._keep_first_frame)

    def _mount_filter_box(self) -> None:
        """The filter box, hidden, unless the screen is gone meanwhile (`q` as it appeared)."""
        if self.is_attached:
            self.filter_box()

    def _keep_first_frame(self) -> None:
        """Keep the frame that listed the rows for the next start to paint at once (see
        session.first_frame), unless a key came first: it may have changed the screen."""
        app = tursotui_app(self)
        made_of, app.first_frame = app.first_frame, None
        if made_of is None or not self.is_attached or app.key_gate.any_arrived:
            return
        if app.screen is self:
            keep_frame(app, made_of)

    def _ask_tenants(self, generation: int) -> None:
        """Start probing every tenant and asking the flags, unless the registry was read again.

        Keys first: a key typed as the list appeared (`/` to filter) is answered before
        the probes start, because once thousands of them are under way every turn of the
        event loop, and so every step of a key, shares the machine with them.
        """
        self._ask_after_keys(generation, time.monotonic(), waited=False)

    def _ask_after_keys(self, generation: int, since: float, *, waited: bool = True) -> None:
        """`_ask_tenants` once no key is on its way: the probes wait a moment for a key typed
        meanwhile to arrive, then while keys are on their way, at most KEYS_FIRST_S."""
        if generation != self.generation:
            return
        gate = getattr(self.app, "key_gate", None)
        busy = gate is not None and gate.busy
        if (not waited or busy) and time.monotonic() - since < KEYS_FIRST_S:
            self.set_timer(KEY_LOOK_S, partial(self._ask_after_keys, generation, since))
            return
        self.probe(generation, self.rows)
        self.ask_flags(generation)
        self._warm_filter(generation)

    @work(exclusive=True, group="filter-warm", exit_on_error=False, description="preparing")
    async def _warm_filter(self, generation: int) -> None:
        """Make every row's filter text now, in slices, so the first filter key on 10,000
        tenants is a frame, not the tens of milliseconds of reading their hosts."""
        share = LoopShare()
        texts = []
        for row in self.rows:
            if generation != self.generation:
                return
            if share.due():
                await share.turn()
            texts.append(row.haystack)
        self._filter_texts(texts)

    @work(exclusive=True, group="flags", exit_on_error=False, description="asking protection")
    async def ask_flags(self, generation: int) -> None:
        """Delete protection and blocks of every tenant (one Platform API listing)."""
        # Provisioning is imported in a thread: its tens of milliseconds then share the
        # loop with the keys typed as the list appears instead of holding it.
        await asyncio.to_thread(importlib.import_module, "tursotui.provision.protect")
        from tursotui.platform import PlatformError
        from tursotui.provision.protect import tenant_flags  # provisioning loads only when used

        workspace = tursotui_app(self).workspace
        try:
            flags = await tenant_flags(workspace, [row.tenant for row in self.rows])
        except PlatformError as error:
            self.notify(str(error), title="Delete protection", severity="warning", markup=False)
            return
        if generation != self.generation:
            return
        before, self.flags = self.flags, flags
        # Only rows whose cells the flags change (a ◆, `blocked`), and their cells made when
        # shown: every local tenant tursotui made has flags, and making 10,000 rows' cells
        # at once held the screen for seconds. Only flags that show are compared: the
        # rows themselves are looked at only when some changed.
        # In slices: 10,000 tenants' flags are tens of milliseconds, which a key typed
        # meanwhile must not wait for (they arrive while the health answers stream in).
        share = LoopShare()
        showing: set[str] = set()
        for flagged in (before, flags):
            for slug, each in flagged.items():
                if share.due():
                    await share.turn()
                if _shown(each) != (False, False):
                    showing.add(slug)
        if generation != self.generation or self.flags is not flags:
            return  # read again meanwhile: that reading paints its own
        slugs = {s for s in showing if _shown(before.get(s)) != _shown(flags.get(s))}
        changed = []
        for row in self.rows if slugs else ():
            if share.due():
                await share.turn()
            if row.tenant.slug in slugs and self.table.holds_row(row.key):
                changed.append((row.key, row))
        if generation != self.generation:
            return
        if changed:
            self.table.update_rows(changed)
        self._show_detail()

    @work(exclusive=True, group="health", exit_on_error=False, description="asking the tenants")
    async def probe(self, generation: int, rows: list[Row]) -> None:
        """Fill in each tenant's health as it answers (answers of an older load are dropped)."""
        await self._ask(generation, rows)

    @work(group="health", exit_on_error=False, description="asking the changed tenants")
    async def probe_again(self, generation: int, rows: list[Row]) -> None:
        """Ask these tenants again (written to since they answered); the others keep theirs."""
        await self._ask(generation, rows)

    async def _ask(self, generation: int, rows: list[Row]) -> None:
        workspace = tursotui_app(self).workspace
        audit = workspace.audit
        asked: dict[str, int] = {}
        by_tenant: dict[int, Row] = {}
        share = LoopShare()
        for each in rows:  # thousands: in slices, keys typed meanwhile first
            if share.due():
                await share.turn()
            asked[each.tenant.slug] = audit.generation(each.tenant.slug)
            by_tenant[id(each.tenant)] = each
        if generation != self.generation:
            return
        self._probed.update(asked)
        # In a thread, like provisioning for the flags: keys typed as the list appears are
        # not held up by loading the probes (see `probe_all`).
        await asyncio.to_thread(importlib.import_module, "tursotui.tenant.health")
        async for health in probe_all(
            workspace, [row.tenant for row in rows], workspace.settings.fleet_concurrency
        ):
            if generation != self.generation:
                return  # the registry was reloaded meanwhile: these rows are gone
            row = by_tenant.get(id(health.tenant))
            slug = health.tenant.slug
            # An answer older than a later question (asked after a write) is not shown.
            if row is not None and self._probed.get(slug) == asked.get(slug):
                if row.health is None:
                    self.answered += 1
                row.health = health
                self._unpainted.append(row)
        self.paint_health()

    def paint_health(self) -> None:
        """Show the answers that arrived since the last paint.

        Answers are painted a few times a second rather than one by one: with thousands
        of tenants answering, a repaint per answer would starve the event loop the probes
        run on. A row's new cells are made only when it is shown (see `RowList`), so an
        answer for a row far from the view costs nothing until it is scrolled to.
        """
        changed = self._rate_limits()
        if not self._unpainted and not changed:
            return
        table = self.table
        table.update_rows(
            (row.key, row)
            for row in self._unpainted + changed
            if table.holds_row(row.key)  # (filtered out, too: shown when the filter goes)
        )
        self._unpainted = []
        self._show_detail()

    def _rate_limits(self) -> list[Row]:
        """Rows that started or stopped waiting out a rate limit since the last paint."""
        # Only a remote connection can be rate limited, and it has loaded the transport:
        # without it loaded, nothing waits (and the screen does not load it for nothing).
        http = sys.modules.get("tursotui.db.http")
        limited: dict[str, float] = dict(getattr(http, "rate_limited", {}))
        now = {
            key: until
            for key, until in limited.items()
            if key in self._by_key and self._by_key[key].health is None
        }
        changed = [self._by_key[k] for k in now.keys() ^ self._limited.keys() if k in self._by_key]
        self._limited = now
        return changed

    def health_of(self, slug: str) -> TenantHealth | None:
        """What the last probe of `slug` answered (None while waiting)."""
        for row in self.rows:
            if row.tenant.slug == slug:
                return row.health
        return None

    # --- filtering ------------------------------------------------------------------------

    def filter_box(self) -> Input:
        """The filter box (hidden until `/`), mounted on first use or once the rows are shown.

        It starts hidden, and the first frame does without it: its styles are the largest
        of that screen's widgets' (a parse of a few ms), and the start of a session is the
        wait of every start.
        """
        box = self.query_one_optional("#filter", Input)
        if box is None:
            box = FilterBox(
                placeholder="filter: slug, name or host — enter opens, escape clears", id="filter"
            )
            box.display = False
            self.mount(box, after=self.query_one(TenantHeader))
        return box

    def action_filter(self) -> None:
        """Show the filter box and focus it."""
        box = self.filter_box()
        box.display = True
        box.focus()
        hold_keys_for(self.app, box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        # Cleared by escape (`clear_filter`), which filled the table already: filling
        # 10,000 rows again would cost the key a second frame.
        if text != self.filter_text or self._filled_for != text:
            self.filter_text = text
            self._fill(keep_cursor=False)  # the cursor on the first row, its detail shown
        elif self.table.row_count:
            self.table.move_cursor(row=0)
            self._show_detail()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()
        self.action_open()

    def clear_filter(self) -> None:
        """Clear and hide the filter; every tenant shows again."""
        box = self.filter_box()
        typed = bool(box.value)
        box.value = ""
        box.display = False
        if self.filter_text or self._filled_for:
            self.filter_text = ""
            # Clearing the box's text puts the cursor on the first row (`_filter_changed`):
            # there at once, not first on the tenant it was on, wherever that is.
            self._fill(keep_cursor=not typed)
        self.table.focus()

    def action_escape(self) -> None:
        """Clear the filter if there is one; otherwise the app's back."""
        if self.filter_box().display:
            self.clear_filter()
        else:
            tursotui_app(self).action_back()

    def action_filter_move(self, step: int) -> None:
        """Arrows typed in the filter box move the table's cursor."""
        if step > 0:
            self.table.action_cursor_down()
        else:
            self.table.action_cursor_up()

    # --- opening other screens --------------------------------------------------------------

    def _chosen(self, action: str) -> Tenant | None:
        row = self.highlighted()
        if row is None:
            self.notify("No tenant is highlighted.", severity="warning")
            return None
        if row.tenant.broken:
            self.notify(
                f"{row.tenant.slug or '(no slug)'}: {row.tenant.problem}",
                title=f"Cannot {action} a broken registry row",
                severity="error",
                markup=False,
            )
            return None
        return row.tenant

    @on(RowList.RowSelected, "#tenants")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the highlighted tenant's posts."""
        if not tursotui_app(self).workspace_open:
            self.notify("The registry is still opening.", severity="warning")
            return
        tenant = self._chosen("open")
        if tenant is not None:
            navigation.posts(self.app, tenant)

    def action_console(self) -> None:
        """Open a SQL console on the highlighted tenant."""
        tenant = self._chosen("open a console on")
        if tenant is not None:
            navigation.console(self.app, tenant)

    def action_destroy(self) -> None:
        """Drop the highlighted tenant (its screen asks to type the slug)."""
        row = self.highlighted()
        if row is None:
            return
        if tursotui_app(self).settings.read_only:
            self.notify("Read-only session: tenants cannot be destroyed.", severity="warning")
            return
        from tursotui.provision import destroy_refusal  # provisioning loads only when used

        if self._refused(
            destroy_refusal(tursotui_app(self).settings, row.tenant), "Destroy tenant"
        ):
            return
        self._destroy_unless_protected(row.tenant)

    @work(exclusive=True, group="destroy-check", exit_on_error=False, description="checking")
    async def _destroy_unless_protected(self, tenant: Tenant) -> None:
        """Open the destroy confirmation only for a tenant that is not delete-protected."""
        from tursotui.provision.protect import protection_refusal

        workspace = tursotui_app(self).workspace
        if self._refused(await protection_refusal(workspace, tenant), "Destroy tenant"):
            return
        navigation.destroy_tenant(self.app, tenant)

    def action_protect(self, on: bool = True) -> None:
        """Turn the highlighted tenant's delete protection on (or off)."""
        if tursotui_app(self).settings.read_only:
            self.notify("Read-only session: protection cannot be changed.", severity="warning")
            return
        tenant = self._chosen("protect" if on else "unprotect")
        if tenant is not None:
            self._set_protection(tenant.slug, on)

    @work(exclusive=True, group="protect", exit_on_error=False, description="changing protection")
    async def _set_protection(self, slug: str, on: bool) -> None:
        from tursotui.provision import ProvisionError
        from tursotui.provision.protect import set_protection

        try:
            await set_protection(tursotui_app(self).workspace, slug, on)
        except ProvisionError as error:
            self.notify(str(error), title="Delete protection", severity="error", markup=False)
            return
        state = "delete-protected" if on else "no longer delete-protected"
        self.notify(f"Tenant {slug} is {state}.", title="Delete protection", markup=False)
        self.ask_flags(self.generation)

    def _refused(self, refusal: str | None, title: str) -> bool:
        """Say why an action cannot be done here, before any confirmation asks for it."""
        if refusal is None:
            return False
        self.notify(refusal, title=title, severity="warning", markup=False)
        return True

    def action_new(self) -> None:
        """Create a new tenant."""
        if tursotui_app(self).settings.read_only:
            self.notify("Read-only session: tenants cannot be created.", severity="warning")
            return
        navigation.new_tenant(self.app)

    def action_rotate_token(self) -> None:
        """Rotate the highlighted tenant's token (its screen confirms first)."""
        if tursotui_app(self).settings.read_only:
            self.notify("Read-only session: tokens cannot be rotated.", severity="warning")
            return
        tenant = self._chosen("rotate the token of")
        if tenant is None:
            return
        from tursotui.provision import rotate_refusal  # provisioning loads only when used

        if self._refused(rotate_refusal(tursotui_app(self).settings, tenant), "Rotate token"):
            return
        navigation.rotate_token(self.app, tenant)

    def palette_commands(self) -> Iterator[Command]:
        """Commands about the highlighted tenant, named after it; deleted tenants, groups."""
        yield from self.lifecycle_commands()
        row = self.highlighted()
        if row is None or row.tenant.broken:
            return
        slug = row.tenant.slug
        yield f"tenant: open {slug}", self.action_open, "Moderate this tenant's posts"
        yield f"tenant: SQL console on {slug}", self.action_console, "Query this tenant"
        yield f"tenant: rotate token of {slug}", self.action_rotate_token, "A new token"
        yield f"tenant: destroy {slug}", self.action_destroy, "Drop its database"
        yield from self._branch_commands(slug)
        yield f"tenant: usage of {slug}", self.action_usage, "Rows read and written, storage"
        if not tursotui_app(self).settings.read_only:
            protected = slug in self.flags and self.flags[slug].delete_protection
            if protected:
                yield (
                    f"tenant: unprotect {slug}",
                    lambda: self.action_protect(False),
                    ("Allow destroying it again"),
                )
            else:
                yield f"tenant: protect {slug}", self.action_protect, "Refuse destroying it"

    def action_usage(self) -> None:
        """What the highlighted tenant costs: rows read and written, storage, top queries."""
        tenant = self._chosen("read the usage of")
        if tenant is not None:
            self._usage(tenant)

    @work(exclusive=True, group="usage", exit_on_error=False, description="reading usage")
    async def _usage(self, tenant: Tenant) -> None:
        from tursotui.provision.usage import tenant_usage  # provisioning loads only when used

        [usage] = await tenant_usage(tursotui_app(self).workspace, [tenant])
        if usage.error:
            self.notify(usage.error, title="Usage", severity="warning", markup=False)
            return
        navigation.usage(self.app, usage)

    def _branch_commands(self, slug: str) -> Iterator[Command]:
        """`compare with branch` for each branch of `slug` (and from a branch, its tenant)."""
        from tursotui.provision.branch import branches  # provisioning loads only when used

        known = {row.tenant.slug: row.tenant for row in self.rows if not row.tenant.broken}
        for branch, record in sorted(branches(tursotui_app(self).settings).items()):
            of = str(record.get("of"))
            if branch not in known or of not in known or slug not in (branch, of):
                continue

            def compare(tenant: Tenant = known[of], branch: str = branch) -> None:
                navigation.branch_diff(self.app, tenant, branch)

            yield (
                f"tenant: compare {of} with branch {branch}",
                compare,
                "Rows added, removed, changed since; restore chosen ones",
            )

    def action_fleet(self) -> None:
        """All tenants side by side."""
        navigation.fleet(self.app)

    def action_audit(self) -> None:
        """The audit log."""
        navigation.audit(self.app)

    def on_screen_resume(self) -> None:
        self.catch_up()

    def catch_up(self) -> None:
        """Read again what a write made stale since it was read (see `ui.stale`)."""
        if not tursotui_app(self).workspace_open:
            return
        # Back from a screen that may have created or destroyed tenants: read the registry again.
        if getattr(self.app, "registry_changed", False):
            tursotui_app(self).registry_changed = False
            self.load()
            return
        # Back from a screen that wrote to tenants: their counts and schema are asked again.
        if not self._probed:
            return  # none asked yet (the first screen, resumed as it starts): none is stale
        audit = tursotui_app(self).workspace.audit
        stale = [
            row
            for row in self.rows
            if row.tenant.slug in self._probed
            and audit.generation(row.tenant.slug) != self._probed[row.tenant.slug]
        ]
        if stale:
            for row in stale:
                if row.health is not None:
                    self.answered -= 1
                row.health = None
                if self.table.holds_row(row.key):
                    self.table.update_row(row.key, row)
            self.probe_again(self.generation, stale)


def _shown(flags: Flags | None) -> tuple[bool, bool]:
    """What of a tenant's flags its row shows: delete-protected, blocked."""
    return (False, False) if flags is None else (flags.protected, flags.blocked is not None)


def _keyed_rows(tenants: list[Tenant], make: Callable[[Row], Sequence[Text]]) -> list[Row]:
    """Rows keyed by slug (unique in a registry); a blank or repeated slug (a broken row) by
    its position, so it still has a row of its own. Each makes its cells with `make`."""
    slugs = [tenant.slug for tenant in tenants]
    unique = set(slugs)
    if len(unique) == len(slugs) and "" not in unique:  # the usual registry
        return list(map(Row, slugs, tenants, repeat(None), repeat(make)))
    rows, seen = [], set()
    for index, tenant in enumerate(tenants):
        key = tenant.slug if tenant.slug and tenant.slug not in seen else f"\x00{index}"
        seen.add(tenant.slug)
        rows.append(Row(key, tenant, None, make))
    return rows
