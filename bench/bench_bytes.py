"""Bytes to the terminal: what an SSH link carries at idle and for one changed row.

Quorum runs on the sandbox with the simulation paused (nothing changes on its own)
under a 120x40 pseudo-terminal. Measured in this one run, side by side:
- one full repaint: the bytes written after the window is resized to 121 columns and
  back to 120 (the second resize repaints the same screen from scratch);
- idle: bytes per second over a quiet stretch;
- one changed row: a `quorum deploy` from another process changes one staging row;
  the bytes of the next 3 s, less the idle rate, are what that row cost.
Targets: idle <= 1 % of a full repaint per second; one row <= 5 % of a full repaint.

    python bench/bench_bytes.py [--idle-seconds N]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from ptyrun import PtyProgram

COLS, ROWS = 120, 40
CONFIG = """
[team]
name = "bench"
members = [{me!r}, "alice", "bob", "carol"]

[policy.staging]
min_approvals = 0
""" + "".join(
    f'\n[[providers]]\nname = "{name}"\nkind = "sandbox"\nplatform = "{platform}"\npaused = true\n'
    for name, platform in (("sim-k8s", "kubernetes"), ("sim-ecs", "ecs"), ("sim-sites", "static"))
)


def resize(program: PtyProgram, cols: int) -> None:
    fcntl.ioctl(program.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, cols, 0, 0))
    os.kill(program.pid, signal.SIGWINCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()
    import getpass

    work = Path(tempfile.mkdtemp())
    config = work / "paused.toml"
    config.write_text(CONFIG.format(me=getpass.getuser()))
    env = {"QUORUM_DATA_DIR": str(work / "data")}
    quorum = [sys.executable, "-m", "console", "--config", str(config)]
    program = PtyProgram(quorum, cols=COLS, rows=ROWS, env=env)
    try:
        program.wait_for("billing")
        program.read(3.0)  # let the first polls and plots settle

        idle_bytes = program.read(args.idle_seconds)
        idle_rate = idle_bytes / args.idle_seconds

        resize(program, COLS + 1)
        program.read(1.5)
        resize(program, COLS)
        repaint = max(program.read(1.5) - idle_rate * 1.5, 1.0)

        program.read(2.0)
        subprocess.run(
            [*quorum, "deploy", "search", "--env", "staging", "--revision", "bench-1"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        start = time.perf_counter()
        row_bytes = program.read(3.0)
        row = max(row_bytes - idle_rate * (time.perf_counter() - start), 0.0)
    finally:
        program.close()

    print(f"full repaint of {COLS}x{ROWS}: {repaint:,.0f} bytes")
    idle_pct = 100 * idle_rate / repaint
    row_pct = 100 * row / repaint
    print(
        f"idle: {idle_rate:,.0f} bytes/s = {idle_pct:.2f} % of a full repaint per second "
        f"(target <= 1 %) {'OK' if idle_pct <= 1 else 'MISS'}"
    )
    print(
        f"one changed row: {row:,.0f} bytes = {row_pct:.2f} % of a full repaint "
        f"(target <= 5 %) {'OK' if row_pct <= 5 else 'MISS'}"
    )


if __name__ == "__main__":
    main()
