"""Finds the provider target that serves a (service, environment) pair.

Commands name targets the way people do (`web --env production`); providers name
them their own way. One bounded snapshot of every provider answers which serves it.
"""

from __future__ import annotations

from console.domain.errors import UsageError
from console.domain.model import Target
from console.domain.suggest import did_you_mean, listing
from console.engine.reads import ReadFailed, snapshots
from console.engine.session import Session
from providers.base import Capability


async def resolve_target(session: Session, service: str, environment: str) -> Target:
    """The target serving `service` in `environment`, from a fresh snapshot of each provider.

    Providers that fail or time out are skipped, so one unreachable backend does not
    hide a target served by another; an unknown pair is a usage error naming what exists.
    """
    environments: dict[str, set[str]] = {}  # service -> the environments it runs in
    unread: list[str] = []
    found: list[Target] = []
    for name, answer in (await snapshots(session)).items():
        if isinstance(answer, ReadFailed):
            unread.append(name)
            continue
        for target in answer.targets:
            environments.setdefault(target.ref.service, set()).add(target.ref.environment)
            if target.ref.service == service and target.ref.environment == environment:
                found.append(target)
    # Where a watcher (a health block, the sandbox's monitoring) has a row of the same
    # pair, the provider that runs the service is meant, whichever answered first.
    runs = [t for t in found if _runs(session, t.ref.provider)]
    if runs or found:
        return (runs or found)[0]
    raise UsageError(unknown_target(service, environment, environments, unread))


def _runs(session: Session, provider: str) -> bool:
    """Whether `provider` runs its targets (changes them or has their logs), not only
    watches them."""
    built = session.providers.get(provider)
    return built is not None and built.can(
        Capability.DEPLOY | Capability.ROLLBACK | Capability.RESTART | Capability.LOGS
    )


def unknown_target(
    service: str, environment: str, environments: dict[str, set[str]], unread: list[str]
) -> str:
    """The one line for a pair nobody serves: the near name, and what exists instead.

    An unknown service is answered with the services; a known one with the
    environments it runs in, so `--env prod` shows `production` among them.
    """
    line = f"no service {service!r} in environment {environment!r}"
    if not environments:
        line += "; no targets could be read"
    elif service not in environments:
        line += did_you_mean(service, environments)
        line += f" (services: {listing(environments)})"
    else:
        line += did_you_mean(environment, environments[service])
        line += f" ({service} runs in: {listing(environments[service])})"
    if unread:
        line += f"; providers that did not answer: {listing(unread)}"
    return line
