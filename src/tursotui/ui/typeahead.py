"""Type-ahead: the keys of a burst act one after another, as if they had been typed slowly.

Textual hands each key to the focused widget's queue and moves on to the next key at
once; a key's binding runs only when the key has bubbled back up to the app. In a burst
(a fast typist over SSH, `tmux send-keys`, a paste of keys) every key is therefore sent
to the widget that had focus when the burst *started*: `t` `f` `o` on a posts screen
switched to the tenants screen and then opened the fleet (the `f` bubbled up after the
screen had changed, and ran the tenants screen's binding), and text typed right after
`F2` went to the result grid instead of the editor.

The `KeyGate` lets one key through at a time. A key is done when a widget consumed it
(an input typing a letter stops it) or when it has bubbled back to the app and its
binding ran; the gate then waits for what that binding started to show (focus moved
by `focus()`, a screen mounted and focused, a confirmation a worker it started opens at
once) before it lets the next key through. An
action that opens an input also calls `hold_keys_for(app, input)`: the keys that follow
wait until that input has focus, and then go into it in order. Nothing waits forever:
after `HOLD_S` (`SETTLE_S` for the rest) the next key goes wherever focus is then.

A key that was sent to one screen and comes back to the app after another screen took
its place (a dialog a worker opened, say) is dropped: its binding was meant for a screen
the user no longer sees.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import events
from textual.app import ScreenStackError
from textual.command import CommandPalette
from textual.dom import NoScreen
from textual.message_pump import MessagePump
from textual.widget import Widget

from tursotui import fanout

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

HOLD_S = 2.0
"""How long keys wait at most for an input that is opening to take focus."""
SETTLE_S = 0.5
"""How long keys wait at most for a key's effect to show (a new screen to take focus)."""
IN_FLIGHT_S = 1.0
"""How long a key may travel before the next one goes anyway (it was lost on the way)."""
POLL_S = 0.002
"""How often a waiting gate looks again."""
MOTION_KEYS = frozenset(
    {"up", "down", "left", "right", "pageup", "pagedown", "home", "end", "ctrl+home", "ctrl+end"}
)
"""Keys that move a cursor: what they set off (a highlight shown) opens nothing, so the
next key need not wait for it (holding `down` must keep up with the keyboard's repeat)."""


class GatedKey(events.Key):
    """A key the gate let through; it tells the gate when a widget consumed it."""

    def __init__(self, key: str, character: str | None, gate: KeyGate) -> None:
        super().__init__(key, character)
        self._gate = gate
        # No sender: Textual stops a message at the sender's child, which would look like
        # a widget consuming it (and the app is the sender of simulated keys).
        self._sender = None

    def stop(self, stop: bool = True) -> GatedKey:
        super().stop(stop)
        if stop:
            self._gate.finished(self)
        return self


# Textual names a message's handler after its class: this is still a key to every widget.
GatedKey.handler_name = events.Key.handler_name


