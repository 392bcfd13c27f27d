"""Runs a terminal program under a pseudo-terminal and watches what it writes.

The benchmarks measure what a user (or an SSH link) sees: time until a text is on
screen, and how many bytes the program sends. Nothing here is Quorum-specific.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from collections.abc import Sequence

_ESCAPES = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-_])")


class PtyProgram:
    """A child process on a pty of a fixed size; `read()` collects its output bytes."""

    def __init__(self, argv: Sequence[str], *, cols: int = 120, rows: int = 40, env=None):
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child
            os.execvpe(argv[0], list(argv), {**os.environ, "TERM": "xterm-256color", **(env or {})})
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.output = bytearray()
        self._plain = bytearray()

    def read(self, timeout: float) -> int:
        """Read whatever arrives within `timeout` seconds; returns the byte count."""
        got = 0
        end = time.perf_counter() + timeout
        while (left := end - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                break
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            got += len(chunk)
            self.output += chunk
        return got

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """Seconds from exec until `text` appears in the output (escapes stripped)."""
        needle = text.encode()
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            self.read(0.01)
            if needle in _ESCAPES.sub(b"", bytes(self.output)):
                return time.perf_counter() - self.started
        raise TimeoutError(f"{text!r} never appeared")

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def drain(self, quiet: float = 0.5, limit: float = 10.0) -> int:
        """Read until the program has been silent for `quiet` seconds; bytes read."""
        total, end = 0, time.perf_counter() + limit
        while time.perf_counter() < end:
            got = self.read(quiet)
            total += got
            if got == 0:
                break
        return total

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)
