"""`quorum rotation`: who holds each rotation, the schedule, its feed and its changes.

    quorum rotation [--at WHEN] [--json]                 holders now (or at WHEN)
    quorum rotation schedule [ROTATION] [--from WHEN] [--days N] [--gaps] [--json]
    quorum rotation ics [--months N] [--from WHEN] [--gaps] [--output PATH]
    quorum rotation override ROTATION --who NAME --from WHEN --to WHEN --reason TEXT
    quorum rotation swap request ROTATION --from WHEN --to WHEN [--reason TEXT]
    quorum rotation swap take ID
    quorum rotation swap list [--json]
    quorum rotation cancel ID                            end an override, withdraw a swap
    quorum rotation notify [--within DURATION] [--json]  for cron: one notice per handoff

WHEN is `now`, an ISO date or an ISO datetime (`console.domain.instants.parse_when`).
Without an offset it is read in UTC by the views (holders, schedule, ics), and in
the rotation's own time zone by the changes (an override "from 2026-12-24" means
midnight where the rotation is kept). The changes take the engine's road for every
change (`console.engine.rotation_changes`): `--readonly` refuses them (override, swap
request/take, cancel); the views and `notify` still run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.cli.output import print_json, print_table
from console.cli.runner import run_mutating, run_reading
from console.config.paths import data_dir
from console.domain import exitcodes
from console.domain.bounds import count_type
from console.domain.durations import DurationError, parse_duration
from console.domain.errors import UsageError
from console.domain.identity import current_identity
from console.domain.inert import neutralise
from console.domain.instants import iso_utc, parse_when
from console.domain.model import RotationSlot
from console.engine import rotation_changes
from console.engine.actions import Actions
from console.engine.rotation_changes import RotationChange
from console.engine.session import Session, resolve_config
from console.rotation.changes import span_in_zone
from console.rotation.schedule import slots_at, stretches
from console.store import rotation as store
from console.store.backends import RotationSource, rotation_source


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "rotation",
        parents=[common],
        help="who holds each rotation; schedule, calendar feed, overrides, swaps",
        description="Who holds each rotation now (or --at WHEN), and the schedule's tools.",
    )
    parser.add_argument("--at", metavar="WHEN", default="now", help="an ISO date or datetime")
    parser.add_argument("--json", action="store_true", help="print a JSON document")
    parser.set_defaults(func=run_holders)
    verbs = parser.add_subparsers(dest="rotation_command", metavar="COMMAND")

    schedule = verbs.add_parser(
        "schedule", parents=[common], help="the final schedule, stretch by stretch"
    )
    schedule.add_argument("rotation", nargs="?", help="one rotation (default: all)")
    schedule.add_argument("--from", dest="start", metavar="WHEN", default="now")
    schedule.add_argument(
        "--days", type=count_type(1, 3660), default=28, help="how far (default 28)"
    )
    schedule.add_argument("--gaps", action="store_true", help="list gaps too")
    schedule.add_argument("--json", action="store_true", help="print a JSON array")
    schedule.set_defaults(func=run_schedule)

    ics = verbs.add_parser("ics", parents=[common], help="the schedule as an iCalendar feed")
    ics.add_argument("--months", type=count_type(1, 120), default=3, help="horizon (default 3)")
    ics.add_argument("--from", dest="start", metavar="WHEN", default="now")
    ics.add_argument("--gaps", action="store_true", help="add events for gaps")
    ics.add_argument("--output", "-o", metavar="PATH", help="write here instead of stdout")
    ics.set_defaults(func=run_ics)

    override = verbs.add_parser(
        "override", parents=[common], help="put someone on a rotation for a span (audited)"
    )
    override.add_argument("rotation")
    override.add_argument("--who", required=True, help="who holds it over the span")
    override.add_argument("--from", dest="start", metavar="WHEN", required=True)
    override.add_argument("--to", dest="end", metavar="WHEN", required=True)
    override.add_argument("--reason", required=True)
    override.add_argument("--json", action="store_true", help="print the override as JSON")
    override.set_defaults(func=run_override)

    swap = verbs.add_parser("swap", parents=[common], help="offer or take a stretch of duty")
    swap_verbs = swap.add_subparsers(dest="swap_command", metavar="request|take|list")
    swap_verbs.required = True
    request = swap_verbs.add_parser(
        "request", parents=[common], help="offer your time on a rotation (audited)"
    )
    request.add_argument("rotation")
    request.add_argument("--from", dest="start", metavar="WHEN", required=True)
    request.add_argument("--to", dest="end", metavar="WHEN", required=True)
    request.add_argument("--reason", default="")
    request.add_argument("--json", action="store_true", help="print the swap as JSON")
    request.set_defaults(func=run_swap_request)
    take = swap_verbs.add_parser("take", parents=[common], help="take an open swap (audited)")
    take.add_argument("id")
    take.add_argument("--json", action="store_true", help="print the swap as JSON")
    take.set_defaults(func=run_swap_take)
    listing = swap_verbs.add_parser("list", parents=[common], help="open swaps")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=run_swap_list)

    cancel = verbs.add_parser(
        "cancel", parents=[common], help="end an override or withdraw a swap offer (audited)"
    )
    cancel.add_argument("id")
    cancel.add_argument("--json", action="store_true", help="print the result as JSON")
    cancel.set_defaults(func=run_cancel)

    notify = verbs.add_parser(
        "notify", parents=[common], help="announce handoffs to the notify sinks (for cron)"
    )
    notify.add_argument(
        "--within",
        metavar="DURATION",
        default="1d",
        help="announce handoffs at most this old (default 1d)",
    )
    notify.add_argument("--json", action="store_true", help="print a JSON array")
    notify.set_defaults(func=run_notify)


def _session(args: argparse.Namespace) -> Session:
    """The config and data directory only: no rotation command talks to a provider."""
    config = resolve_config(args.config, args.sandbox)
    return Session(config=config, data_dir=data_dir(), readonly=args.readonly)


def _source(session: Session) -> RotationSource:
    """Where the schedule's changes are kept: the team's ledger, else the SQLite file."""
    return rotation_source(session.config, session.audit_path)


def countdown(delta: timedelta) -> str:
    """A short countdown such as `5d 21h`, `3h 12m` or `40s`."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def slot_json(slot: RotationSlot, timezone: str) -> dict[str, object]:
    """One element of `quorum rotation --json`'s `rotations`; the README documents it."""
    return {
        "rotation": slot.rotation,
        "holder": slot.holder or None,
        "since": iso_utc(slot.since),
        "next_holder": slot.next_holder or None,
        "handoff_at": iso_utc(slot.handoff_at),
        "gap": slot.gap,
        "override": slot.override,
        "swap": slot.swap,
        "timezone": timezone,
    }


