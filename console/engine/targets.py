"""Finds the provider target that serves a (service, environment) pair.

Commands name targets the way people do (`web --env production`); providers name
them their own way. One bounded snapshot of every provider answers which serves it.
"""

from __future__ import annotations

from console.domain.errors import UsageError
from console.domain.model import Target
from console.engine.reads import ReadFailed, snapshots
from console.engine.session import Session


async def resolve_target(session: Session, service: str, environment: str) -> Target:
    """The target serving `service` in `environment`, from a fresh snapshot of each provider.

    Providers that fail or time out are skipped, so one unreachable backend does not
    hide a target served by another; an unknown pair is a usage error naming what exists.
    """
    known: set[str] = set()
    for answer in (await snapshots(session)).values():
        if isinstance(answer, ReadFailed):
            continue
        for target in answer.targets:
            known.add(f"{target.ref.service}@{target.ref.environment}")
            if target.ref.service == service and target.ref.environment == environment:
                return target
    hint = ", ".join(sorted(known)[:12]) or "no targets could be read"
    raise UsageError(f"no service {service!r} in environment {environment!r} (known: {hint})")
