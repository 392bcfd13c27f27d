"""`quorum logs SERVICE --env ENV [--follow] [--since D] [--tail N] [--container C] [--previous]
[--filter PATTERN]`.

The same `Provider.logs` iterator the log pane reads, printed line by line as it
arrives, so a followed log never piles up in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from console.domain.bounds import MAX_LINES, count_type
from console.domain.durations import duration_type
from console.domain.inert import neutralise
from console.domain.instants import iso_utc
from console.domain.model import LogLine
from console.engine import reads
from console.engine.session import open_session
from console.engine.targets import resolve_target
from providers.base import Capability


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("logs", parents=[common], help="print or follow a target's logs")
    parser.add_argument("service")
    parser.add_argument("--env", required=True, metavar="ENV", help="environment")
    parser.add_argument(
        "--provider", default="", metavar="NAME", help="the provider, where several run SERVICE"
    )
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    parser.add_argument(
        "--since",
        type=duration_type,
        metavar="DURATION",
        help="only lines of the last DURATION, e.g. 5m, 1h (default: the last hour on the "
        "sandbox and ECS, what the kubelet keeps on Kubernetes, a CI job's whole log)",
    )
    parser.add_argument(
        "--tail", type=count_type(0, MAX_LINES), metavar="N", help="only the last N lines"
    )
    parser.add_argument("--container", metavar="NAME", help="one container of each pod")
    parser.add_argument(
        "--previous", "-p", action="store_true", help="the previous container's logs (k9s p)"
    )
    parser.add_argument(
        "--filter",
        metavar="PATTERN",
        help="only matching lines (the backend's filter syntax where it has one, e.g. "
        "CloudWatch's; else plain text)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="pass backend bytes through unchanged (only when stdout is not a terminal)",
    )
    parser.set_defaults(func=run)


def format_line(line: LogLine, *, raw: bool) -> str:
    text = line.text if raw else neutralise(line.text)
    source = line.source if raw else neutralise(line.source)
    prefix = f"{iso_utc(line.ts)} {line.level or '-':<5}"
    return f"{prefix} [{source}] {text}" if source else f"{prefix} {text}"


async def _print_logs(args: argparse.Namespace, out: TextIO) -> None:
    session = open_session(args, postgres_ready=True)  # providers only, no ledger
    try:
        target = await resolve_target(
            session, args.service, args.env, args.provider, Capability.LOGS
        )
        raw = args.raw and not out.isatty()
        provider = session.providers.get(target.ref.provider)
        by_backend = bool(args.filter) and provider is not None and provider.log_filter
        stream = reads.open_logs(
            session,
            target.ref,
            follow=args.follow,
            since=args.since,
            tail=args.tail,
            container=args.container,
            previous=args.previous,
            pattern=args.filter if by_backend else None,
        )
        async for line in stream:
            if args.filter and not by_backend and args.filter not in line.text:
                continue
            out.write(format_line(line, raw=raw) + "\n")
            out.flush()
    finally:
        await session.close()


def run(args: argparse.Namespace) -> int:
    # A reader that left (`| head`) ends it through BrokenPipeError, as every command.
    asyncio.run(_print_logs(args, sys.stdout))
    return 0