def _holder_text(holder: str, gap: bool, override: bool = False, swap: bool = False) -> str:
    if gap:
        return "(gap: nobody)"
    return holder + (" (override)" if override else " (swap)" if swap else "")


def run_holders(args: argparse.Namespace) -> int:
    session = _session(args)
    at = parse_when(args.at)
    slots = slots_at(session.config, at, _source(session))
    zones = {r.name: r.timezone for r in session.config.rotations}
    if args.json:
        print_json(
            {"at": iso_utc(at), "rotations": [slot_json(s, zones[s.rotation]) for s in slots]}
        )
        return exitcodes.OK
    if not slots:
        print("no rotations configured")
        return exitcodes.OK
    print_table(
        ["rotation", "holder", "since", "next", "handoff", "in"],
        [
            [
                s.rotation,
                _holder_text(s.holder, s.gap, s.override, s.swap),
                _when(s.since),
                s.next_holder or "(gap: nobody)",
                _when(s.handoff_at),
                countdown(s.handoff_at - at),
            ]
            for s in slots
        ],
    )
    return exitcodes.OK


def run_schedule(args: argparse.Namespace) -> int:
    session = _session(args)
    start = parse_when(args.start)
    segments = stretches(
        session.config,
        start,
        start + timedelta(days=args.days),
        _source(session),
        rotation=args.rotation,
        gaps=args.gaps,
    )
    if args.json:
        print_json([s.to_json() for s in segments])
        return exitcodes.OK
    print_table(
        ["rotation", "from", "to", "holder", "why"],
        [
            [
                s.rotation,
                _when(s.starts_at),
                _when(s.ends_at),
                _holder_text(s.holder, s.gap),
                s.why,
            ]
            for s in segments
        ],
    )
    return exitcodes.OK


def run_ics(args: argparse.Namespace) -> int:
    from console.rotation.ics import render_ics

    session = _session(args)
    start = parse_when(args.start)
    document = render_ics(
        session.config,
        start,
        start + timedelta(days=31 * args.months),
        _source(session),
        gaps=args.gaps,
    )
    if args.output:
        path = Path(args.output).expanduser()
        try:
            path.write_bytes(document)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from None
        print(f"wrote {path}")
    else:
        sys.stdout.write(document.decode("utf-8"))
    return exitcodes.OK


