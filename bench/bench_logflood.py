"""Log flood: keys stay responsive while the log pane takes 20,000 lines/s.

Quorum runs on the sandbox under a 120x40 pseudo-terminal, once with the selected
target's log at 20,000 lines/s and once at the sandbox's ordinary rate, alternated
in one run. Responsiveness: the time from writing `?` to the terminal until the
help screen is on it (then Esc closes it), repeated; its p95 under flood against
the p95 at rest. Memory: resident set size sampled through the flood, which must
level off (the log pane keeps at most its line cap) instead of growing with it.
Targets: flood p95 / rest p95 <= 2; RSS flat through the flood.

    python bench/bench_logflood.py [--seconds N] [--presses N]
"""

from __future__ import annotations

import argparse
import getpass
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ptyrun import PtyProgram

CONFIG = """
[team]
name = "bench"
members = [{me!r}, "alice", "bob", "carol"]
""" + "".join(
    f'\n[[providers]]\nname = "{name}"\nkind = "sandbox"\nplatform = "{platform}"\n'
    "log_rate = {rate}\n"
    for name, platform in (("sim-k8s", "kubernetes"), ("sim-ecs", "ecs"), ("sim-sites", "static"))
)
HELP_MARKER = "help ·"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def session(rate: int, seconds: float, presses: int) -> tuple[list[float], list[int]]:
    """Key-to-screen latencies and RSS samples (KiB) for one run at `rate` lines/s."""
    work = Path(tempfile.mkdtemp())
    config = work / "flood.toml"
    config.write_text(CONFIG.format(me=getpass.getuser(), rate=rate))
    argv = [sys.executable, "-m", "console", "--config", str(config)]
    program = PtyProgram(argv, env={"QUORUM_DATA_DIR": str(work / "data")})
    latencies: list[float] = []
    rss: list[int] = []
    try:
        program.wait_for("billing")
        program.read(1.0)
        gap = seconds / presses
        for _ in range(presses):
            program.read(max(0.0, gap - 0.2))
            mark = len(program.output)
            sent = time.perf_counter()
            program.send(b"?")
            while HELP_MARKER.encode() not in bytes(program.output[mark:]):
                if program.read(0.005) == 0 and time.perf_counter() - sent > 10:
                    raise TimeoutError("help never appeared")
            latencies.append(time.perf_counter() - sent)
            program.send(b"\x1b")
            program.read(0.1)
            rss.append(rss_kib(program.pid))
        rss.append(rss_kib(program.pid))
    finally:
        program.close()
    return latencies, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rest: list[float] = []
    flood: list[float] = []
    rss_rest: list[int] = []
    rss_flood: list[int] = []
    for _ in range(args.rounds):
        lat, rss = session(2, args.seconds, args.presses)
        rest += lat
        rss_rest = rss
        lat, rss = session(20_000, args.seconds, args.presses)
        flood += lat
        rss_flood = rss
    ratio = p95(flood) / p95(rest)
    print(f"key to screen at rest:      p95 {p95(rest) * 1000:.0f} ms ({len(rest)} presses)")
    print(f"key to screen under flood:  p95 {p95(flood) * 1000:.0f} ms ({len(flood)} presses)")
    print(f"ratio flood/rest: {ratio:.2f}x (target <= 2x) {'OK' if ratio <= 2 else 'MISS'}")
    half = len(rss_flood) // 2
    print(
        f"RSS at rest {rss_rest[-1] / 1024:.0f} MiB; under flood {rss_flood[0] / 1024:.0f} MiB "
        f"-> {rss_flood[half] / 1024:.0f} MiB (midway) -> {rss_flood[-1] / 1024:.0f} MiB (end)"
    )
    growth = (rss_flood[-1] - rss_flood[half]) / 1024
    print(f"RSS growth over the second half of the flood: {growth:+.1f} MiB")


if __name__ == "__main__":
    main()
