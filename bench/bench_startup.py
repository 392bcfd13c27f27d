"""Start-up: exec to first paint of the sandbox dashboard, against a bare Textual app.

Both run under a 120x40 pseudo-terminal, alternated in one run so machine noise
hits them alike. "First paint" is the moment a known text is on screen: for Quorum
a sandbox service name inside the Services table, for the baseline its one Static.
Target: quorum / bare <= 1.5.

    python bench/bench_startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from ptyrun import PtyProgram

HERE = Path(__file__).resolve().parent
QUORUM = [sys.executable, "-m", "console", "--sandbox"]
BARE = [sys.executable, str(HERE / "bare_app.py")]


def first_paint(argv: list[str], marker: str, env: dict[str, str]) -> float:
    program = PtyProgram(argv, env=env)
    try:
        return program.wait_for(marker)
    finally:
        program.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    env = {"QUORUM_DATA_DIR": tempfile.mkdtemp(), "QUORUM_CONFIG": ""}
    first_paint(QUORUM, "billing", env)  # warm the disk cache and the sandbox world file
    quorum, bare = [], []
    for _ in range(args.rounds):
        bare.append(first_paint(BARE, "bare textual app ready", env))
        quorum.append(first_paint(QUORUM, "billing", env))
    q, b = statistics.median(quorum), statistics.median(bare)
    print(f"bare Textual app:  median {b * 1000:.0f} ms to first paint ({args.rounds} runs)")
    print(f"quorum --sandbox:  median {q * 1000:.0f} ms to the services on screen")
    print(f"ratio quorum/bare: {q / b:.2f}x (target <= 1.5x) {'OK' if q / b <= 1.5 else 'MISS'}")


if __name__ == "__main__":
    main()
