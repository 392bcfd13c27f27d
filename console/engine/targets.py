"""Finds the provider target that serves a (service, environment) pair.

Commands name targets the way people do (`web --env production`); providers name
them their own way. One snapshot of every provider answers which serves it.
"""

from __future__ import annotations

import asyncio

from console.domain.errors import UsageError
from console.domain.model import Target
from console.engine.session import Session


async def resolve_target(session: Session, service: str, environment: str) -> Target:
    """The target serving `service` in `environment`, from a fresh snapshot of each provider.

    Providers that fail are skipped, so one unreachable backend does not hide a
    target served by another; an unknown pair is a usage error naming what exists.
    """
    results = await asyncio.gather(
        *(p.snapshot() for p in session.providers.values()), return_exceptions=True
    )
    known: set[str] = set()
    for result in results:
        if isinstance(result, BaseException):
            continue
        for target in result.targets:
            known.add(f"{target.ref.service}@{target.ref.environment}")
            if target.ref.service == service and target.ref.environment == environment:
                return target
    hint = ", ".join(sorted(known)[:12]) or "no targets could be read"
    raise UsageError(f"no service {service!r} in environment {environment!r} (known: {hint})")
