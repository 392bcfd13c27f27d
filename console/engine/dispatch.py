"""Which capability a change needs and which provider method carries it out: one table.

Every change kind appears once here. `console.engine.actions` looks up the capability
to check and the method to call; the command line maps its verbs onto the same kinds;
`anyone` marks the changes the team's process lets anyone make without a vote (the
emergency brakes: rollback and pause).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from console.domain.consensus import Kind
from console.domain.model import TargetRef
from providers.base import Capability, Provider

Call = Callable[[Provider, TargetRef, str, "int | None"], Awaitable[str]]


@dataclass(frozen=True)
class Change:
    """One change kind: what it needs of the provider and how the provider does it."""

    kind: Kind
    capability: Capability
    call: Call
    anyone: bool = False  # no vote anywhere; the team is notified


def _scale(
    provider: Provider, ref: TargetRef, revision: str, replicas: int | None
) -> Awaitable[str]:
    assert replicas is not None  # checked when the scale was asked for
    return provider.scale(ref, replicas)


CHANGES: dict[Kind, Change] = {
    c.kind: c
    for c in (
        Change(Kind.DEPLOY, Capability.DEPLOY, lambda p, ref, rev, n: p.deploy(ref, rev)),
        Change(
            Kind.ROLLBACK,
            Capability.ROLLBACK,
            lambda p, ref, rev, n: p.rollback(ref, to=rev or None),
            anyone=True,
        ),
        Change(Kind.RESTART, Capability.RESTART, lambda p, ref, rev, n: p.restart(ref)),
        Change(Kind.SCALE, Capability.SCALE, _scale),
        Change(Kind.PAUSE, Capability.PAUSE, lambda p, ref, rev, n: p.pause(ref), anyone=True),
        Change(Kind.RESUME, Capability.PAUSE, lambda p, ref, rev, n: p.resume(ref)),
    )
}


def capability_of(kind: Kind) -> Capability:
    """The provider capability a change of `kind` needs (resume shares pause's)."""
    return CHANGES[kind].capability
