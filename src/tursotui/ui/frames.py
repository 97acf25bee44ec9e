"""One frame per answer: the in-between state of a quick query is never painted.

Textual paints at most one frame per 1/60 s. A key that starts a query usually paints
twice: at once, the screen cleared or `running…`, and when the rows arrive a few ms
later, the rows; that second frame must wait for the next 1/60 s slot, so the rows show
17 ms or more after the key although the query took 2. Holding the frames from the key
until the answer is shown (or `FRAME_S` at most, so a slow query still shows that it is
running) paints the rows in the first frame, as soon as they are there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

FRAME_S = 0.05
"""How long frames are held at most: an answer within it still reads as instant, and a
slower one shows that it runs. Not one frame (1/60 s): a hold that ends just before the
answer paints the in-between state, and the answer then waits for the next frame's slot."""


class FrameHold:
    """Frames held from now until `release()` or `at_most` seconds, whichever comes first.

    `on_expire` is called when `at_most` passes first, just before the frames go out again
    (to make the in-between state fit to be seen).
    """

    def __init__(
        self, app: App, at_most: float, on_expire: Callable[[], object] | None = None
    ) -> None:
        self._app = app
        self._batch: contextlib.AbstractContextManager[None] | None = app.batch_update()
        self._batch.__enter__()
        self._on_expire = on_expire
        self._deadline = asyncio.get_running_loop().call_later(at_most, self._expire)

    def _expire(self) -> None:
        if self._batch is not None and self._on_expire is not None:
            with contextlib.suppress(Exception):  # the screen is gone: nothing to show
                self._on_expire()
        self.release()

    @property
    def held(self) -> bool:
        return self._batch is not None

    def release(self) -> None:
        """Paint again now: what changed meanwhile goes out in the next frame."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        self._deadline.cancel()
        batch.__exit__(None, None, None)
        # The screen paints what is dirty once it sees itself idle: tell it now.
        with contextlib.suppress(Exception):  # no screen (the app is closing)
            self._app.screen.check_idle()


def hold_frames(
    app: App, at_most: float | None = None, on_expire: Callable[[], object] | None = None
) -> FrameHold:
    """Hold the app's frames until the returned hold is released, `at_most` seconds
    (default `FRAME_S`); `on_expire` is called if that time passes first."""
    return FrameHold(app, FRAME_S if at_most is None else at_most, on_expire)


__all__ = ["FRAME_S", "FrameHold", "hold_frames"]
