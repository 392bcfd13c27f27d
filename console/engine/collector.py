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
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Blocks inside `paused` now, in any thread, and whether the collector was on before the
# first of them: it is turned on again when the last one ends, not the first. The lock
# also serialises `keep_out_of_passes`, which the loop and the workers both call.
_lock = threading.RLock()
_paused_blocks = 0
_was_on = False


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector is left as it was found, so a
    caller that had it off (the console's start, which turns it on after its first frame)
    keeps it off. Another thread's allocations are not collected meanwhile either: the
    block is short and the collector runs again after the last block in any thread ends.

    What the block built and keeps is young to the collector: the first allocation after
    it, in any thread, started a pass walking all of it (10,000 derived proposals: a
    10-25 ms pass holding the interpreter lock, so the console's loop waited). So in a
    process that keeps its long-lived objects out of the passes (the console), what the
    block keeps is kept out with them as it ends (`keep_out_of_passes`)."""
    global _paused_blocks, _was_on
    with _lock:
        if not _paused_blocks:
            _was_on = gc.isenabled()
            gc.disable()
        _paused_blocks += 1
    try:
        yield
    finally:
        with _lock:
            _paused_blocks -= 1
            if not _paused_blocks:
                if _kept_after_collecting:
                    keep_out_of_passes()
                if _was_on:
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
    with _lock:
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
    with _lock:
        _kept_after_collecting = 0
        gc.unfreeze()
