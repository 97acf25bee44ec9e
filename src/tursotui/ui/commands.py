"""The command palette (`ctrl+p`): every action of the current screen and the app, as `noun: verb`.

Titles follow posting's convention (`tenant: open`, `posts: publish`): the noun
is the screen's `PALETTE_NOUN` (default: its name), the verb the binding's
description. A screen may add commands of its own with a
`palette_commands()` method yielding `(title, callback, help)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from textual.screen import Screen

Command = tuple[str, Callable[[], object], str]

GLOBAL_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("tenant: switch", "switch_tenant", "Back to the tenants list to pick another tenant"),
    ("tenants: list", "switch_tenant", "The registry's tenants with their health"),
    ("fleet: open", "open_fleet", "All tenants side by side"),
    ("audit: show log", "open_audit", "Every write tursotui made"),
    ("tenant: new", "new_tenant", "Create, migrate and register a tenant"),
    ("queue: drafts", "open_queue('drafts')", "Drafts awaiting review across every tenant"),
    ("queue: newest comments", "open_queue('comments')", "The newest comments of every tenant"),
    ("help: keys", "help", "Every key of the current screen"),
    ("app: quit", "quit_app", "Quit tursotui"),
)
"""Commands offered on every screen: (title, app action, help)."""


def screen_noun(screen: Screen) -> str:
    """What a screen's commands are about: `PALETTE_NOUN`, else its name (`PostsScreen` → posts)."""
    noun = getattr(screen, "PALETTE_NOUN", None)
    if noun:
        return str(noun)
    return type(screen).__name__.removesuffix("Screen").lower() or "screen"


def screen_commands(screen: Screen) -> Iterator[Command]:
    """The commands of one screen: its own, then one per described binding."""
    app = screen.app
    extra = getattr(screen, "palette_commands", None)
    if callable(extra):
        yield from extra()
    noun = screen_noun(screen)
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        # The screen's own actions only: the focused widget's (cursor up, page down...)
        # are navigation, not commands, and the app's are offered below under their names.
        if binding.system or not binding.description or active.node is not screen:
            continue
        if binding.action in seen or not active.enabled:
            continue
        seen.add(binding.action)
        callback = partial(app.run_action, binding.action, active.node)
        yield f"{noun}: {binding.description.lower()}", callback, binding.tooltip or ""


class TursotuiCommands(Provider):
    """Offers the current screen's actions and the app's global ones."""

    def _commands(self) -> list[Command]:
        commands = list(screen_commands(self.screen))
        titles = {title for title, _, _ in commands}
        for title, action, help_text in GLOBAL_COMMANDS:
            if title not in titles:
                commands.append((title, partial(self.app.run_action, action), help_text))
        return commands

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
