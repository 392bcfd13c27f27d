"""How commands that touch the ledger run: a session with `Actions`, caught up or not,
and one way to print a proposal or an execution.

Kept outside `console/cli/commands/` because every module there is a command.
Mutating commands (`run_mutating`) refuse a read-only console before anything
opens, and catch the session up first (`console.engine.catch_up`): the sandbox
teammates vote and approved proposals a crash left unexecuted run. Reading commands
(`run_reading`) only read: they never execute anything. A command that has to wait
for another process's write lock says so on stderr, once per wait.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

from console.cli.output import print_json
from console.domain.consensus import Kind
from console.domain.inert import neutralise
from console.domain.model import Target
from console.engine.actions import Actions, Outcome, ProposalView
from console.engine.audit_watch import check_and_note
from console.engine.catch_up import catch_up
from console.engine.dispatch import capability_of
from console.engine.guard import refuse_if_readonly
from console.engine.presentation import describe_outcome, proposal_lines
from console.engine.session import open_session
from console.engine.targets import resolve_target

T = TypeVar("T")
# Said after half a second of store work: usually another process's write lock, but a
# long read (thousands of open proposals to derive) takes as long, so it is not claimed.
WAITING = "waiting for the audit database (another Quorum process may hold its write lock)"


def warn(message: str) -> None:
    """What went wrong beside a change that went through, the same way for every command."""
    print(f"quorum: {neutralise(message)}", file=sys.stderr)


# The commands whose every write goes through the store layer's PostgreSQL
# implementation when the config names a ledger (`console.store.backends`): rotation
# changes and provider-approval votes included; an alert's silence is kept by its
# provider, and its audit record on the ledger.
ON_POSTGRES = frozenset(
    {
        "actions",
        "alerts",
        "approvals",
        "certificate",
        "deploy",
        "override",
        "pause",
        "propose",
        "restart",
        "resume",
        "review",
        "rollback",
        "rotation",
        "scale",
        "vote",
    }
)


def run_mutating(
    args: argparse.Namespace,
    doing: str,
    work: Callable[[Actions], Awaitable[T]],
    *,
    json_out: bool = False,
) -> T:
    """Runs `work`, a change, after the session's catch-up; refused under `--readonly`.

    A deploy command's output is streamed neutralised, to stderr when stdout carries JSON.
    """
    refuse_if_readonly(args.readonly, doing)
    return _run(args, work, json_out=json_out, caught_up=True)


def run_reading(args: argparse.Namespace, work: Callable[[Actions], Awaitable[T]]) -> T:
    """Runs `work`, which only reads the ledger; nothing is caught up or executed."""
    return _run(args, work, json_out=False, caught_up=False)


def _run(
    args: argparse.Namespace,
    work: Callable[[Actions], Awaitable[T]],
    *,
    json_out: bool,
    caught_up: bool,
) -> T:
    out = sys.stderr if json_out else sys.stdout

    def show(line: str) -> None:
        # The deploy command keeps running whoever reads its output: a reader that
        # left (`| head`) must not turn a running deploy into a recorded failure.
        with contextlib.suppress(BrokenPipeError):
            out.write(neutralise(line) + "\n")
            out.flush()

    def waiting() -> None:
        print(f"quorum: {WAITING}", file=sys.stderr, flush=True)

    done: list[T] = []

    async def main() -> None:
        session = open_session(args, postgres_ready=args.command in ON_POSTGRES)
        config = session.config
        gone = check_and_note(session.audit_path, config=config)
        if gone:
            print(neutralise(f"quorum: warning: {gone}"), file=sys.stderr)
        actions = Actions(
            session,
            on_output=show,
            on_waiting=waiting,
            on_warning=warn,
            on_progress=ProgressLine(sys.stderr),
        )
        try:
            if caught_up:
                for line in (await catch_up(actions)).lines():
                    print(neutralise(line), file=sys.stderr)
            done.append(await work(actions))
        finally:
            actions.close()
            await session.close()
            check_and_note(session.audit_path, config=config)  # the head it leaves behind

    # The result is handed over beside `asyncio.run`, not returned through it: on
    # Python 3.11 the runner formats the finished task's repr, result included, which
    # for 10,000 proposals costs a third of a second.
    asyncio.run(main())
    return done[0]


class ProgressLine:
    """A long action's progress on stderr: one bar redrawn in place on a terminal,
    else a line at each tenth of the way (and each step when the total is unknown)."""

    WIDTH = 24

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.lock = threading.Lock()
        self.shown = -1

    def __call__(self, what: str, done: int, total: int) -> None:
        text = neutralise(what)
        with self.lock:
            if total <= 0:
                self.out.write(("\r\x1b[K" if self.tty else "") + text + "\n")
            elif self.tty:
                filled = min(self.WIDTH, self.WIDTH * done // total)
                bar = "#" * filled + "-" * (self.WIDTH - filled)
                end = "\n" if done >= total else ""
                self.out.write(f"\r\x1b[K[{bar}] {done}/{total} {text}"[:200] + end)
            else:
                tenth = 10 * done // total
                if tenth == self.shown and done < total:
                    return
                self.shown = tenth
                self.out.write(f"{done}/{total} {text}\n")
            self.out.flush()


async def target_of(
    actions: Actions, service: str, environment: str, provider: str, kind: Kind
) -> Target:
    """The target a change of `kind` is meant for (see resolve_target)."""
    needs = capability_of(kind)
    return await resolve_target(actions.session, service, environment, provider, needs)


def proposal_json(view: ProposalView, outcome: Outcome | None = None) -> dict[str, object]:
    shown = view.to_json()  # added to, not copied: a listing makes thousands
    shown["execution"] = outcome.to_json() if outcome else None
    return shown


def print_proposal(view: ProposalView, outcome: Outcome | None = None) -> None:
    for line in proposal_lines(view, outcome):
        print(neutralise(line))


def emit(args: argparse.Namespace, view: ProposalView, outcome: Outcome | None) -> int:
    """Prints a proposal step the way the command was asked to; 1 when its execution failed."""
    if args.json:
        print_json(proposal_json(view, outcome))
    else:
        print_proposal(view, outcome)
    return 1 if outcome is not None and (not outcome.ok or outcome.warning) else 0


def emit_outcome(args: argparse.Namespace, outcome: Outcome) -> int:
    if getattr(args, "json", False):
        print_json(outcome.to_json())
    else:
        print(neutralise(describe_outcome(outcome)))
    if outcome.warning:
        warn(f"warning: {outcome.warning}")
    return 0 if outcome.ok and not outcome.warning else 1
