"""Several consoles on one bastion append to one file at once: nothing lost, one chain."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from console.store.audit import AuditLog
from tests.paths import ROOT

PROCESSES = 8
APPENDS = 100

WRITER = """
import sys
from pathlib import Path
from console.store.audit import AuditLog

path, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.stdin.readline()  # start together: wait until every writer is up
with AuditLog(path) as log:
    for i in range(count):
        log.append(who=name, action="deploy", target="api", comment=str(i), key=f"{name}-{i}")
"""


def test_eight_processes_append_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "audit.db"
    root = ROOT
    logs = [tmp_path / f"writer{n}.err" for n in range(PROCESSES)]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"console{n}", str(APPENDS)],
            stdin=subprocess.PIPE,
            stderr=log.open("w"),
            cwd=root,
            text=True,
        )
        for n, log in enumerate(logs)
    ]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.close()
    codes = [writer.wait(timeout=240) for writer in writers]
    assert codes == [0] * PROCESSES, [log.read_text() for log in logs]

    with AuditLog(path) as log:
        result = log.verify()
        records = log.tail(PROCESSES * APPENDS + 10)
    assert (result.ok, result.checked) == (True, PROCESSES * APPENDS), result.reason
    assert [r.seq for r in records] == list(range(1, PROCESSES * APPENDS + 1))
    by_writer: dict[str, list[int]] = defaultdict(list)
    for record in records:
        by_writer[record.who].append(int(record.comment))
    assert len(by_writer) == PROCESSES
    for counts in by_writer.values():
        assert counts == list(range(APPENDS))  # each console's records in its own order
    assert len({r.hash for r in records}) == PROCESSES * APPENDS
