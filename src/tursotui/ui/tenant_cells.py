"""The cells of the tenants table: a tenant's location and what its health probe answered.

Everything here is rendered as `rich.text.Text`; values from the registry go
through `literal()`, so a hostile name or URL is shown, never interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from tursotui.health import TenantHealth
from tursotui.registry import Tenant
from tursotui.ui.literal import literal
from tursotui.ui.widgets.header import short_location

DASH = Text("·", style="dim")
PENDING = Text("…", style="dim")


def where(tenant: Tenant, max_len: int) -> Text:
    """A tenant's location with its marker: ☁ remote host (bold), ▪ local file (short path)."""
    if tenant.broken:
        return Text("⚠ ", style="bold red") + literal(tenant.problem, max_len - 2, style="red")
    if tenant.is_remote:
        return Text("☁ ", style="bold red") + literal(tenant.host, max_len - 2, style="bold")
    return Text("▪ ", style="green") + literal(short_location(tenant), max_len - 2)


def health_cell(health: TenantHealth | None) -> Text:
    """Reachability at a glance: latency, `down`, or `broken`."""
    if health is None:
        return PENDING
    if health.tenant.broken:
        return Text("broken", style="bold red")
    if not health.reachable:
        return Text("down", style="bold red")
    latency = health.latency_ms or 0.0
    style = "green" if latency < 100 else ("yellow" if latency < 500 else "red")
    text = Text(f"{latency:.0f} ms" if latency >= 1 else "<1 ms", style=style)
    if health.error:
        text.append(" ⚠", style="bold yellow")
    return text


def count_cell(health: TenantHealth | None, status: str) -> Text:
    """Posts with one status, right-aligned."""
    if health is None:
        return PENDING
    if health.counts is None:
        return DASH
    return Text(f"{health.counts.get(status, 0):,}", justify="right")


SCHEMA_STYLES = {"current": "green", "ahead": "magenta", "not migrated": "red", "unknown": "red"}
"""The colour of each schema label; any other (`behind by N`) is yellow. A schema that could
not be read (`unknown`) needs a look as much as one never migrated."""


def schema_style(label: str) -> str:
    """How a schema label is coloured, wherever it is shown (the tenants and fleet tables)."""
    return SCHEMA_STYLES.get(label, "yellow")


def schema_cell(health: TenantHealth | None, *, narrow: bool = False) -> Text:
    """The schema label, coloured by how much it needs attention."""
    if health is None:
        return PENDING
    if health.schema is None:
        return DASH
    label = health.schema
    if narrow:
        label = "unmigrated" if label == "not migrated" else label.replace("behind by", "behind")
    return Text(label, style=schema_style(health.schema))


@dataclass(eq=False)
class Row:
    """One registry row and what is known about it."""

    key: str
    tenant: Tenant
    health: TenantHealth | None = None

    def matches(self, needle: str) -> bool:
        """Whether the filter text is in the slug, name or host (case-insensitive)."""
        if not needle:
            return True
        tenant = self.tenant
        return any(needle in value.lower() for value in (tenant.slug, tenant.name, tenant.host))