class KeyGate:
    """Lets the keys of one app through one at a time (see the module's docstring).

    The app calls `arrived` for every key and paste the terminal sends, `admitted` for
    each event the gate posted back to it, and `returned` when a key it let through
    bubbled back up to it.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._waiting: deque[events.Key | events.Paste] = deque()
        self._in_flight: events.Key | events.Paste | None = None
        self._sent_to: weakref.ref[Screen] | None = None
        """The screen that was on top when the key in flight was let through (weakly: the
        gate must not keep a closed screen and its rows alive)."""
        self._watchdog: asyncio.TimerHandle | None = None
        self._settle_until = 0.0
        self._settling = False
        self._settle_round = 0
        """Bumped per key: a look-again scheduled for an earlier key does nothing."""
        self._careful = True
        """Whether the next key waits for the messages the last one set off."""
        self._hold: weakref.ref[Widget] | Callable[[], Widget | None] | None = None
        self._hold_until = 0.0
        self.any_arrived = False
        """Whether a key or a paste has come from the terminal yet."""
        # Long loops over thousands of tenants hold back while a key travels (weakly: the
        # gate must not keep a closed app alive).
        gate = weakref.ref(self)
        fanout.keys_first(lambda: (alive := gate()) is not None and alive.busy)

    @property
    def busy(self) -> bool:
        """True while a key travels or keys wait."""
        return self._in_flight is not None or bool(self._waiting) or self._settling

    # -- the app's side ----------------------------------------------------------------

    def arrived(self, event: events.Key | events.Paste) -> None:
        """A key (or a paste) from the terminal: it waits its turn."""
        self.any_arrived = True
        self._waiting.append(event)
        if self._in_flight is None and not self._settling:
            self._next()

    def is_admitted(self, event: events.Event) -> bool:
        """Whether `event` is the one the gate let through, back in the app's queue."""
        return event is self._in_flight and not event.is_forwarded

    async def admitted(self, event: events.Event, dispatch: Callable[[], Awaitable[None]]) -> None:
        """Dispatch the event let through (priority bindings, then the focused widget)."""
        if isinstance(event, events.Key) and self._hold is not None:
            # Let through before what the last key set off asked for a hold (a hold already
            # there would have kept it): a palette command runs from the app's queue after
            # the palette has closed, so the key typed after `enter` was already on its way.
            # It waits like the keys after it, and then goes to the screen that opened.
            self._wait_again(event)
            return
        await dispatch()
        if not event.is_forwarded or isinstance(event, events.Paste):
            # A priority binding took it, or a paste (which says nothing when it lands).
            self.finished(event)

    def is_returning(self, event: events.Event) -> bool:
        """Whether `event` is the key in flight, bubbled back up to the app."""
        return event is self._in_flight and event.is_forwarded

    async def returned(self, event: events.Key, dispatch: Callable[[], Awaitable[None]]) -> None:
        """Run the key's bindings, unless the screen it was sent to is gone."""
        screen = self._screen()
        if self._sent_to is not None and screen is not None and screen is self._sent_to():
            await dispatch()
        self.finished(event)

    def _screen(self) -> Screen[object] | None:
        """The screen shown, or None while the app closes (its screens already gone)."""
        try:
            return self.app.screen
        except ScreenStackError:
            return None

    def hold(self, target: Widget | Callable[[], Widget | None], timeout: float = HOLD_S) -> None:
        """Keep the next keys until `target` (or what it returns) has focus."""
        self._hold = weakref.ref(target) if isinstance(target, Widget) else target
        self._hold_until = time.monotonic() + timeout

    def _wait_again(self, event: events.Key) -> None:
        """Put the key in flight back at the head of the queue, behind the hold."""
        self._in_flight = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._waiting.appendleft(events.Key(event.key, event.character))
        self._settling = True
        self._settle_until = time.monotonic()
        self._settle_round += 1
        asyncio.get_running_loop().call_later(POLL_S, self._settled, self._settle_round)

    # -- one key at a time -------------------------------------------------------------

    def finished(self, event: events.Event) -> None:
        """The key in flight was consumed or its bindings ran: settle, then the next."""
        if event is not self._in_flight:
            return
        self._in_flight = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        # A letter an input typed, a paste, a cursor motion: nothing opens or moves focus.
        typed = isinstance(event, events.Key) and event._stop_propagation and event.is_printable
        motion = isinstance(event, events.Key) and event.key in MOTION_KEYS
        self._careful = not (typed or motion or isinstance(event, events.Paste))
        self._settling = True
        self._settle_until = time.monotonic() + SETTLE_S
        self._settle_round += 1
        # A last look at the deadline, whatever happens to the widgets looked at meanwhile.
        loop = asyncio.get_running_loop()
        loop.call_later(SETTLE_S + POLL_S, self._settled, self._settle_round)
        # What the key queued in the app itself (a `focus()`, a `call_later`) runs before
        # the next key in any case: that key goes through the app's queue too.
        if self._careful:
            # Not a worker the key started, though: its first step (often pushing a
            # confirmation) is due on the loop, and the app's task would take the next key
            # from its queue before it. One turn later, that step has run.
            loop.call_soon(self._settled, self._settle_round)
        else:
            self._settled(self._settle_round)

    def _settled(self, settle_round: int) -> None:
        if not self._settling or settle_round != self._settle_round:
            return  # this key has settled already
        wait = self._ready()
        if wait is True:
            self._settling = False
            self._next()
        elif isinstance(wait, MessagePump) and wait.call_later(self._settled, settle_round):
            pass  # looks again once that widget has handled what is in its queue now
        else:
            # The event loop's own timer: cheap, and other tasks run in between.
            asyncio.get_running_loop().call_later(POLL_S, self._settled, settle_round)

    def _ready(self) -> bool | MessagePump:
        """Whether what the last key started shows now (or has taken too long).

        Returns:
            True, False (look again soon), or a widget still busy with what the key set off.
        """
        screen = self._screen()
        if screen is None:
            return True  # the app is closing (its screens gone): nothing left to wait for
        now = time.monotonic()
        focused = self.app.focused
        if self._hold is not None:
            target = self._target()
            if target is not None and (focused is target or _left_behind(target, screen)):
                self._hold = None
            elif now < self._hold_until:
                return False
            else:
                self._hold = None  # never swallow keys: they go where focus is now
        if now >= self._settle_until:
            return True
        # Messages the key set off along the focus chain (an input's Submitted, a dismissed
        # dialog's result handed to the screen below) are handled before the next key. Not
        # the app's own queue: timers and workers keep it busy, and the keys wait in it.
        chain = (screen, *(focused.ancestors_with_self if focused is not None else ()))
        if isinstance(screen, CommandPalette):
            # `enter` in the palette selects through its list (not focused): the key after it
            # waits until the command has been chosen, closed the palette and run.
            chain = (*chain, *screen.walk_children(with_self=False))
        for node in chain if self._careful else ():
            if node is self.app:
                continue
            if not node._message_queue.empty() or node._next_callbacks:
                return node
        if self._sent_to is None or screen is not self._sent_to():
            # A new screen: wait until it is mounted and has taken focus (if it can).
            if not screen.is_mounted:
                return False
            if focused is None and screen.focus_chain:
                return False
        return True

    def _target(self) -> Widget | None:
        hold = self._hold
        if hold is None or isinstance(hold, weakref.ref):
            return None if hold is None else hold()
        try:
            return hold()
        except Exception:  # not composed yet (NoMatches): keep waiting
            return None

    def _next(self) -> None:
        if not self._waiting or self._in_flight is not None:
            return
        event = self._waiting.popleft()
        let_through: events.Key | events.Paste
        if isinstance(event, events.Key):
            let_through = GatedKey(event.key, event.character, self)
        else:
            let_through = event
        self._in_flight = let_through
        screen = self._screen()
        self._sent_to = weakref.ref(screen) if screen is not None else None
        self._watchdog = asyncio.get_running_loop().call_later(
            IN_FLIGHT_S, self.finished, let_through
        )
        # Through the app's queue, so it is dispatched in the app's own task.
        self.app.post_message(let_through)


def hold_keys_for(app: App, target: Widget | Callable[[], Widget | None]) -> None:
    """The keys after this one go to `target`, once it has focus (an input that is opening).

    Args:
        app: The app (a `TursotuiApp`; any other app ignores the hold).
        target: The input, or a function returning it (None while it does not exist yet).
    """
    gate = getattr(app, "key_gate", None)
    if isinstance(gate, KeyGate):
        gate.hold(target)


def _left_behind(target: Widget, shown: Screen[object]) -> bool:
    """Whether `target` is on a screen other than the one shown: a hold its screen left when
    another screen came up without a key (a post opened, a dialog a worker raised). Keys
    then go where focus is, never to a screen the user cannot see."""
    try:
        return target.screen is not shown
    except NoScreen:  # not mounted yet: still opening
        return False


__all__ = ["KeyGate", "hold_keys_for"]
