"""When the garbage collector may walk the whole heap.

A full (generation 2) collection walks every object the process holds: with Textual loaded
that is 60-150 ms on a 2-core machine, a frozen screen at whatever moment the collector's
counts say (B4, B6). What lives for the whole session (modules, Textual, the app and its
first screen) is set aside once the app is up, and the console sets aside what exists when a
query starts, so a collection walks only what is new: the rows of a result, say. Leaving
the console releases everything (its screen dies), until the next query sets aside again.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def set_aside() -> None:
    """Collect the young garbage, then freeze everything that exists (collections skip it)."""
    gc.collect(1)
    gc.freeze()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No collection while a block makes thousands of objects that all live on (a registry's
    tenants, a list's rows): Python would otherwise look for cycles every 700 of them. As it
    was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def release() -> None:
    """Unfreeze everything: what was set aside may become garbage (a closing console).

    Its garbage is then collected by the next full collection. Freezing again right away
    would freeze the closing screen with the rest, for good; what lives on is set aside
    again at the next query.
    """
    gc.unfreeze()


__all__ = ["paused", "release", "set_aside"]
