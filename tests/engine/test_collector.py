"""Objects kept out of the collector's passes: a cycle that dies while kept out is not
found by a pass, and is collected once what is kept out has grown by a quarter."""

from __future__ import annotations

import gc
import weakref

from console.engine import collector


class Node:
    """One half of a reference cycle."""

    other: Node


def _cycle() -> Node:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a


def test_a_cycle_that_dies_kept_out_is_collected_once_the_kept_grow_by_a_quarter() -> None:
    collector.let_back()
    try:
        collector.keep_out_of_passes()
        kept = gc.get_freeze_count()
        first = _cycle()
        dead = weakref.ref(first)
        collector.keep_out_of_passes()  # the cycle is kept out, then becomes garbage
        del first
        gc.collect()
        assert dead() is not None  # a pass does not walk what is kept out

        alive = [_cycle() for _ in range(kept // 4)]  # two objects each, at least
        collector.keep_out_of_passes()  # kept out: now more than a quarter more
        assert dead() is not None
        collector.keep_out_of_passes()  # let back and collected once
        assert dead() is None
        assert all(node.other.other is node for node in alive)  # the living stay
        assert gc.get_freeze_count() >= len(alive) * 2
    finally:
        collector.let_back()
    assert gc.get_freeze_count() == 0