def _notices(errors: list[str]) -> None:
    for error in errors:
        print(f"quorum: notice not delivered: {neutralise(error)}", file=sys.stderr)


def run_override(args: argparse.Namespace) -> int:
    async def override(actions: Actions) -> RotationChange[store.Override]:
        start, end = span_in_zone(actions.config, args.rotation, args.start, args.end)
        return await rotation_changes.override_rotation(
            actions, args.rotation, args.who, start, end, args.reason
        )

    done = run_mutating(args, "override a rotation", override)
    override_ = done.change
    if args.json:
        print_json(override_.to_json())
    else:
        print(
            neutralise(
                f"{override_.id}  {override_.rotation}: {override_.who}"
                f" from {_when(override_.starts_at)} to {_when(override_.ends_at)}"
            )
        )
    _notices(done.notice_errors)
    return exitcodes.OK


def _print_swap(swap: store.Swap, as_json: bool) -> None:
    if as_json:
        print_json(swap.to_json())
        return
    taken = f", taken by {swap.taken_by}" if swap.taken_by else ", open"
    print(
        neutralise(
            f"{swap.id}  {swap.rotation}: {swap.requested_by} offers"
            f" {_when(swap.starts_at)} to {_when(swap.ends_at)}{taken}"
        )
    )


def run_swap_request(args: argparse.Namespace) -> int:
    async def offer(actions: Actions) -> RotationChange[store.Swap]:
        start, end = span_in_zone(actions.config, args.rotation, args.start, args.end)
        return await rotation_changes.offer_swap(actions, args.rotation, start, end, args.reason)

    done = run_mutating(args, "request a swap", offer)
    _print_swap(done.change, args.json)
    _notices(done.notice_errors)
    return exitcodes.OK


def run_swap_take(args: argparse.Namespace) -> int:
    done = run_mutating(
        args, "take a swap", lambda actions: rotation_changes.take_swap(actions, args.id)
    )
    _print_swap(done.change, args.json)
    _notices(done.notice_errors)
    return exitcodes.OK


def run_swap_list(args: argparse.Namespace) -> int:
    swaps = run_reading(args, rotation_changes.fetch_open_swaps)
    if args.json:
        print_json([s.to_json() for s in swaps])
        return exitcodes.OK
    print_table(
        ["id", "rotation", "offered by", "from", "to", "reason"],
        [
            [s.id, s.rotation, s.requested_by, _when(s.starts_at), _when(s.ends_at), s.reason]
            for s in swaps
        ],
    )
    return exitcodes.OK


def run_cancel(args: argparse.Namespace) -> int:
    done = run_mutating(
        args,
        "cancel a schedule change",
        lambda actions: rotation_changes.cancel_change(actions, args.id),
    )
    change, errors = done.change, done.notice_errors
    if args.json:
        print_json(change.to_json())
    elif isinstance(change, store.Swap):
        print(neutralise(f"{change.id}  {change.rotation}: swap withdrawn"))
    else:
        print(neutralise(f"{change.id}  {change.rotation}: {cancelled_text(change)}"))
    _notices(errors)
    return exitcodes.OK


def cancelled_text(override: store.Override) -> str:
    """What cancelling did: an override that had not begun never takes effect at all,
    so it is not described by an end ("until" its own start would read as a gap)."""
    span = f"{_when(override.starts_at)} to {_when(override.ends_at)}"
    if override.until <= override.starts_at:
        return f"override of {override.who} ({span}) cancelled before it began"
    return f"override of {override.who} ({span}) ended at {_when(override.until)}"


def run_notify(args: argparse.Namespace) -> int:
    from console.rotation.notify import send_handoff_notices

    session = _session(args)
    try:
        within = parse_duration(args.within)
    except DurationError as exc:
        raise UsageError(f"--within: {exc}") from None
    done = asyncio.run(
        send_handoff_notices(
            session.config, _source(session), current_identity().name, within=within
        )
    )
    if args.json:
        print_json([d.to_json() for d in done])
    else:
        print_table(
            ["rotation", "holder", "handoff", "notice"],
            [
                [d.rotation, d.holder or "(gap: nobody)", _when(d.handoff_at), d.status]
                for d in done
            ],
        )
    for d in done:  # warned the way every command warns of an undelivered notice
        for error in d.errors:
            line = f"quorum: notice not delivered: {error} ({d.rotation} handoff)"
            print(neutralise(line), file=sys.stderr)
    failed = any(d.status == "failed" for d in done)
    return exitcodes.FAILURE if failed else exitcodes.OK
