"""The console's schema panel: tables and views, their columns with types, indexes, row counts.

`c` counts the rows of the highlighted table (a full scan, so only on demand);
`enter` on a table or column puts its name into the editor.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tursotui.console.schema import Schema
from tursotui.display.literal import literal


class SchemaPanel(Tree[str]):
    """A tree of the tenant's schema; node data is the table or column name."""

    DEFAULT_CSS = """
    SchemaPanel { width: 34; border-right: vkey $panel-lighten-2; }
    """

    BINDINGS = [
        Binding("c", "count", "Count rows", tooltip="Count the rows of the highlighted table"),
    ]

    class CountWanted(Message):
        """Count the rows of `table`."""

        def __init__(self, table: str) -> None:
            super().__init__()
            self.table = table

    class NameChosen(Message):
        """Put `name` into the editor."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("schema"), id=id)
        self.show_root = False
        self._tables: dict[str, TreeNode[str]] = {}
        self.root.add_leaf(Text("loading…", style="dim"))

    def show_schema(self, schema: Schema) -> None:
        """Replace the tree with `schema`."""
        self.clear()
        self._tables = {}
        if not schema.tables:
            self.root.add_leaf(Text("no tables", style="dim"))
        for table in schema.tables:
            label = literal(table.name, 28, style="bold")
            if table.kind == "view":
                label.append(" (view)", style="dim")
            node = self.root.add(label, data=table.name)
            self._tables[table.name] = node
            for column in table.columns:
                line = literal(column.name, 20)
                line.append(" ")
                line.append_text(literal(column.type or "any", 14, style="cyan"))
                if column.primary_key:
                    line.append(" pk", style="yellow")
                elif column.not_null:
                    line.append(" not null", style="dim")
                node.add_leaf(line, data=column.name)
            if table.indexes:
                indexes = node.add(Text("indexes", style="dim italic"))
                for index in table.indexes:
                    indexes.add_leaf(literal(index, 30, style="dim"))

    def show_count(self, table: str, count: int) -> None:
        """Show a table's row count next to its name."""
        node = self._tables.get(table)
        if node is None:
            return
        label = literal(table, 28, style="bold")
        label.append(f" {count:,} rows", style="green")
        node.set_label(label)

    def _highlighted_table(self) -> str | None:
        node = self.cursor_node
        while node is not None and node.parent is not None and node.parent is not self.root:
            node = node.parent
        if node is not None and node.data in self._tables:
            return node.data
        return None

    def action_count(self) -> None:
        """Ask for the highlighted table's row count."""
        table = self._highlighted_table()
        if table is not None:
            self.post_message(self.CountWanted(table))

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        if event.node.data:
            self.post_message(self.NameChosen(event.node.data))
