"""Compare a tenant with its branch and restore chosen rows (`tenant: compare ... with branch`).

`BranchDiffScreen(slug, branch)` lists the posts and comments that differ between
the live tenant and the branch: `+` added since, `-` removed since, `~` changed
(column: branch value → live value). `space` marks a row, `a` marks all, `ctrl+s`
restores the marked rows after a confirmation: one guarded batch (if any of them
changed since it was listed, nothing is written), audited. Database content is
shown literally.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from tursotui.display.literal import literal
from tursotui.provision import ProvisionError
from tursotui.provision.branch import Diff, RowChange, diff_tenant, restore_rows
from tursotui.ui.screens.confirm import ConfirmScreen
from tursotui.ui.typed import tursotui_app
from tursotui.ui.widgets.footer import KeysFooter
from tursotui.ui.widgets.header import TenantHeader
from tursotui.ui.widgets.row_list import RowList
from tursotui.ui.widgets.text_line import TextLine

MARKS = {"added": ("+", "green"), "removed": ("-", "red"), "changed": ("~", "yellow")}


def _key(change: RowChange) -> str:
    return f"{change.table}:{change.id}"


def _value(value: Any) -> Text:
    return literal("NULL" if value is None else str(value), 30)


def what_changed(change: RowChange) -> Text:
    """`title: Old → New; status: …` for a changed row, else the row's title or content."""
    if change.kind != "changed":
        row = change.before or change.after or {}
        return literal(str(row.get("title", row.get("content", ""))), 60)
    text = Text()
    for index, column in enumerate(change.columns):
        if index:
            text.append("; ")
        text.append(f"{column}: ", style="dim")
        text.append_text(_value((change.before or {}).get(column)))
        text.append(" → ")
        text.append_text(_value((change.after or {}).get(column)))
    return text


class BranchDiffScreen(Screen[None]):
    """The rows that differ between a tenant and a branch; mark some and restore them."""

    HELP_TITLE = "compare with a branch"
    AUTO_FOCUS = "#changes"

    BINDINGS = [
        Binding("space", "mark", "Mark", tooltip="Mark or unmark this row for restoring"),
        Binding("a", "mark_all", "Mark all", tooltip="Mark every row (again: none)"),
        Binding(
            "ctrl+s", "restore", "Restore", tooltip="Put the marked rows back as in the branch"
        ),
        Binding("r", "reload", "Compare again", tooltip="Read both tenants again"),
        Binding("escape", "back", "Back"),
    ]

    DEFAULT_CSS = """
    BranchDiffScreen #changes { height: 1fr; }
    BranchDiffScreen #diff-detail { height: 1; background: $boost; }
    """

    def __init__(self, slug: str, branch: str) -> None:
        super().__init__()
        self.slug = slug
        self.branch = branch
        self.diff: Diff | None = None
        self.marked: set[str] = set()
        self.running = False

    def compose(self) -> ComposeResult:
        yield TenantHeader(f"{self.slug} ← branch {self.branch}")
        yield RowList(id="changes")
        yield TextLine(Text("comparing…", style="dim"), id="diff-detail")
        yield KeysFooter()

    @property
    def table(self) -> RowList:
        return self.query_one("#changes", RowList)

    def on_mount(self) -> None:
        self.table.set_columns([("", 2), ("", 2), ("table", 9), ("id", 14), ("branch → live", 60)])
        self.action_reload()

    def _cells(self, change: RowChange) -> list[Text]:
        mark, style = MARKS[change.kind]
        return [
            Text("●" if _key(change) in self.marked else " ", style="bold"),
            Text(mark, style=f"bold {style}"),
            Text(change.table),
            literal(change.id, 14),
            what_changed(change),
        ]

    def _fill(self) -> None:
        table = self.table
        key = table.cursor_key
        table.clear()
        changes = self.diff.changes if self.diff else []
        table.add_rows((_key(c), self._cells(c)) for c in changes)
        if key is not None and table.has_row(key):
            table.move_cursor(row=table.get_row_index(key))
        self._detail()

    def _detail(self) -> None:
        line = Text()
        changes = self.diff.changes if self.diff else []
        counts = {k: sum(1 for c in changes if c.kind == k) for k in MARKS}
        line.append(
            f"{counts['added']} added · {counts['removed']} removed · "
            f"{counts['changed']} changed since the branch"
        )
        if self.marked:
            line.append(f" │ {len(self.marked)} marked: ctrl+s restores them", style="bold")
        self.query_one("#diff-detail", TextLine).update(line)

    def _change(self, key: str) -> RowChange | None:
        for change in self.diff.changes if self.diff else []:
            if _key(change) == key:
                return change
        return None

    @work(exclusive=True, group="diff", exit_on_error=False, description="comparing")
    async def action_reload(self) -> None:
        """Compare the tenant with the branch again (marks are kept for rows still listed)."""
        try:
            workspace = await tursotui_app(self).wait_workspace()
            diff = await diff_tenant(workspace, self.slug, self.branch)
        except ProvisionError as error:
            self.query_one("#diff-detail", TextLine).update(literal(str(error), style="red"))
            return
        self.diff = diff
        self.marked &= {_key(c) for c in diff.changes}
        self._fill()

    def action_mark(self) -> None:
        """Mark or unmark the highlighted row."""
        key = self.table.cursor_key
        change = self._change(key) if key else None
        if key is None or change is None:
            return
        self.marked ^= {key}
        self.table.update_row(key, self._cells(change))
        self.table.action_cursor_down()
        self._detail()

    def action_mark_all(self) -> None:
        """Mark every row, or none when all are marked."""
        keys = {_key(c) for c in (self.diff.changes if self.diff else [])}
        self.marked = set() if self.marked == keys else keys
        self._fill()

    def action_restore(self) -> None:
        """Ask, then restore the marked rows in one guarded batch."""
        if tursotui_app(self).settings.read_only:
            self.notify("Read-only session: rows cannot be restored.", severity="warning")
            return
        if self.running or not self.marked or self.diff is None:
            if not self.marked:
                self.notify("Mark rows with space first.", severity="warning")
            return
        question = Text(f"Restore {len(self.marked)} rows of branch ")
        question.append_text(literal(self.branch, 63))
        question.append(" into ")
        question.append_text(literal(self.slug, 63))
        question.append("? Removed rows come back, changed ones are set back, added ones go.")
        self.app.push_screen(
            ConfirmScreen(question, yes="Restore", title="Restore rows"), self._confirmed
        )

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self._restore()

    @work(exclusive=True, group="restore", exit_on_error=False, description="restoring rows")
    async def _restore(self) -> None:
        if self.diff is None:
            return
        self.running = True
        chosen = [self._change(k) for k in sorted(self.marked)]
        posts = [c.id for c in chosen if c is not None and c.table == "posts"]
        comments = [c.id for c in chosen if c is not None and c.table == "comments"]
        try:
            workspace = tursotui_app(self).workspace
            restored = await restore_rows(workspace, self.diff, posts=posts, comments=comments)
        except ProvisionError as error:
            self.notify(str(error), title="Restore rows", severity="error", markup=False)
            return
        finally:
            self.running = False
        self.notify(
            f"Restored {len(restored)} rows of {self.branch} into {self.slug}.",
            title="Restore rows",
            markup=False,
        )
        self.marked = set()
        self.action_reload()

    def action_back(self) -> None:
        self.app.pop_screen()
