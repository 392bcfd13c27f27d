"""The cyclic garbage collector paused around work that builds thousands of values at once.

Deriving 10,000 proposals, tallying their views or turning them into a JSON document
allocates hundreds of thousands of objects that only reference each other one way
(frozen acts, proposals, tallies, dicts and lists of plain values): reference counting
frees all of it, and the collector's passes find nothing to collect. Yet each pass walks
every young object, and the long-lived ones once they have grown by a quarter: with
10,000 open proposals, a fifth of the derivation's CPU, and a full pass of ~70 ms.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector is left as it was found, so a
    caller that had it off (the console's start, which turns it on after its first frame)
    keeps it off. Another thread's allocations are not collected meanwhile either: the
    block is short and the collector runs again after it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# How many objects were kept out after the last collection (0: none kept out).
_kept_after_collecting = 0


def keep_out_of_passes() -> None:
    """Leave every object alive now out of the collector's future passes (`gc.freeze`).

    A long-running process that holds a large, long-lived heap (the console's modules,
    widgets and a kept list of 10,000 open proposals) pays for it in every full pass,
    which walks all of it to find nothing: 80-300 ms on the event loop, some 30 s apart,
    wherever the allocation that triggers it happens to be (a key's redraw). Objects
    kept out are still freed by reference counting when dropped; a cycle among them
    that becomes garbage is not found while kept out. So once the objects kept out
    have grown by a quarter since the last collection, they are let back and collected
    once (one full pass, instead of one every ~30 s), which bounds what such cycles hold."""
    global _kept_after_collecting
    grown = gc.get_freeze_count() > _kept_after_collecting * 5 // 4
    if _kept_after_collecting and grown:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
    if not _kept_after_collecting or grown:
        _kept_after_collecting = gc.get_freeze_count()


def let_back() -> None:
    """Undo `keep_out_of_passes`: the next full pass walks those objects again."""
    global _kept_after_collecting
    _kept_after_collecting = 0
    gc.unfreeze()
