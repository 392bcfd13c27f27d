"""Finds the provider target that serves a (service, environment) pair.

Commands name targets the way people do (`web --env production`); providers name
them their own way. One bounded snapshot of every provider answers which serves it.
"""

from __future__ import annotations

from console.domain.errors import UsageError
from console.domain.model import Target
from console.domain.sites import Site, fold_sites
from console.domain.suggest import did_you_mean, listing
from console.engine.reads import ReadFailed, snapshots
from console.engine.session import Session
from providers.base import Capability


async def resolve_target(
    session: Session,
    service: str,
    environment: str,
    provider: str = "",
    needs: Capability | None = None,
) -> Target:
    """The target serving `service` in `environment`, from a fresh snapshot of each
    provider; `provider` names which one where several do, and where only one of them
    can do what the command `needs` (logs, a rollback), that one is meant.

    Providers that fail or time out are skipped, so one unreachable backend does not
    hide a target served by another; an unknown pair is a usage error naming what
    exists, and so is a pair several providers run with no `provider` to choose: a
    change made on whichever answered first could be made on the wrong platform.
    """
    target, _ = await resolve_row(session, service, environment, provider, needs=needs)
    return target


async def resolve_row(
    session: Session,
    service: str,
    environment: str,
    provider: str = "",
    *,
    site: bool = False,
    needs: Capability | None = None,
) -> tuple[Target, Site | None]:
    """As `resolve_target`, with the site the target's row stands for (as the Services
    pane folds it). With `site`, a pair several providers run that are one site's front
    and platforms is that site, as the console shows it on one row: for reading it."""
    environments: dict[str, set[str]] = {}  # service -> the environments it runs in
    unread: list[str] = []
    targets: list[Target] = []
    for name, answer in (await snapshots(session)).items():
        if isinstance(answer, ReadFailed):
            unread.append(name)
            continue
        targets.extend(answer.targets)
        for target in answer.targets:
            environments.setdefault(target.ref.service, set()).add(target.ref.environment)
    pair = [t for t in targets if (t.ref.service, t.ref.environment) == (service, environment)]
    sites = {s.front.ref.key: s for _, s in fold_sites(targets) if s is not None}
    found = [t for t in pair if t.ref.provider == provider] if provider else pair
    if pair and not found:
        raise UsageError(
            f"provider {provider!r} does not serve {service}@{environment}"
            f" (it runs on: {listing({t.ref.provider for t in pair})})"
        )
    # Where a watcher (a health block, the sandbox's monitoring) has a row of the same
    # pair, the provider that runs the service is meant; watchers alone change nothing,
    # so any of them will do.
    runs = [t for t in found if _runs(session, t.ref.provider)] or found[:1]
    if needs is not None:  # none able: the one provider asked says it cannot
        runs = [t for t in runs if _has(session, t.ref.provider, needs)] or runs
    if len(runs) > 1 and site:
        keys = {t.ref.key for t in runs}
        whole = [s for key, s in sites.items() if key in keys and keys <= set(s.keys)]
        if whole:
            return whole[0].front, whole[0]
    if len(runs) > 1:
        raise UsageError(
            f"{service}@{environment} runs on several providers"
            f" ({listing({t.ref.provider for t in runs})}): name one with --provider"
        )
    if runs:
        return runs[0], sites.get(runs[0].ref.key)
    raise UsageError(unknown_target(service, environment, environments, unread))


def _has(session: Session, provider: str, needs: Capability) -> bool:
    """Whether `provider` is built to do what `needs` names (read-only or not)."""
    built = session.providers.get(provider)
    return built is not None and bool(built.capabilities & needs)


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
