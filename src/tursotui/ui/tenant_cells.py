"""The cells of the tenants table: a tenant's location and what its health probe answered.

Everything here is rendered as `rich.text.Text`; values from the registry go
through `literal()`, so a hostile name or URL is shown, never interpreted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from tursotui.db.urls import InvalidURL, parse_url
from tursotui.display.literal import literal
from tursotui.session.registry import Tenant
from tursotui.session.settings import Settings, config_file
from tursotui.ui.widgets.header import short_location

if TYPE_CHECKING:  # the probes load once the list is shown (see the tenants screen)
    from tursotui.tenant.health import TenantHealth

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


def compact_count(count: int, width: int) -> str:
    """`count` in at most `width` characters: `250,000` where it fits, else `250k`, `1.2M`."""
    full = f"{count:,}"
    if len(full) <= width:
        return full
    for limit, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if count >= limit:
            scaled = count / limit
            short = f"{scaled:.1f}{suffix}" if scaled < 10 else f"{count // limit:,}{suffix}"
            if len(short) <= width:
                return short
            return f"{count // limit:,}{suffix}"
    return full


def count_cell(health: TenantHealth | None, status: str, width: int | None = None) -> Text:
    """Posts with one status, right-aligned; shortened (`250k`) to fit `width` if given."""
    if health is None:
        return PENDING
    if health.counts is None:
        return DASH
    count = health.counts.get(status, 0)
    shown = f"{count:,}" if width is None else compact_count(count, width)
    return Text(shown, justify="right")


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


def registry_where(settings: Settings, max_len: int | None = None) -> str:
    """The registry in force, token-free: a file (`~` for home) or a host.

    Args:
        settings: The session's settings.
        max_len: Cut a long path at its start (`…/data/registry.db`): the file name and
            the folders nearest it say the most.
    """
    try:
        url = parse_url(settings.registry_location)
    except InvalidURL:
        return "(unusable registry URL)"
    if url.is_remote:
        return url.host
    home = str(Path.home())
    path = url.target
    data_dir = Path(settings.data_dir)
    if max_len is not None and Path(path).is_relative_to(data_dir):
        # As the tenants' own locations are shown; the empty registry's hint gives it whole.
        return f"<data dir>/{Path(path).relative_to(data_dir)}"
    if path.startswith(home + "/"):
        path = "~" + path[len(home) :]
    if max_len is not None and len(path) > max_len:
        path = "…" + path[-(max_len - 1) :]
    return path


def registry_origin_short(settings: Settings) -> str:
    """Where the registry URL came from, in a word or two for the header."""
    origin = settings.registry_origin
    if origin.startswith("the default"):
        return "default"
    if origin.startswith("environment variable "):
        return "$" + origin.removeprefix("environment variable ")
    if origin.startswith("config file"):
        return "config file"
    return origin.split(" file (")[0]  # `.env.local file (X)` -> `.env.local`


def empty_registry_hint(settings: Settings) -> Text:
    """What a fresh install shows instead of an empty table: how to start, where things are."""
    hint = Text()
    hint.append("No tenants in this registry yet.\n", style="bold")
    hint.append("  n", style="bold")
    hint.append("              create a tenant here (local; on Turso once TURSO_ORG and\n")
    hint.append("                 TURSO_PLATFORM_API_TOKEN are set)\n")
    hint.append("  tursotui demo", style="bold")
    hint.append("  build a demo fleet to try things on (q quits first)\n\n")
    hint.append("Registry: ")
    hint.append_text(literal(registry_where(settings), 120, style="bold"))
    hint.append(", from ")
    hint.append_text(literal(settings.registry_origin, 120))
    hint.append(".\n")
    hint.append(
        "tursotui looks for it in TURSOTUI_REGISTRY_URL (environment, .env, .env.local), "
        "then the config file ",
        style="dim",
    )
    hint.append_text(literal(str(config_file()), 120, style="dim"))
    hint.append(
        ", then the app's own TURSO_DATABASE_URL, else registry.db in the data dir.",
        style="dim",
    )
    return hint


class Row:
    """One registry row and what is known about it.

    Calling it makes its cells with `make` (the screen's), so a `RowList` can hold the row
    itself as the function it calls when the row is first shown: no function of its own per
    row, of which 10,000 tenants made 10,000 before the first frame.

    A class with slots written out, not a dataclass: making that class cost 0.5 ms of the
    first frame. Equal only to itself.
    """

    __slots__ = ("_haystack", "health", "key", "make", "tenant")

    def __init__(
        self,
        key: str,
        tenant: Tenant,
        health: TenantHealth | None = None,
        make: Callable[[Row], Sequence[Text]] | None = None,
    ) -> None:
        self.key = key
        self.tenant = tenant
        self.health = health
        self.make = make
        self._haystack: str | None = None
        """Slug, name and host lower-cased, made on the first filter (a host parses the URL)."""

    def __repr__(self) -> str:
        return f"Row(key={self.key!r}, tenant={self.tenant!r}, health={self.health!r})"

    def __call__(self) -> Sequence[Text]:
        """The row's cells as its screen makes them (no cells when it has no maker)."""
        return () if self.make is None else self.make(self)

    @property
    def haystack(self) -> str:
        """Slug, name and host lower-cased in one string, NUL between them (no filter text
        holds one): one `in` per row, which keeps a filter key on 10,000 tenants in a frame."""
        if self._haystack is None:
            tenant = self.tenant
            self._haystack = "\x00".join(v.lower() for v in (tenant.slug, tenant.name, tenant.host))
        return self._haystack

    def matches(self, needle: str) -> bool:
        """Whether the filter text is in the slug, name or host (case-insensitive)."""
        return not needle or ("\x00" not in needle and needle in self.haystack)
