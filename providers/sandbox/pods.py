"""The replicas behind a target, named the way each platform names them.

Names derive from the revision and the moment its rollout began, so a deploy or a
restart brings new pod names (as a new ReplicaSet or ECS deployment would) while
every process computes the same names for the same instant.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.sandbox.catalog import ECS, STATIC
from providers.sandbox.noise import alnum, hexdigits, key, mix
from providers.sandbox.timeline import TargetState, Timeline

# CloudFront edge locations a static site's requests are served from.
EDGES: tuple[str, ...] = ("IAD89-C1", "FRA56-P3", "NRT57-C2", "GRU3-C1", "LHR61-P1", "SIN2-P2")


@dataclass(frozen=True)
class Replica:
    name: str
    ready: bool
    started: float


def names(timeline: Timeline, revision: str, rollout_at: float, count: int) -> list[str]:
    """The first `count` replica names of one rollout of `revision`."""
    spec = timeline.spec
    gen = key(timeline.key, revision, repr(rollout_at))
    if spec.platform == ECS:
        return [f"{spec.name}/{hexdigits(mix(gen + i), 12)}" for i in range(count)]
    template = alnum(gen, 10)
    return [f"{spec.name}-{template}-{alnum(mix(gen + i + 1), 5)}" for i in range(count)]


def edges() -> list[str]:
    return [f"edge-{edge}" for edge in EDGES]


def replicas(timeline: Timeline, state: TargetState) -> list[Replica]:
    """What runs at the instant `state` describes: during a rollout, new and old side by side.

    A static site has no replicas of its own; it is files behind a CDN.
    """
    if timeline.spec.platform == STATIC:
        return []
    if state.replacing:
        before, _, old_revision = timeline.rollout_at(state.rollout_at - 1e-3)
        starting = min(state.desired, state.ready + 1)
        fresh = names(timeline, state.revision, state.rollout_at, starting)
        old = names(timeline, old_revision, before, state.desired - state.ready)
        out = [Replica(n, i < state.ready, state.rollout_at) for i, n in enumerate(fresh)]
        return out + [Replica(n, True, before) for n in old]
    current = names(timeline, state.revision, state.rollout_at, state.desired)
    return [Replica(n, i < state.ready, state.rollout_at) for i, n in enumerate(current)]
