"""The header every screen shows: where you are, on which tenant, and whether that is dangerous.

The tenant is the current screen's `tenant` attribute (screens built as
`XScreen(tenant)` keep it there), or the one given. A remote tenant paints the
whole line in the warning colour with a REMOTE badge, so it cannot be mistaken
for a local copy; read-only mode shows a READ-ONLY badge on every screen.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tursotui.display.literal import literal

if TYPE_CHECKING:
    from tursotui.session.registry import Tenant

PRODUCTION_WORDS = ("prod", "live")
"""A slug or host containing one of these is flagged PRODUCTION as well as REMOTE."""


def looks_like_production(tenant: Tenant) -> bool:
    """True when the tenant's slug, name or host says it is production."""
    haystack = f"{tenant.slug} {tenant.name} {tenant.host}".lower()
    return any(word in haystack for word in PRODUCTION_WORDS)


def short_location(tenant: Tenant) -> str:
    """Host of a remote tenant; `folder/file.db` of a local one (the full path is long)."""
    if tenant.is_remote or tenant.broken:
        return tenant.host
    path = PurePath(tenant.host)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


class TenantHeader(Widget):
    """One line: app, screen title, tenant (name, slug, host) and the REMOTE / READ-ONLY badges."""

    DEFAULT_CSS = """
    TenantHeader {
        dock: top;
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    TenantHeader.-remote {
        background: $error-darken-2;
        color: $text;
    }
    """

    title: reactive[str] = reactive("", layout=False)
    """What the screen shows (e.g. `posts`), after the app name."""

    def __init__(
        self,
        title: str = "",
        tenant: Tenant | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._tenant = tenant
        self.set_reactive(TenantHeader.title, title)

    @property
    def tenant(self) -> Tenant | None:
        """The tenant this header names: the given one, else the screen's."""
        if self._tenant is not None:
            return self._tenant
        try:
            return getattr(self.screen, "tenant", None)
        except Exception:  # not mounted yet
            return None

    @tenant.setter
    def tenant(self, tenant: Tenant | None) -> None:
        self._tenant = tenant
        self._restyle()
        self.refresh()

    @property
    def read_only(self) -> bool:
        """Whether the session refuses writes."""
        settings = getattr(self.app, "settings", None)
        return bool(settings and settings.read_only)

    def on_mount(self) -> None:
        self._restyle()
        # The replica's age ("synced 12 s ago") moves on by itself.
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        tenant = self.tenant
        if tenant is not None and tenant.is_remote:
            self.refresh()

    def freshness(self) -> tuple[str, bool] | None:
        """Where the tenant is read from (`replica · synced …` or `primary`), and staleness."""
        tenant = self.tenant
        workspace = getattr(self.app, "workspace", None)
        if tenant is None or workspace is None:
            return None
        label = workspace.freshness_label(tenant)
        return label if isinstance(label, tuple) else None

    def _restyle(self) -> None:
        tenant = self.tenant
        self.set_class(bool(tenant and tenant.is_remote), "-remote")

    def badges(self) -> Text:
        """The right-hand badges, most important first."""
        badges = Text(no_wrap=True, end="")
        tenant = self.tenant
        if self.read_only:
            badges.append(" READ-ONLY ", style="bold black on yellow")
            badges.append(" ")
        if tenant is not None and not tenant.broken:
            if tenant.is_remote:
                if looks_like_production(tenant):
                    badges.append(" PRODUCTION ", style="bold white on red")
                    badges.append(" ")
                freshness = self.freshness()
                if freshness is not None:
                    label, stale = freshness
                    style = "bold black on yellow" if stale else "white on grey23"
                    badges.append(f" {label} ", style=style)
                    badges.append(" ")
                badges.append(" REMOTE ", style="bold white on dark_red")
            else:
                badges.append(" local ", style="black on green")
        return badges

    def render(self) -> Text:
        width = self.size.width or 80
        badges = self.badges()
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(" tursotui", style="bold")
        if self.title:
            line.append(" › ")
            line.append(self.title)
        tenant = self.tenant
        if tenant is not None:
            line.append(" │ ")
            line.append_text(literal(tenant.name or tenant.slug, 24, style="bold"))
            if tenant.name and tenant.name != tenant.slug:
                line.append(" (")
                line.append_text(literal(tenant.slug, 20))
                line.append(")")
            line.append(" @ ")
            line.append_text(literal(short_location(tenant), 32))
        room = max(0, width - badges.cell_len - 1)
        if line.cell_len > room:
            line.truncate(max(0, room - 1))
            line.append("…")
        line.pad_right(room - line.cell_len)
        line.append(" ")
        line.append_text(badges)
        return line
