"""Several consoles append to one ledger at once: nothing lost, one chain. On the SQLite
file they share a bastion; on PostgreSQL they log in as three members."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

from tests.paths import ROOT
from tests.pg_support import MEMBERS, Ledgers

PROCESSES = 8
APPENDS = 100

WRITER = """
import sys
from pathlib import Path

where, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
if where.startswith("postgresql://"):
    from console.domain.settings import LedgerConfig
    from console.store.postgres.audit import PgAuditLog

    log = PgAuditLog(LedgerConfig(url=where))
else:
    from console.store.audit import AuditLog

    log = AuditLog(Path(where))
sys.stdin.readline()  # start together: wait until every writer is up
with log:
    for i in range(count):
        log.append(who=name, action="deploy", target="api", comment=str(i), key=f"{name}-{i}")
"""


def test_eight_processes_append_concurrently(ledgers: Ledgers) -> None:
    where = ledgers.url if ledgers.on_postgres else str(ledgers.path)
    logs = [ledgers.folder / f"writer{n}.err" for n in range(PROCESSES)]
    writers = []
    for n, log in enumerate(logs):
        ledgers.act_as(MEMBERS[n % len(MEMBERS)])
        writers.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, where, f"console{n}", str(APPENDS)],
                stdin=subprocess.PIPE,
                stderr=log.open("w"),
                cwd=ROOT,
                text=True,
            )
        )
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.close()
    codes = [writer.wait(timeout=240) for writer in writers]
    assert codes == [0] * PROCESSES, [log.read_text() for log in logs]

    with ledgers.log("alice") as log:
        result = log.verify()
        records = log.tail(PROCESSES * APPENDS + 10)
    assert (result.ok, result.checked) == (True, PROCESSES * APPENDS), result.reason
    assert [r.seq for r in records] == list(range(1, PROCESSES * APPENDS + 1))
    by_writer: dict[str, list[int]] = defaultdict(list)
    for record in records:
        console, _ = record.key.split("-")
        by_writer[console].append(int(record.comment))
        if ledgers.on_postgres:  # the author is the role the console logged in as
            assert record.who == MEMBERS[int(console.removeprefix("console")) % len(MEMBERS)]
        else:
            assert record.who == console
    assert len(by_writer) == PROCESSES
    for counts in by_writer.values():
        assert counts == list(range(APPENDS))  # each console's records in its own order
    assert len({r.hash for r in records}) == PROCESSES * APPENDS
