"""Long history: keys and memory with 10,000 open or 10,000 settled proposals.

Quorum runs on the sandbox under a 120x40 pseudo-terminal over three ledgers, written
beforehand through the engine (`ledger_seed.py`): empty, 10,000 open proposals, and
10,000 proposals settled an hour ago (outside the Approvals pane's 30-minute window).
The three runs alternate for `--rounds` rounds. After the services are on screen, the
Approvals pane's first listing, and `--warmup` seconds more, `?` is pressed `--presses` times over
`--seconds` seconds and the time from writing it until the help screen is on the
terminal is taken (then Esc); the resident set size is read at the end.
Targets: p95 with each history <= 1.2x the empty ledger's; RSS <= 1.3x.

`--tree PATH` runs the console from another checkout (the tree before a change), with
the same interpreter, so before and after are measured side by side.

    python bench/bench_history.py [--count N] [--rounds N] [--presses N] [--tree PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ledger_seed import seed
from ptyrun import PtyProgram

HELP_MARKER = b"help \xc2\xb7"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def session(
    data: Path, tree: Path, warmup: float, seconds: float, presses: int
) -> tuple[list[float], int]:
    """Key-to-screen latencies and the final RSS (KiB) of one console over `data`."""
    # -P: not the current directory's code first on the path (run from a checkout, it
    # would be that checkout's whatever `--tree` names); PYTHONPATH picks the tree.
    argv = [sys.executable, "-P", "-c", "from console.cli.main import entry; entry()"]
    env = {
        "QUORUM_DATA_DIR": str(data),
        "QUORUM_SANDBOX_TEAMMATES": "off",
        "PYTHONPATH": str(tree),
        "QUORUM_CONFIG": "",
    }
    program = PtyProgram([*argv, "--sandbox"], env=env)
    latencies: list[float] = []
    try:
        program.wait_for("billing")
        program.wait_for("waiting)", timeout=120)  # the Approvals pane's first listing
        program.read(warmup)
        gap = seconds / presses
        for _ in range(presses):
            program.read(max(0.0, gap - 0.2))
            mark = len(program.output)
            sent = time.perf_counter()
            program.send(b"?")
            while HELP_MARKER not in bytes(program.output[mark:]):
                if program.read(0.005) == 0 and time.perf_counter() - sent > 20:
                    raise TimeoutError("help never appeared")
            latencies.append(time.perf_counter() - sent)
            program.send(b"\x1b")
            program.read(0.1)
        rss = rss_kib(program.pid)
    finally:
        program.close()
    return latencies, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--data", type=Path, help="keep the seeded ledgers here (reused)")
    args = parser.parse_args()
    root = args.data or Path(tempfile.mkdtemp())
    ledgers = {"empty": root / "empty", "open": root / "open", "settled": root / "settled"}
    counts = {"empty": (0, 0), "open": (args.count, 0), "settled": (0, args.count)}
    for name, data in ledgers.items():
        if not (data / "sandbox" / "audit.db").exists():
            started = time.perf_counter()
            seed(data, open_count=counts[name][0], settled_count=counts[name][1])
            print(f"seeded {name} in {time.perf_counter() - started:.1f} s", flush=True)
    times: dict[str, list[float]] = {name: [] for name in ledgers}
    rss: dict[str, list[int]] = {name: [] for name in ledgers}
    for _ in range(args.rounds):
        for name, data in ledgers.items():
            lat, kib = session(data, args.tree, args.warmup, args.seconds, args.presses)
            times[name] += lat
            rss[name].append(kib)
    print(f"tree {args.tree}, load average {os.getloadavg()[0]:.1f}")
    base_p95 = p95(times["empty"])
    base_rss = max(rss["empty"])
    for name in ledgers:
        ratio = p95(times[name]) / base_p95
        mem = max(rss[name]) / base_rss
        print(
            f"{name:8} p50 {statistics.median(times[name]) * 1000:5.0f} ms, "
            f"p95 {p95(times[name]) * 1000:5.0f} ms ({ratio:.2f}x, target <= 1.2x), "
            f"max {max(times[name]) * 1000:5.0f} ms; RSS {max(rss[name]) / 1024:.0f} MiB "
            f"({mem:.2f}x, target <= 1.3x)"
        )


if __name__ == "__main__":
    main()
