"""Which process runs an action, so another operator can tell running from crashed.

An incomplete action is either still running (a deploy takes minutes) or was left
by a process that died. The claim records the host, the pid and the pid's start
time (Linux's `/proc/PID/stat` field 22, so a reused pid is not taken for the
owner); `actions resolve` refuses an action whose owner is alive.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: str  # the process's start time in clock ticks since boot; "" where unknown

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def this_process() -> Owner:
    pid = os.getpid()
    return Owner(socket.gethostname(), pid, _start_of(pid))


def alive(owner: Owner) -> bool | None:
    """Whether the owner still runs: None when it ran on another host (not knowable here)."""
    if owner.host != socket.gethostname():
        return None
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another account's process: it exists
    start = _start_of(owner.pid)
    return not (owner.start and start and start != owner.start)


def _start_of(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: count after the last ")".
    fields = text.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""
