"""`?`: every key of the screen you were on, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Label

from tursotui.ui.literal import literal


def describe_key(key: str, display: str | None = None) -> str:
    """A key as people write it: `?`, `ctrl+p`, `enter`, `D`."""
    if display:
        return display
    names = {"question_mark": "?", "slash": "/", "space": "space", "escape": "escape"}
    return ", ".join(names.get(part, part) for part in key.split(","))


def screen_keys(screen: Screen) -> list[tuple[str, str, str]]:
    """(key, what, details) for every binding active on `screen`.

    Reads Textual's active bindings, so it lists exactly what the keys do there,
    including keys hidden from the footer: the screen's own first, then those of the
    focused widget (table navigation...), then the global ones.
    """
    groups: dict[str, dict[tuple[str, str], list]] = {"screen": {}, "widget": {}, "app": {}}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.system or not (binding.description or binding.tooltip):
            continue
        where = (
            "screen" if active.node is screen else "app" if active.node is screen.app else "widget"
        )
        what = binding.description or binding.action
        entry = groups[where].setdefault(
            (binding.action, what), [[], what, active.tooltip or binding.tooltip]
        )
        # Several keys for one action (`j` and `down`): one line listing them all.
        entry[0].append(describe_key(key, binding.key_display))
    return [
        (", ".join(keys), what, details)
        for group in groups.values()
        for keys, what, details in group.values()
    ]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen beneath, in a table; `escape` or `?` closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="close"),
    ]

    def __init__(self, title: str, keys: list[tuple[str, str, str]], about: str = "") -> None:
        super().__init__()
        self.help_title = title
        self.keys = keys
        self.about = about

    @classmethod
    def for_screen(cls, screen: Screen) -> HelpScreen:
        """The help of `screen`: its title, its docstring's first line, and its keys."""
        title = getattr(screen, "HELP_TITLE", None) or type(screen).__name__.removesuffix("Screen")
        doc = (type(screen).__doc__ or "").strip().splitlines()
        return cls(title, screen_keys(screen), doc[0] if doc else "")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Label(literal(f"Keys: {self.help_title}", style="bold"), id="help-title")
            if self.about:
                yield Label(literal(self.about), id="help-about")
            table: DataTable[str] = DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            table.add_columns("key", "does", "details")
            for key, what, details in self.keys:
                table.add_row(literal(key), literal(what), literal(details))
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def action_close(self) -> None:
        self.dismiss(None)
