"""Bytes to the terminal on the live default view: what an SSH link carries while nobody types.

`quorum --sandbox` (the world running: logs streaming, metrics drifting, staging builds
arriving) under a 120x40 pseudo-terminal. After the first 6 s (start-up, first polls,
the panes' first streams) the bytes written over `--seconds` give the rate; then, in the
same run, one full repaint of the same screen: the window is resized to 121 columns and
back, and the full-screen update Textual writes for the second resize (rows 1 to 40,
each from its first column) is cut out of the output and counted. Prints the rate
against that repaint. Target: <= 3 % per second; with `--slow-link`, <= 1 KB/s.

`--areas` adds where the bytes went: every cursor move Textual writes starts a run of
cells, and each run's bytes are counted against its screen position.

`--logs-focused` presses `l` first (the Logs pane takes the focus, so its lines are
drawn as they come): what someone reading the log costs, with no target.

    python bench/bench_live.py [--seconds N] [--slow-link] [--logs-focused] [--areas]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import signal
import struct
import sys
import tempfile
import termios
from collections import Counter
from pathlib import Path

from ptyrun import PtyProgram

COLS, ROWS = 120, 40
WARM_UP = 6.0
_MOVE = re.compile(rb"\x1b\[(\d+);(\d+)H")


def resize(program: PtyProgram, cols: int) -> None:
    fcntl.ioctl(program.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, cols, 0, 0))
    os.kill(program.pid, signal.SIGWINCH)


def full_update(output: bytes) -> int:
    """The bytes of the last full-screen update in `output`: a cursor move to the first
    column of every row in order, 1 to ROWS, with each row's cells between them."""
    found = 0
    for first in re.finditer(rb"\x1b\[1;1H", output):
        row = 1
        for move in _MOVE.finditer(output, first.end()):
            if row == ROWS:  # the last row's cells end at the next cursor move
                found = move.start() - first.start()
                break
            if (int(move.group(1)), int(move.group(2))) != (row + 1, 1):
                break
            row += 1
        else:
            if row == ROWS:
                found = len(output) - first.start()
    return found


def areas(output: bytes) -> Counter[tuple[int, int]]:
    """Bytes per run start (row, column): a cursor move and what follows up to the next."""
    counts: Counter[tuple[int, int]] = Counter()
    moves = list(_MOVE.finditer(output))
    start = (0, 0)
    for move, following in zip(moves, [*moves[1:], None], strict=True):
        end = following.start() if following else len(output)
        if output[move.end() : end].strip(b"\r\n"):
            start = (int(move.group(1)), int(move.group(2)))
        # else a move with no cells after it, ending the run before it: counted there
        counts[start] += end - move.start()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--slow-link", action="store_true", help="run quorum --slow-link")
    parser.add_argument("--areas", action="store_true", help="print where the bytes went")
    parser.add_argument(
        "--logs-focused", action="store_true", help="press l first: someone reading the log"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp())
    env = {"QUORUM_DATA_DIR": str(work / "data")}
    quorum = [sys.executable, "-m", "console", "--sandbox"]
    if args.slow_link:
        quorum.append("--slow-link")
    program = PtyProgram(quorum, cols=COLS, rows=ROWS, env=env)
    try:
        program.wait_for("billing")
        if args.logs_focused:
            program.read(1.0)
            program.send(b"l")
        program.read(WARM_UP)
        start = len(program.output)
        idle = program.read(args.seconds)
        live = bytes(program.output[start:])

        resize(program, COLS + 1)
        program.read(1.5)
        mark = len(program.output)
        resize(program, COLS)
        after = program.read(1.5)
        screen = full_update(bytes(program.output[mark:]))
    finally:
        program.close()
    if not screen:
        raise SystemExit("no full-screen update found after the resize")

    rate = idle / args.seconds
    repaint = max(after - rate * 1.5, screen)
    pct = 100 * rate / repaint
    mode = " --slow-link" if args.slow_link else ""
    mode += ", the Logs pane focused" if args.logs_focused else ""
    print(f"quorum --sandbox{mode} at {COLS}x{ROWS}, {args.seconds:.0f} s after the first 6 s")
    print(f"full repaint after a resize: {repaint:,.0f} B; one full-screen update: {screen:,} B")
    print(f"live: {rate:,.0f} B/s = {100 * rate / screen:.2f} % of the one-pass repaint, ", end="")
    print(f"{pct:.2f} % of a full repaint per second", end=" ")
    if args.logs_focused:
        print("(no target: someone is reading the log)")
    elif args.slow_link:
        print(f"(target <= 1,024 B/s) {'OK' if rate <= 1024 else 'MISS'}")
    else:
        print(f"(target <= 3 %) {'OK' if pct <= 3 else 'MISS'}")
    if args.areas:
        print("bytes/s by screen area (row range, column range of where each run starts):")
        by_area: Counter[str] = Counter()
        for (row, col), count in areas(live).items():
            by_area[_area(row, col)] += count
        for name, count in by_area.most_common():
            print(f"  {name:<28} {count / args.seconds:8.1f}")


def _area(row: int, col: int) -> str:
    """The 120x40 default layout's panes, by where a run of cells starts."""
    if row == 1:
        return "top bar and clock (row 1)"
    if row >= 38:
        return "status and footer (38-40)"
    top = row <= 19
    if col <= 84 and top:
        return "services (2-19, 1-84)"
    if top:
        return "approvals (2-19, 85-120)"
    if col <= 50:
        return "logs (20-37, 1-50)"
    if col <= 84:
        return "metrics (20-37, 51-84)"
    return "rotation and audit (20-37, 85-120)"


if __name__ == "__main__":
    main()
