"""Keys as a terminal sends them: whole bursts at once, and waiting until every one is handled.

Bursts are posted to the app in one go, without waiting between keys (what a terminal
delivers when someone types fast over SSH, or `tmux send-keys` with one string):
`pilot.press` would wait for the app to be idle after every key and hide the races.
"""

from __future__ import annotations

from textual import events

from support.moderation_fixtures import settle
from support.screen import until

CHARACTERS = {"slash": "/", "space": " ", "full_stop": ".", "asterisk": "*"}
"""The character each named key types (the rest type their own name, or nothing)."""


def burst(app, *keys: str) -> None:
    """Send `keys` to the app all at once, as the terminal would (no wait in between)."""
    for key in keys:
        app.post_message(events.Key(key, CHARACTERS.get(key, key if len(key) == 1 else None)))


def typed(text: str) -> list[str]:
    """The key names of `text`, typed."""
    names = {char: name for name, char in CHARACTERS.items()}
    return [names.get(char, char) for char in text]


async def quiet(app, pilot) -> None:
    """Every key of the burst handled, every worker done, the screen repainted."""
    gate = getattr(app, "key_gate", None)
    for _ in range(3):
        await settle(app, pilot)
        if gate is not None:
            await until(pilot, lambda: not gate.busy)
    await settle(app, pilot)
