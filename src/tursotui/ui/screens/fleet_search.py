"""The fleet screen's `/` panel: posts and comments holding a text, on every tenant.

Tenants answer as they can (`fleet.search.search_content`, bounded fan-out); each
answer's rows are added below the rows already shown, so nothing moves under the
cursor while the search streams in; once every tenant answered, the rows are put in
tenant order (a cursor moved meanwhile stays on its row). Rows are marked with space and acted on
across tenants: p/a/u set the status of the marked posts, x deletes the marked
comments; one guarded batch per tenant, and a summary of done / conflict / failed
per tenant. The matched part of each row is highlighted, literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input

from tursotui.display.literal import literal
from tursotui.display.matches import contains, highlighted
from tursotui.display.posts import PAST, READ_ONLY_HINT, VERBS, status_text, when
from tursotui.fleet.actions import FleetAction, delete_comments_across, set_status_across
from tursotui.fleet.search import search_content
from tursotui.ui import navigation, stale
from tursotui.ui.moderating import status_bindings
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.typeahead import hold_keys_for
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.text_line import TextLine
from tursotui.words import plural

if TYPE_CHECKING:
    from tursotui.session.registry import Tenant
    from tursotui.session.workspace import Workspace
    from tursotui.tenant.moderation import FoundComment, PostRow

MATCH_WIDTH = 200
"""Most cells of a row's match column (the column itself follows the terminal)."""


@dataclass
class Hit:
    """One row of the results: a post or a comment, on its tenant, as it was found."""

    tenant: Tenant
    kind: str
    """`post` or `comment`."""
    id: str
    status: Any
    """The post's status as shown (the guard of a status write); None for a comment."""
    when: Any
    post_id: str
    """The post itself, or the comment's post (what enter opens)."""
    row: PostRow | FoundComment


@dataclass
class TenantLine:
    """One tenant's line in the action summary (the shape the migration summary shows)."""

    slug: str
    ok: bool
    outcome: str
    summary: str


def _newest_first(hits: list[Hit]) -> list[Hit]:
    dated = sorted(
        (h for h in hits if isinstance(h.when, int | float)), key=lambda h: -float(h.when)
    )
    return dated + [h for h in hits if not isinstance(h.when, int | float)]


