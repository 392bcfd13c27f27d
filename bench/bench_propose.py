"""Proposing a change while thousands are open: `Actions.propose` at 10,000 open against
an empty ledger.

Each proposal is one step as `quorum propose` takes it: the duplicate check, the row,
the act, the derivation of the new proposal and its audit record, in one process that
keeps its session (the console's case; a script adds the same process start to both).
The two ledgers are written beforehand through the engine (`ledger_seed.py`; the time
the 10,000 took is printed when they are written). A child process per round proposes
`--per-round` new changes on one ledger and reports the wall clock and the thread's
CPU time of each; the ledgers alternate for `--rounds` rounds and the medians are
compared.

`--tree PATH` runs the children from another checkout (the tree before a change) with
the same interpreter, so before and after are measured side by side.

    python bench/bench_propose.py [--count N] [--rounds N] [--per-round N] [--tree PATH]
                                  [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger_seed import seed

CHILD = """
import argparse, asyncio, json, sys, time
from console.domain.consensus import Kind
from console.engine.actions import Actions
from console.engine.session import open_session
from console.engine.targets import resolve_target

tag, count = sys.argv[1], int(sys.argv[2])

async def run():
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    me = Actions(session)
    times = []
    try:
        ref = (await resolve_target(session, "api", "production")).ref
        for i in range(count):
            wall, cpu = time.perf_counter(), time.process_time()
            await me.propose(Kind.DEPLOY, ref, revision=f"bench-{tag}-{i}")
            times.append((time.perf_counter() - wall, time.process_time() - cpu))
    finally:
        me.close()
        await session.close()
    print(json.dumps(times))

asyncio.run(run())
"""


def proposals(data: Path, tree: Path, tag: str, count: int) -> list[tuple[float, float]]:
    """Wall clock and CPU seconds of each of `count` proposals on the ledger under `data`."""
    env = {
        **os.environ,
        "QUORUM_DATA_DIR": str(data),
        "QUORUM_SANDBOX_TEAMMATES": "off",
        "QUORUM_CONFIG": "",
        "PYTHONPATH": str(tree),
    }
    # -P: the tree PYTHONPATH names, not the current directory's checkout, comes first.
    done = subprocess.run(
        [sys.executable, "-P", "-c", CHILD, tag, str(count)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"proposing on {data} failed: {done.stderr[-400:]}")
    return [tuple(pair) for pair in json.loads(done.stdout.splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--per-round", type=int, default=5)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--data", type=Path, help="keep the seeded ledgers here (reused)")
    args = parser.parse_args()
    root = args.data or Path(tempfile.mkdtemp())
    empty, full = root / "empty", root / "open"
    if not (full / "sandbox" / "audit.db").exists():
        started = time.perf_counter()
        seed(full, open_count=args.count)
        print(f"seeded {args.count} open proposals in {time.perf_counter() - started:.1f} s")
    seed(empty)
    times: dict[str, list[tuple[float, float]]] = {"empty": [], "full": []}
    stamp = f"{os.getpid()}-{time.time_ns()}"
    for r in range(args.rounds):
        for name, data in (("empty", empty), ("full", full)):
            times[name] += proposals(data, args.tree, f"{stamp}-{r}", args.per_round)
    wall = {name: statistics.median(t[0] for t in values) for name, values in times.items()}
    cpu = {name: statistics.median(t[1] for t in values) for name, values in times.items()}
    print(
        f"tree {args.tree}, {args.rounds} rounds of {args.per_round}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"propose, {args.count} open vs empty: {wall['full'] * 1000:.1f} vs "
        f"{wall['empty'] * 1000:.1f} ms: {wall['full'] / wall['empty']:.2f}x; CPU "
        f"{cpu['full'] * 1000:.1f} vs {cpu['empty'] * 1000:.1f} ms: "
        f"{cpu['full'] / cpu['empty']:.2f}x"
    )


if __name__ == "__main__":
    main()
