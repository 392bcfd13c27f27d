"""`quorum describe SERVICE --env ENV [--json]`: one target's pods and recent events.

The command-line twin of the console's `d`: what a script or a person over ssh needs
to see why a target is not ready (a crash-looping pod, a failing image pull) without
opening the console.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from datetime import datetime

from console.cli.commands.status import target_json
from console.cli.output import print_json, print_table
from console.domain.inert import neutralise
from console.domain.instants import iso_utc
from console.domain.model import EventInfo, PodInfo, TargetDetails
from console.domain.sites import Platform, Site
from console.engine import reads
from console.engine.session import open_session
from console.engine.targets import resolve_row


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "describe", parents=[common], help="a target's pods and recent events, then exit"
    )
    parser.add_argument("service")
    parser.add_argument("--env", required=True, metavar="ENV", help="environment")
    parser.add_argument(
        "--provider", default="", metavar="NAME", help="the provider, where several run SERVICE"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    parser.set_defaults(func=run)


def pod_json(pod: PodInfo) -> dict[str, object]:
    return {
        "name": pod.name,
        "phase": pod.phase,
        "ready": pod.ready,
        "restarts": pod.restarts,
        "reason": pod.reason,
        "containers": list(pod.containers),
        "node": pod.node,
        "started_at": iso_utc(pod.started_at),
    }


def event_json(event: EventInfo) -> dict[str, object]:
    return {
        "at": iso_utc(event.at),
        "type": event.type,
        "reason": event.reason,
        "message": event.message,
        "count": event.count,
        "source": event.source,
    }


def details_json(details: TargetDetails, site: Site | None = None) -> dict[str, object]:
    """The `quorum describe --json` document; the README documents these keys."""
    return {
        "target": target_json(details.target, site),
        "pods": [pod_json(p) for p in details.pods],
        "events": [event_json(e) for e in details.events],
    }


async def _describe(args: argparse.Namespace) -> tuple[TargetDetails, Site | None]:
    """The target's details; for a site (as the Services pane folds it), headed by the
    site's row, as the console's `d` shows it, with its front's origins below."""
    session = open_session(args, postgres_ready=True)  # providers only, no ledger
    try:
        target, site = await resolve_row(session, args.service, args.env, args.provider, site=True)
        details = await reads.details(session, target.ref)
    finally:
        await session.close()
    if site is not None:
        details = replace(details, target=site.row())
    return details, site


def _when(value: datetime | None) -> str:
    return iso_utc(value) or "-"


def print_text(details: TargetDetails, site: Site | None = None) -> None:
    t = details.target
    line = (
        f"{t.ref.service}@{t.ref.environment}  {t.ref.provider}  {t.ref.target}  {t.revision}"
        f"  {t.status.value}  {t.ready}/{t.desired}"
    )
    print(neutralise(line + (f"  {t.message}" if t.message else "")))
    print()
    if site is not None:
        print_table(
            ["platform", "service", "revision", "status", "front", "updated"],
            [
                [
                    p.target.ref.provider,
                    p.target.ref.service,
                    p.target.revision,
                    p.target.status.value,
                    _front(p),
                    _when(p.target.updated_at),
                ]
                for p in site.platforms
            ],
        )
        print()
    print_table(
        ["pod", "phase", "ready", "restarts", "reason", "node", "started"],
        [
            [
                p.name,
                p.phase,
                "yes" if p.ready else "no",
                p.restarts,
                p.reason or "-",
                p.node or "-",
                _when(p.started_at),
            ]
            for p in details.pods
        ],
    )
    print()
    print_table(
        ["at", "type", "reason", "message", "count", "source"],
        [
            [_when(e.at), e.type, e.reason, e.message, e.count, e.source or "-"]
            for e in details.events
        ],
    )


def _front(platform: Platform) -> str:
    """How the front sees the platform: `serving`, `standby`, and why it would not serve."""
    route = platform.route
    words = ["serving" if route.serving else "standby"]
    if not route.enabled:
        words.append("disabled")
    elif route.healthy is False:
        words.append("unhealthy")
    return " ".join(words) + (f" ({route.pool})" if route.pool else "")


def run(args: argparse.Namespace) -> int:
    details, site = asyncio.run(_describe(args))
    if args.json:
        print_json(details_json(details, site))
    else:
        print_text(details, site)
    return 0
