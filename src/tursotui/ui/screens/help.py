"""`?`: every key of the screen you were on, with what it does."""

from __future__ import annotations

from rich.text import Text
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label

from tursotui.display.literal import literal
from tursotui.ui.widgets.footer import KeysFooter


def describe_key(key: str, display: str | None = None) -> str:
    """A key as people write it: `?`, `ctrl+p`, `enter`, `D`."""
    if display:
        return display
    names = {"question_mark": "?", "slash": "/", "space": "space", "escape": "escape"}
    return ", ".join(names.get(part, part) for part in key.split(","))


def _declared(screen: Screen) -> list[Binding]:
    """The bindings tursotui's own screen classes declare (not Textual's tab/shift+tab)."""
    declared: list[Binding] = []
    for cls in type(screen).__mro__:
        if cls.__module__.startswith("tursotui.") or cls.__module__ == type(screen).__module__:
            declared.extend(Binding.make_bindings(cls.__dict__.get("BINDINGS", [])))
    return declared


def screen_keys(screen: Screen) -> list[tuple[str, str, str]]:
    """(key, what, details) for every key of `screen`, including those hidden from the footer.

    The screen's own keys come first (even where the focused widget handles the key
    itself, e.g. `enter` in a table opens the row), then the focused widget's
    (table navigation...), then the global ones, then Textual's focus keys.
    """
    rows: dict[tuple[str, str], list] = {}
    taken: set[str] = set()

    def add(key: str, binding: Binding, tooltip: str = "") -> None:
        if binding.system or not binding.description or key in taken:
            return
        taken.add(key)
        entry = rows.setdefault(
            (binding.action, binding.description),
            [[], binding.description, tooltip or binding.tooltip],
        )
        # Several keys for one action (`j` and `down`): one line listing them all.
        entry[0].append(describe_key(key, binding.key_display))

    for binding in _declared(screen):
        _, action, parameters = parse(binding.action)
        if screen.check_action(action, parameters) is False:
            continue  # not possible here (a write in a read-only session): not listed
        for key in binding.key.split(","):
            add(key.strip(), binding)
    active = list(screen.active_bindings.items())
    for node_kind in ("widget", "app", "screen"):
        for key, item in active:
            kind = (
                "screen" if item.node is screen else "app" if item.node is screen.app else "widget"
            )
            if kind == node_kind:
                add(key, item.binding, item.tooltip)
    return [(", ".join(keys), what, details) for keys, what, details in rows.values()]


HELP_WIDTH = 90
"""The help box's widest (help.tcss says the same); narrower terminals get all of theirs."""


class HelpScreen(ModalScreen[None]):
    """The keys of the screen beneath, in a table; `escape` or `?` closes it."""

    CSS_PATH = "help.tcss"
    AUTO_FOCUS = "DataTable"
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
        with Vertical(id="help"):
            yield Label(literal(f"Keys: {self.help_title}", style="bold"), id="help-title")
            if self.about:
                yield Label(literal(self.about), id="help-about")
            table: DataTable[Text] = DataTable(
                id="help-keys", cursor_type="row", zebra_stripes=True
            )
            key_width, what_width, details_width = self._widths()
            table.add_column("key", width=key_width)
            table.add_column("does", width=what_width)
            table.add_column("details", width=details_width)
            for key, what, details in self.keys:
                # The details wrap onto more lines rather than being cut at 80 columns.
                wrapped = literal(details)
                wrapped.no_wrap = False
                table.add_row(
                    literal(key, key_width), literal(what, what_width), wrapped, height=None
                )
            yield table
        yield KeysFooter()

    def _widths(self) -> tuple[int, int, int]:
        """Column widths that fit the box: keys and names as long as they are, details the rest."""
        box = min(HELP_WIDTH, self.app.size.width or 80) - 4  # border and padding
        key_width = min(20, max((len(k) for k, _w, _d in self.keys), default=3))
        what_width = min(22, max((len(w) for _k, w, _d in self.keys), default=4))
        # Each column has a cell of padding on both sides; one more for the scrollbar.
        details_width = max(16, box - key_width - what_width - 3 * 2 - 2)
        return key_width, what_width, details_width

    def action_close(self) -> None:
        self.dismiss(None)
