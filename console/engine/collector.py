"""The cyclic garbage collector paused around work that builds thousands of values at once.

Deriving 10,000 proposals, tallying their views or turning them into a JSON document
allocates hundreds of thousands of objects that only reference each other one way
(frozen acts, proposals, tallies, dicts and lists of plain values): reference counting
frees all of it, and the collector's passes find nothing to collect. Yet each pass walks
every young object, and the long-lived ones once they have grown by a quarter, which with
a long history was a fifth of `quorum approvals --json` and one pause of ~70 ms.
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
