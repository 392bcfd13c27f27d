"""`quorum alerts [--json]`: what the alert providers say is firing, and on which service;
`quorum alerts silence ID --for 2h --comment ...` and `quorum alerts expire SILENCE_ID`.

Silencing and expiring are changes: refused under `--readonly`, audited, the team told.
"""

from __future__ import annotations

import argparse
import sys

from console.cli.output import print_json, print_table
from console.cli.runner import run_mutating, run_reading
from console.domain.alerts import Alert
from console.domain.durations import duration_type
from console.domain.inert import neutralise
from console.domain.instants import iso_utc
from console.engine.silences import SilenceResult, expire_silence, read_alerts, silence_alert


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "alerts",
        parents=[common],
        help="active alerts and the services they name; silence one, expire a silence",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.set_defaults(func=run_list)
    verbs = parser.add_subparsers(dest="alerts_command", metavar="silence|expire")
    silence = verbs.add_parser(
        "silence", parents=[common], help="silence an alert for a while (audited, team told)"
    )
    silence.add_argument("alert", metavar="ID", help="PROVIDER:FINGERPRINT as listed")
    silence.add_argument(
        "--for", dest="duration", type=duration_type, required=True, metavar="DURATION",
        help="how long: 30m, 2h, 1d",
    )  # fmt: skip
    silence.add_argument("--comment", required=True, help="why it may stay quiet")
    silence.add_argument("--json", action="store_true", help="print a JSON object")
    silence.set_defaults(func=run_silence)
    expire = verbs.add_parser("expire", parents=[common], help="end a silence now")
    expire.add_argument("silence", metavar="SILENCE_ID")
    expire.add_argument("--provider", default="", help="the alert provider (when several)")
    expire.add_argument("--json", action="store_true", help="print a JSON object")
    expire.set_defaults(func=run_expire)


def alert_json(alert: Alert) -> dict[str, object]:
    return {
        "id": alert.id,
        "provider": alert.provider,
        "fingerprint": alert.fingerprint,
        "name": alert.name,
        "severity": alert.severity,
        "summary": alert.summary,
        "service": alert.service,
        "environment": alert.environment,
        "state": alert.state,
        "silenced_by": list(alert.silenced_by),
        "starts_at": alert.starts_at,
        "labels": alert.labels,
    }


def _state(alert: Alert) -> str:
    if alert.silenced:
        return "silenced"
    return alert.state


def run_list(args: argparse.Namespace) -> int:
    reading = run_reading(args, lambda actions: read_alerts(actions.session))
    if args.json:
        print_json(
            {
                "alerts": [alert_json(a) for a in reading.alerts],
                "provider_errors": list(reading.errors),
            }
        )
        return 1 if reading.errors else 0
    if reading.alerts:
        print_table(
            ["id", "severity", "alert", "service", "env", "state", "since", "summary"],
            [
                [
                    a.id, a.severity or "-", a.name, a.service or "-", a.environment or "-",
                    _state(a), iso_utc(a.starts_at) or "", a.summary,
                ]
                for a in reading.alerts
            ],
        )  # fmt: skip
    elif not reading.errors:
        print("no active alerts")
    for error in reading.errors:
        print(neutralise(f"quorum: provider {error}"), file=sys.stderr)
    return 1 if reading.errors else 0


def _print_result(args: argparse.Namespace, result: SilenceResult) -> None:
    if args.json:
        print_json(result.to_json())
    else:
        print(neutralise(result.describe()))


def run_silence(args: argparse.Namespace) -> int:
    result = run_mutating(
        args,
        "silence an alert",
        lambda actions: silence_alert(actions, args.alert, args.duration, args.comment),
    )
    _print_result(args, result)
    return 0


def run_expire(args: argparse.Namespace) -> int:
    result = run_mutating(
        args,
        "expire a silence",
        lambda actions: expire_silence(actions, args.silence, args.provider),
    )
    _print_result(args, result)
    return 0
