"""Scripts: each command against its own work, and `approvals --json` at 10,000 proposals.

- **own work**: `quorum --sandbox CMD` as a script runs it (the `quorum` entry point:
  the parser, the dispatch, the command) against a process that imports only that
  command's module, registers only its parser and runs it: what the command itself
  needs. Target <= 1.2x for every command.
- **approvals**: `quorum --sandbox approvals --json` over a ledger of 10,000 open
  proposals against an empty ledger, output to a file, once buffered and once with
  `PYTHONUNBUFFERED=1`. Target <= 2x.

Runs alternate for `--rounds` rounds; medians are compared, of the wall clock and of the
CPU time (user + system) each process used, which a loaded machine moves less; "by round"
is the median of each round's CPU ratio (its two runs back to back).
`--tree PATH` runs another checkout (the tree before a change) with the same interpreter;
`--before PATH` runs that checkout's `approvals --json` too, alternating with this one's
in every round, so both see the same load (on a shared machine, runs a minute apart
do not) and each gets its own ratio.

    python bench/bench_cli.py [--rounds N] [--count N] [--tree PATH] [--data DIR]
                              [--approvals-only] [--before PATH]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger_seed import seed

COMMANDS = {
    "status --json": "status",
    "approvals --json": "approvals",
    "audit tail --json": "audit",
    "rotation --json": "rotation",
    "actions incomplete --json": "actions",
    "config check": "config_cmd",
    "describe api --env staging --json": "describe",
}
FULL = "from console.cli.main import entry; entry()"
# Only the command's own module: its parser and its run, as `quorum` would call them.
# The common options go on the top parser too, as `quorum` has them: `--sandbox` comes
# before the command name, and without them this parser stops at a usage error.
OWN = """
import argparse, sys
from console.cli.commands import {module} as command
from console.cli.main import common_options
common = common_options()
parser = argparse.ArgumentParser(prog="quorum", parents=[common])
command.register(parser.add_subparsers(dest="command"), common)
args = parser.parse_args(sys.argv[1:])
for key, default in (("config", None), ("sandbox", False), ("readonly", False)):
    setattr(args, key, getattr(args, key, default))
sys.exit(int(args.func(args)))
"""


def timed(code: str, argv: list[str], env: dict[str, str], out: Path) -> tuple[float, float]:
    """Seconds of one run, wall clock and CPU (user + system, the child's own). The CPU
    time moves much less than the wall clock on a machine other work loads; both are
    printed. A run that fails or prints nothing is not a measurement, so it stops the
    bench (a baseline that exits at a usage error measures nothing)."""
    started = time.perf_counter()
    with out.open("wb") as sink, tempfile.TemporaryFile() as errors:
        # -P: `-c` would put the current directory first on the path, and run from a
        # checkout that directory's code, whatever `--tree` names (PYTHONPATH comes after).
        child = subprocess.Popen(
            [sys.executable, "-P", "-c", code, *argv],
            env={**os.environ, **env},
            stdout=sink,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        exit_code = os.waitstatus_to_exitcode(status)
        if exit_code != 0 or out.stat().st_size == 0:
            errors.seek(0)
            raise SystemExit(
                f"quorum {' '.join(argv)} exited {exit_code} with {out.stat().st_size} bytes "
                f"out: {errors.read().decode(errors='replace')[-300:]}"
            )
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--data", type=Path, help="keep the seeded ledgers here (reused)")
    parser.add_argument("--approvals-only", action="store_true", help="skip the per-command part")
    parser.add_argument("--before", type=Path, help="another tree, alternated with --tree")
    args = parser.parse_args()
    commands = {} if args.approvals_only else COMMANDS
    root = args.data or Path(tempfile.mkdtemp())
    empty, full = root / "empty", root / "open"
    if not (full / "sandbox" / "audit.db").exists():
        seed(full, open_count=args.count)
    seed(empty)
    out = root / "out.json"
    base = {
        "PYTHONPATH": str(args.tree),
        "QUORUM_SANDBOX_TEAMMATES": "off",
        "QUORUM_CONFIG": "",
        "PYTHONUNBUFFERED": "",
    }
    times: dict[str, list[tuple[float, float]]] = {}
    trees = {"": args.tree, **({"before ": args.before} if args.before else {})}
    # Each tree's bytecode written first, as an installed Quorum has it: a run that
    # cannot write it (PYTHONDONTWRITEBYTECODE, or a fresh checkout) compiles every
    # module it imports, on every run, which the empty ledger's run pays in full.
    for tree in trees.values():
        for package in ("console", "providers", "widgets"):
            compileall.compile_dir(tree / package, quiet=1)

    def add(name: str, value: tuple[float, float]) -> None:
        times.setdefault(name, []).append(value)

    for _ in range(args.rounds):
        for line, module in commands.items():
            argv = ["--sandbox", *line.split()]
            env = {**base, "QUORUM_DATA_DIR": str(empty)}
            add(f"{line} quorum", timed(FULL, argv, env, out))
            add(f"{line} own", timed(OWN.format(module=module), argv, env, out))
        for unbuffered in ("", "1"):
            for label, tree in trees.items():
                argv = ["--sandbox", "approvals", "--json"]
                env = {**base, "PYTHONUNBUFFERED": unbuffered, "PYTHONPATH": str(tree)}
                add(
                    f"{label}empty {unbuffered}",
                    timed(FULL, argv, {**env, "QUORUM_DATA_DIR": str(empty)}, out),
                )
                add(
                    f"{label}full {unbuffered}",
                    timed(FULL, argv, {**env, "QUORUM_DATA_DIR": str(full)}, out),
                )
    wall = {name: statistics.median(v[0] for v in values) for name, values in times.items()}
    cpu = {name: statistics.median(v[1] for v in values) for name, values in times.items()}

    def compare(a: str, b: str) -> str:
        """The ratio of the medians, and the median of each round's ratio: the two runs of
        a round are back to back, so the load moves less between them than between rounds."""
        paired = statistics.median(x[1] / y[1] for x, y in zip(times[a], times[b], strict=True))
        return (
            f"{wall[a] * 1000:6.0f} vs {wall[b] * 1000:6.0f} ms: {wall[a] / wall[b]:.2f}x; "
            f"CPU {cpu[a] * 1000:5.0f} vs {cpu[b] * 1000:5.0f} ms: {cpu[a] / cpu[b]:.2f}x "
            f"(by round {paired:.2f}x)"
        )

    print(f"tree {args.tree}, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    for line in commands:
        print(f"quorum {line:36} vs own work {compare(f'{line} quorum', f'{line} own')} (<= 1.2x)")
    for label, tree in trees.items():
        for unbuffered, how in (("", "buffered"), ("1", "PYTHONUNBUFFERED=1")):
            print(
                f"{label or 'tree '}{tree}: approvals --json, {args.count} open vs empty, "
                f"{how:18} {compare(f'{label}full {unbuffered}', f'{label}empty {unbuffered}')}"
                " (<= 2x)"
            )


if __name__ == "__main__":
    main()
