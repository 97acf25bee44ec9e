"""Asking many tenants at once, a bounded number in flight: the one fan-out helper.

The fleet overview, the health probes, title search, fleet migrations and backups all
ask many tenants the same question. They all go through `bounded`, so that the limit,
early exit and cancellation behave the same everywhere: leaving early cancels what is
still running, and nothing is left behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

SLICE_S = 0.002
"""Work a long loop over thousands of tenants does on the event loop before it lets others
run: a key typed meanwhile waits about this long per step it takes (it takes several)."""


KEY_WAIT_S = 0.05
"""How long a long loop holds back at most, at one turn, while a key is on its way."""

_keys_waiting: Callable[[], bool] | None = None


def keys_first(check: Callable[[], bool] | None) -> None:
    """Tell `LoopShare.turn` how to know a key is on its way (the app's key gate).

    A key takes several turns of the loop to reach the frame that shows it; with three or
    four long loops each taking its slice at every turn (probes, flags, the filter's
    text of 10,000 tenants), a key waited 40-60 ms. They hold back while it travels.
    """
    global _keys_waiting
    _keys_waiting = check


class LoopShare:
    """Tells a long loop on the event loop when to let the loop turn: `if share.due():
    await asyncio.sleep(0)`. By time, not by count: ten thousand local tenants are quick
    to look at, remote ones slower, and a busy machine slower still.
    """

    def __init__(self, slice_s: float = SLICE_S) -> None:
        self._slice = slice_s
        self._until = time.perf_counter() + slice_s

    def due(self) -> bool:
        """True once a slice of work is done (the next slice starts now)."""
        now = time.perf_counter()
        if now < self._until:
            return False
        self._until = now + self._slice
        return True

    async def turn(self) -> None:
        """Let the loop turn (after `due`); while a key is on its way, let it through first
        (at most KEY_WAIT_S), so it does not wait a slice of this loop at each of its steps."""
        await asyncio.sleep(0)
        check = _keys_waiting
        if check is None or not check():
            return
        until = time.perf_counter() + KEY_WAIT_S
        while check() and time.perf_counter() < until:
            await asyncio.sleep(0.001)
        self._until = time.perf_counter() + self._slice


async def bounded(
    items: Iterable[T],
    ask: Callable[[T], Awaitable[R]],
    concurrency: int,
    *,
    gate: Callable[[T], asyncio.Semaphore] | None = None,
) -> AsyncIterator[R]:
    """Run `ask(item)` for every item, at most `concurrency` at once; yield answers as they come.

    Leaving the loop early cancels what is still running. `ask` must not raise for
    an item's own failures (turn them into an answer); anything it raises ends the loop.

    Args:
        items: What to ask about.
        ask: The question, for one item.
        concurrency: Most questions in flight.
        gate: The semaphore an item waits on, where items are limited apart (local and
            remote tenants) or a limit is shared with other calls; it replaces the
            `concurrency` gate.
    """
    todo = list(items)
    if not todo:
        return
    shared = asyncio.Semaphore(max(1, concurrency))
    answers: asyncio.Queue[tuple[R | None, BaseException | None]] = asyncio.Queue()

    async def one(item: T) -> None:
        async with gate(item) if gate is not None else shared:
            try:
                answers.put_nowait((await ask(item), None))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                answers.put_nowait((None, error))

    tasks = [asyncio.create_task(one(item)) for item in todo]
    try:
        for _ in todo:
            answer, error = await answers.get()
            if error is not None:
                raise error
            yield cast(R, answer)  # no error: `ask` answered, so this is its R
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def for_each(
    items: Iterable[T],
    ask: Callable[[T], Awaitable[R]],
    concurrency: int,
    *,
    gate: Callable[[T], asyncio.Semaphore] | None = None,
) -> list[R]:
    """`bounded`, waited for to the end: every answer, in the order they came."""
    return [answer async for answer in bounded(items, ask, concurrency, gate=gate)]


async def merged(*streams: AsyncIterator[T]) -> AsyncIterator[T]:
    """The items of several async iterators as each comes; leaving early cancels them all."""
    answers: asyncio.Queue[tuple[T | None, BaseException | None, bool]] = asyncio.Queue()

    async def drain(stream: AsyncIterator[T]) -> None:
        try:
            async for item in stream:
                answers.put_nowait((item, None, False))
        except Exception as error:
            answers.put_nowait((None, error, False))
        answers.put_nowait((None, None, True))

    tasks = [asyncio.create_task(drain(stream)) for stream in streams]
    try:
        running = len(tasks)
        while running:
            item, error, ended = await answers.get()
            if error is not None:
                raise error
            if ended:
                running -= 1
            else:
                yield cast(T, item)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


__all__ = ["SLICE_S", "LoopShare", "bounded", "for_each", "merged"]
