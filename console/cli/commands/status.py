"""`quorum status [--json]`: one snapshot of every target, then exit.

Exits 1 when any provider failed or is broken, after printing what the others
answered, so a script notices a partial picture without losing it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from console.cli.output import print_json, print_table
from console.domain import exitcodes
from console.domain.inert import neutralise
from console.domain.instants import iso_utc
from console.domain.model import Target
from console.domain.sites import Platform, Site
from console.engine.hub import Hub, ProviderState, TargetRow
from console.engine.session import open_session


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "status", parents=[common], help="one snapshot of every target, then exit"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.set_defaults(func=run)


def platform_json(platform: Platform) -> dict[str, object]:
    """One platform behind a site: its own row's keys and how the front sees it."""
    t, route = platform.target, platform.route
    return {
        "provider": t.ref.provider,
        "service": t.ref.service,
        "target": t.ref.target,
        "revision": t.revision,
        "status": t.status.value,
        "updated_at": iso_utc(t.updated_at),
        "serving": route.serving,
        "enabled": route.enabled,
        "healthy": route.healthy,
        "origin": route.host,
        "pool": route.pool,
    }


def target_json(t: Target, site: Site | None = None) -> dict[str, object]:
    """The keys of one `quorum status --json` element that describe the target itself;
    `quorum describe --json` shows the same under "target". A site's row keeps its
    front's keys, names the platform that serves it and lists every platform (the
    serving one first); any other row has an empty `platforms` list."""
    return {
        "service": t.ref.service,
        "environment": t.ref.environment,
        "provider": t.ref.provider,
        "target": t.ref.target,
        "revision": t.revision,
        "status": t.status.value,
        "ready": t.ready,
        "desired": t.desired,
        "updated_at": iso_utc(t.updated_at),
        "serving": site.serving if site else "",
        "platforms": [platform_json(p) for p in site.platforms] if site else [],
    }


def row_json(row: TargetRow) -> dict[str, object]:
    """One element of `quorum status --json`; the README documents these keys."""
    return {
        **target_json(row.target, row.site),
        "health": row.health.value,
        "alarms": [
            {"name": a.name, "state": a.state, "reason": a.reason} for a in row.target.alarms
        ],
        "alerts": [
            {"id": a.id, "name": a.name, "severity": a.severity, "summary": a.summary}
            for a in row.alerts
        ],
        "canary": None
        if row.canary is None
        else {
            "revision": row.canary.canary.revision,
            "share": row.canary.canary.share,
            "error_rate": row.canary.canary.error_rate,
            "verdict": row.canary.verdict.value,
        },
        "stale": row.stale,
        "error": row.error,
    }


async def _collect(
    args: argparse.Namespace,
) -> tuple[list[TargetRow], list[ProviderState], list[ProviderState]]:
    session = open_session(args, postgres_ready=True)  # providers only, no ledger
    hub = Hub(session)
    try:
        await hub.refresh_all()
    finally:
        await session.close()
    rows = sorted(hub.rows(), key=lambda r: (r.target.ref.service, r.target.ref.environment))
    states = list(hub.states.values())
    noted = [s for s in states if s.snapshot is not None and s.snapshot.notes]
    return rows, [s for s in states if s.error], noted


def run(args: argparse.Namespace) -> int:
    rows, failing, noted = asyncio.run(_collect(args))
    if args.json:
        print_json([row_json(r) for r in rows])
    else:
        print_table(
            ["service", "env", "provider", "revision", "status", "ready", "health", "updated"],
            [
                [
                    r.target.ref.service,
                    r.target.ref.environment,
                    r.site.label() if r.site else r.target.ref.provider,
                    r.target.revision,
                    r.target.status.value + (" (stale)" if r.stale else ""),
                    f"{r.target.ready}/{r.target.desired}",
                    r.health.value
                    + "".join(f" 🔔{a.name}" for a in r.alerts)
                    + (f" canary: {r.canary.verdict}" if r.canary else ""),
                    iso_utc(r.target.updated_at) or "",
                ]
                for r in rows
            ],
        )
    if not args.json:
        for r in rows:
            if r.site is not None:  # every platform's state, as the console's MESSAGE
                where = f"{r.target.ref.service}@{r.target.ref.environment}"
                print(neutralise(f"{where}: {r.target.message}"))
    for state in noted:
        assert state.snapshot is not None  # selected for its notes
        for note in state.snapshot.notes:
            print(f"quorum: provider {state.name}: {neutralise(note)}", file=sys.stderr)
    for state in failing:
        label = "broken" if state.broken else "failing"
        reason = neutralise(state.error or "")
        print(f"quorum: provider {state.name} ({state.kind}) {label}: {reason}", file=sys.stderr)
    return exitcodes.FAILURE if failing else exitcodes.OK
