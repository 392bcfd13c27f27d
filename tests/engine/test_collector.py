"""Objects kept out of the collector's passes: a cycle that dies while kept out is not
found by a pass, and is collected once what is kept out has grown by a quarter; the open
list derived again after a change starts no pass."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.domain.model import TargetRef
from console.engine import collector
from console.engine.actions import Actions
from providers.sandbox import PAUSED_AT
from tests.app_support import sandbox_session

API_PROD = TargetRef("sim-k8s", "api", "production", "deployment/api")
# Enough open proposals that what their derivation keeps is several times the
# collector's first threshold (700 objects); fewer allocations after it than that.
OPEN = 300
NEXT_ALLOCATIONS = 200


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


async def test_no_pass_runs_while_the_open_list_is_derived_again_after_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console derives its open list again in a worker whenever the file changes. A
    collector pass there, or one started by the first allocation after it (what it built
    is young), holds the interpreter lock while it walks every derived proposal: the
    loop waits. In a process that keeps its objects out of the passes, the derivation
    starts none, and leaves nothing young behind for the next allocation's pass."""
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    session = sandbox_session(tmp_path / "data")
    bob = Actions(session, identity=Identity("bob", "root", via_seam=True), clock=lambda: PAUSED_AT)
    console = Actions(session, clock=lambda: PAUSED_AT)
    passes: list[int] = []

    def started(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    try:
        for i in range(OPEN):
            await bob.propose(Kind.DEPLOY, API_PROD, revision=f"v{i}")
        assert len(console.open_until()[0]) == OPEN
        collector.keep_out_of_passes()  # as the console does after its first read
        await bob.propose(Kind.DEPLOY, API_PROD, revision="v-new")  # the file changes
        gc.collect()  # no young object left: only what follows can start a pass
        gc.callbacks.append(started)
        try:
            opened, _ = console.open_until()
            after = [[] for _ in range(NEXT_ALLOCATIONS)]  # what the loop allocates next
        finally:
            gc.callbacks.remove(started)
        assert len(opened) == OPEN + 1 and len(after) == NEXT_ALLOCATIONS
        assert passes == []
    finally:
        collector.let_back()
        bob.close()
        console.close()
    assert gc.get_freeze_count() == 0
