"""One tenant's usage: rows read and written, storage, and its top queries with index advice.

What `tursotui tenants usage SLUG` prints, on a screen: the figures where the tenant's host
gives them (Turso's Platform API, sqld's admin API, or the local file), then the queries that
read the most rows, each with the index advice that applies to it. Query text comes from the
tenant's database server and is shown literally.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tursotui.display.literal import literal
from tursotui.provision.usage import TenantUsage

FIGURES = (
    ("rows read", "rows_read"),
    ("rows written", "rows_written"),
    ("storage", "storage_bytes"),
    ("pages", "pages"),
    ("free pages", "free_pages"),
)
"""The figures shown, by label, in order (those the tenant's host does not give are left out)."""

QUERY_CHARS = 400
"""How much of a query's text is shown."""


def usage_text(usage: TenantUsage) -> Text:
    """The figures, then the top queries with their advice (everything from the tenant literal)."""
    text = Text()
    text.append(f"from {usage.where}\n\n", style="dim")
    shown = [(label, getattr(usage, name)) for label, name in FIGURES]
    for label, value in shown:
        if value is not None:
            text.append(f"{label:>14}  ", style="bold")
            text.append(f"{value:,}" + (" bytes" if label == "storage" else "") + "\n")
    if all(value is None for _, value in shown):
        text.append("No figures: this tenant's host gives none.\n", style="dim")
    if not usage.top_queries:
        text.append("\nNo query statistics for this tenant.", style="dim")
        return text
    text.append("\nTop queries, most rows read first\n", style="bold")
    for query in usage.top_queries:
        text.append("\n")
        text.append(
            f"read {query.get('rows_read') or 0:,} · written {query.get('rows_written') or 0:,}\n",
            style="cyan",
        )
        text.append_text(literal(query.get("query", ""), QUERY_CHARS))
        text.append("\n")
        for advice in query.get("advice") or []:
            text.append("  advice: ", style="bold yellow")
            text.append_text(literal(advice, QUERY_CHARS))
            text.append("\n")
    return text


class UsageScreen(ModalScreen[None]):
    """A tenant's usage and top queries; escape closes it."""

    DEFAULT_CSS = """
    UsageScreen { align: center middle; background: $background 60%; }
    UsageScreen > VerticalScroll {
        width: 90%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    """

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, usage: TenantUsage) -> None:
        super().__init__()
        self.usage = usage

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = f"Usage of {self.usage.slug}"
            box.border_subtitle = "escape closes"
            yield Static(usage_text(self.usage), id="usage-text")

    def action_close(self) -> None:
        """Back to the tenants."""
        self.dismiss(None)