class FleetSearch(Vertical):
    """The search box, its status line and the results, across every tenant."""

    BINDINGS = [
        Binding("space", "mark", "Mark", tooltip="Mark the row for an action across tenants"),
        *status_bindings(
            "Publish the marked posts (or the current one), on their tenants",
            "Archive the marked posts (or the current one), on their tenants",
            "Move the marked posts (or the current one) back to draft",
        ),
        Binding(
            "x",
            "delete",
            "Delete",
            tooltip="Delete the marked comments (or the current one), on their tenants",
        ),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text: str | None = None
        """The search shown."""
        self.hits: dict[str, Hit] = {}
        self.marked: set[str] = set()
        self.asked = 0
        self.answered = 0
        self.failed: list[str] = []
        self.more: list[str] = []
        """Tenants with more matches than were fetched (their posts screen has them all)."""
        self.searching = False
        self.summary: Text | None = None
        """What the last action did (in the status line)."""

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="posts and comments containing (literal text), on every tenant; "
            "enter searches, escape closes",
            id="fleet-search",
        )
        yield TextLine(id="fleet-search-status")
        yield DataTable(id="fleet-results", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.display = False
        results = self.query_one("#fleet-results", DataTable)
        results.add_column(" ", key="mark", width=1)
        results.add_column("tenant", key="tenant", width=14)
        results.add_column("kind", key="kind", width=7)
        results.add_column("status", key="status", width=9)
        results.add_column("when", key="when", width=16)
        results.add_column("match", key="match", width=self.match_width())

    @property
    def workspace(self) -> Workspace:
        """The app's workspace."""
        return tursotui_app(self).workspace

    def match_width(self) -> int:
        """Room for the match after the other columns."""
        width = self.app.size.width or 80
        return max(16, min(MATCH_WIDTH, width - (1 + 14 + 7 + 9 + 16) - 2 * 6 - 2))

    @property
    def is_open(self) -> bool:
        """The panel is shown."""
        return bool(self.display)

    @property
    def results_focused(self) -> bool:
        """The results list has focus (enter opens a row)."""
        return self.query_one("#fleet-results", DataTable).has_focus

    def open(self) -> None:
        """Show the panel with the focus in the search box (typed-ahead keys go there)."""
        self.display = True
        search = self.query_one("#fleet-search", Input)
        search.focus()
        hold_keys_for(self.app, search)

    def close(self) -> None:
        """Stop searching and hide the panel."""
        self.cancel()
        self.display = False

    def cancel(self) -> None:
        """Stop asking the tenants; what arrived stays."""
        self.workers.cancel_group(self, "fleet-search")
        if self.searching:
            self.searching = False
            self.show_status()

    # --- searching ---------------------------------------------------------------------

    @on(Input.Submitted, "#fleet-search")
    def _on_search(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if not text.strip():
            return
        results = self.query_one("#fleet-results", DataTable)
        results.clear()
        self.hits.clear()
        self.marked.clear()
        self.failed.clear()
        self.more.clear()
        self.summary = None
        self.text = text
        self.answered = 0
        results.focus()
        self.run_search(text)

    @work(exclusive=True, group="fleet-search", exit_on_error=False, description="fleet search")
    async def run_search(self, text: str) -> None:
        """Add each tenant's matches below the rows shown, as the tenant answers."""
        screen_tenants: list[Tenant] = getattr(self.screen, "tenants", [])
        workspace = self.workspace
        tenants = screen_tenants or await workspace.registry.tenants()
        self.asked = len(tenants)
        self.searching = True
        self.show_status()
        try:
            async for answer in search_content(workspace, tenants, text):
                if text != self.text:
                    return
                self.answered += 1
                if answer.error:
                    slug = answer.tenant.slug or "(no slug)"
                    said = answer.error
                    self.failed.append(said if said.startswith(slug) else f"{slug}: {said}")
                if answer.more:
                    self.more.append(answer.tenant.slug)
                self._add(answer.tenant, answer.posts, answer.comments)
                self.show_status()
        finally:
            if text == self.text:
                self.searching = False
                self._by_tenant()
                self.show_status()
        if self.failed:
            # Once, at the end: which tenants were not searched, and why.
            failed = sorted(self.failed, key=str.lower)  # whatever order they answered in
            shown = failed[:5] + ([f"… and {len(self.failed) - 5} more"] * (len(self.failed) > 5))
            self.app.notify(
                "\n".join(shown),
                title="Not searched",
                severity="warning",
                markup=False,
            )

    def _add(self, tenant: Tenant, posts: list[PostRow], comments: list[FoundComment]) -> None:
        found = [
            Hit(tenant, "post", str(p.id), p.status, p.published_at, str(p.id), p) for p in posts
        ]
        found += [
            Hit(tenant, "comment", str(c.id), None, c.created_at, str(c.post_id), c)
            for c in comments
        ]
        results = self.query_one("#fleet-results", DataTable)
        for hit in _newest_first(found):
            key = str(len(self.hits))
            self.hits[key] = hit
            results.add_row(*self._cells(hit, key), key=key)

    def _by_tenant(self) -> None:
        """Once every tenant answered: the rows by tenant (each tenant's newest first), the
        cursor on the row it was on. While answers stream in, rows only add at the end."""
        results = self.query_one("#fleet-results", DataTable)
        shown = [row.key.value for row in results.ordered_rows if row.key.value is not None]
        wanted = sorted(shown, key=lambda k: (self.hits[k].tenant.slug.lower(), int(k)))
        if wanted == shown:
            return
        # A cursor still on the first row was not moved: it stays first (the top of the list).
        current = self.current_key() if results.cursor_row > 0 else None
        rows = {key: results.get_row(key) for key in shown}
        results.clear()
        for key in wanted:
            results.add_row(*rows[key], key=key)
        if current is not None:
            results.move_cursor(row=results.get_row_index(current))

    def _cells(self, hit: Hit, key: str) -> list[Text]:
        mark = Text("●", style="bold cyan") if key in self.marked else Text(" ")
        kind = Text(hit.kind, style="cyan" if hit.kind == "post" else "")
        status = status_text(hit.status) if hit.kind == "post" else Text("")
        return [
            mark,
            literal(hit.tenant.slug, 14),
            kind,
            status,
            when(hit.when),
            self._match(hit),
        ]

    def _match(self, hit: Hit) -> Text:
        width = self.match_width()
        row = hit.row
        if hit.kind == "comment":
            return highlighted(getattr(row, "content", None), self.text, width)
        title, snippet = getattr(row, "title", None), getattr(row, "snippet", None)
        if contains(title, self.text) or snippet is None:
            return highlighted(title, self.text, width)
        cell = literal(title, max(8, width // 3))
        cell.append("  ")
        cell.append_text(
            highlighted(snippet, self.text, max(4, width - cell.cell_len), style="dim")
        )
        return cell

    def show_status(self) -> None:
        """The line above the results: tenants answered, rows found, marks, failures."""
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        if self.text is None:
            line.append(" type a text and enter: posts and comments holding it, every tenant")
            self.query_one("#fleet-search-status", TextLine).update(line)
            return
        posts = sum(1 for h in self.hits.values() if h.kind == "post")
        comments = len(self.hits) - posts
        line.append(
            f" search: {self.answered}/{plural(self.asked, 'tenant')}, "
            f"{plural(posts, 'post')}, {plural(comments, 'comment')}",
            style="bold",
        )
        if self.failed:
            line.append(f", {len(self.failed)} failed", style="red")
        if self.more:
            line.append(
                f" · {plural(len(self.more), 'tenant')} with more (the newest shown; "
                "enter opens one, / there searches all)",
                style="dim",
            )
        if self.marked:
            line.append(f" · {len(self.marked)} marked", style="bold cyan")
        if self.searching:
            line.append(" · asking… (c stops)", style="dim")
        if self.summary is not None:
            line.append(" · ")
            line.append_text(self.summary)
        self.query_one("#fleet-search-status", TextLine).update(line)

    # --- the current row and marks ---------------------------------------------------

    def current_key(self) -> str | None:
        """The results row under the cursor."""
        results = self.query_one("#fleet-results", DataTable)
        if not results.row_count:
            return None
        key = results.coordinate_to_cell_key(results.cursor_coordinate).row_key.value
        return key if key in self.hits else None

    def open_current(self) -> None:
        """Open the post of the row under the cursor (a comment's post, for a comment)."""
        key = self.current_key()
        if key is not None:
            hit = self.hits[key]
            navigation.post(self.app, hit.tenant, hit.post_id)

    @on(DataTable.RowSelected, "#fleet-results")
    def _on_select(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_current()

    def action_cursor(self, step: int) -> None:
        """Move in the results (j/k)."""
        results = self.query_one("#fleet-results", DataTable)
        results.action_cursor_down() if step > 0 else results.action_cursor_up()

    def action_mark(self) -> None:
        """Mark or unmark the current row, then move down."""
        key = self.current_key()
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        results = self.query_one("#fleet-results", DataTable)
        results.update_cell(key, "mark", self._cells(self.hits[key], key)[0])
        results.action_cursor_down()
        self.show_status()

    def targets(self, kind: str) -> list[tuple[str, Hit]]:
        """The marked rows of `kind` in list order, or the current row if nothing is marked."""
        results = self.query_one("#fleet-results", DataTable)
        if self.marked:
            keys = [row.key.value for row in results.ordered_rows if row.key.value in self.marked]
        else:
            current = self.current_key()
            keys = [current] if current is not None else []
        return [(k, self.hits[k]) for k in keys if k is not None and self.hits[k].kind == kind]

    def _refused(self, what: str) -> bool:
        if self.workspace.settings.read_only:
            self.app.notify(READ_ONLY_HINT.format(what), severity="warning", markup=False)
            return True
        return False

    # --- acting across tenants -----------------------------------------------------------

    def action_moderate(self, new_status: str) -> None:
        """Set the status of the marked posts (or the current one) on their tenants."""
        if self._refused(VERBS[new_status]):
            return
        targets = self.targets("post")
        if not targets:
            self.app.notify(
                "No post marked here (comments are deleted with x).", severity="warning"
            )
            return
        # On the app, not this panel: closing the screen must not cut the writes short.
        self.app.run_worker(
            self.moderate(targets, new_status),
            group="moderate",
            exit_on_error=False,
            description="fleet search moderation",
        )

    def action_delete(self) -> None:
        """Delete the marked comments (or the current one) on their tenants, after asking."""
        if self._refused("deleting comments"):
            return
        targets = self.targets("comment")
        if not targets:
            self.app.notify("No comment marked here (posts take p/a/u).", severity="warning")
            return
        self.app.run_worker(
            self.delete(targets),
            group="moderate",
            exit_on_error=False,
            description="fleet search deletion",
        )

    @staticmethod
    def _question(verb: str, noun: str, targets: list[tuple[str, Hit]]) -> Text:
        by_tenant: dict[str, int] = {}
        for _key, hit in targets:
            by_tenant[hit.tenant.slug] = by_tenant.get(hit.tenant.slug, 0) + 1
        question = Text(
            f"{verb} {plural(len(targets), noun)} on {plural(len(by_tenant), 'tenant')}?\n\n"
        )
        for slug, count in list(by_tenant.items())[:10]:
            question.append_text(literal(slug, 30))
            question.append(f": {plural(count, noun)}\n")
        if len(by_tenant) > 10:
            question.append(f"… and {len(by_tenant) - 10} more tenants\n", style="dim")
        question.append(
            "\nOne batch per tenant; a tenant that fails is reported, the others stay done."
        )
        return question

    async def moderate(self, targets: list[tuple[str, Hit]], new_status: str) -> None:
        """Confirm, write on each tenant (guarded by the status shown), report per tenant."""
        question = self._question(VERBS[new_status].capitalize(), "post", targets)
        confirm = ConfirmScreen(question, title="Across tenants", ask_reason=True)
        if not await self.app.push_screen_wait(confirm):
            return
        action = await set_status_across(
            self.workspace,
            [(h.tenant, h.id, h.status) for _k, h in targets],
            new_status,
            reason=confirm.reason,
        )
        await self._report(action, targets, f"{PAST[new_status].lower()}", "post", new_status)

    async def delete(self, targets: list[tuple[str, Hit]]) -> None:
        """Confirm, delete on each tenant, report per tenant."""
        question = self._question("Delete", "comment", targets)
        confirm = ConfirmScreen(question, yes="Delete", title="Across tenants", ask_reason=True)
        if not await self.app.push_screen_wait(confirm):
            return
        action = await delete_comments_across(
            self.workspace, [(h.tenant, h.id) for _k, h in targets], reason=confirm.reason
        )
        await self._report(action, targets, "deleted", "comment", None)

    async def _report(
        self,
        action: FleetAction,
        targets: list[tuple[str, Hit]],
        past: str,
        noun: str,
        new_status: str | None,
    ) -> None:
        """Update the rows written, then the summary: done / conflict / failed per tenant."""
        from tursotui.ui.screens.fleet_migration import MigrationSummary

        changed = set(action.changed)
        lines: list[TenantLine] = []
        for outcome in action.outcomes:
            slug = outcome.tenant.slug
            if outcome.result is None:
                lines.append(TenantLine(slug, False, "failed", f"failed: {outcome.error}"))
                continue
            result = outcome.result
            parts = [f"{past} {plural(len(result.changed), noun)}"]
            if result.unchanged:
                parts.append(f"{len(result.unchanged)} had that status already")
            if result.conflicts:
                gone = "gone" if new_status is None else "changed by someone else"
                parts.append(f"{len(result.conflicts)} {gone} meanwhile (left alone)")
            lines.append(TenantLine(slug, outcome.state == "done", outcome.state, "; ".join(parts)))
        if self.is_attached:
            results = self.query_one("#fleet-results", DataTable)
            for key, hit in targets:
                self.marked.discard(key)
                if key not in results.rows:
                    continue  # a new search replaced the rows meanwhile
                results.update_cell(key, "mark", Text(" "))
                if (hit.tenant.slug, hit.id) not in changed:
                    continue
                if new_status is None:
                    results.update_cell(key, "match", Text("(deleted)", style="dim italic"))
                    results.update_cell(key, "kind", Text("deleted", style="red"))
                else:
                    hit.status = new_status
                    results.update_cell(key, "status", status_text(new_status))
        done, conflict, failed = (action.count(s) for s in ("done", "conflict", "failed"))
        summary = Text(f"{past.capitalize()} {plural(len(changed), noun)}: ", style="bold")
        summary.append(f"{done} done", style="green")
        summary.append(f", {conflict} with conflicts", style="yellow" if conflict else "dim")
        summary.append(f", {failed} failed", style="bold red" if failed else "dim")
        self.summary = summary
        if self.is_attached:
            self.show_status()
        stale.catch_up(self.app)  # screens showing these tenants read them again
        title = f"{summary.plain} (per tenant)"
        await self.app.push_screen_wait(MigrationSummary(title, lines))


__all__ = ["FleetSearch", "Hit"]
