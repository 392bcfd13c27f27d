"""Audit log costs, each measured beside its plain-SQLite baseline in the same run.

append: `AuditLog.append` (lock, read head, hash, insert, head trigger) against plain
INSERTs of the same rows with the same pragmas, one transaction per row.
Target: >= 0.3x the plain rate.

verify: `AuditLog.verify` over 100,000 records against a plain full scan
(`SELECT * FROM audit_log`, every row fetched). Target: <= 3x the scan's time.
An idempotency-key lookup (`by_key`, unindexed) is timed against the same scan.

million: `AuditLog.verify` of 1,000,000 records (`--million`) as `quorum audit verify`
runs it (with the head seen last pinned, here the middle record) against a streaming
scan of the same rows (every row fetched, none kept), each in a fresh process,
alternated; times and peak resident memory. Targets: <= 3x the scan's time; memory
flat (the verify's peak within a few MiB of the scan's, whatever the log's length).

Run: python bench/bench_audit.py [--appends N] [--records N] [--rounds N] [--million N]
     [--million-db PATH] [--only-million] [--tree PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console.store.audit import GENESIS, AuditLog, _digest  # noqa: E402
from console.store.db import connect  # noqa: E402

ROW = {
    "who": "alice",
    "action": "deploy",
    "target": "main-cluster/production/api",
    "environment": "production",
    "revision": "v1.42.0",
    "outcome": "finished",
    "comment": "routine release",
    "key": "deploy-api-production-v1.42.0",
}

PLAIN_SCHEMA = """
CREATE TABLE plain_log (
    seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, environment TEXT NOT NULL, revision TEXT NOT NULL,
    outcome TEXT NOT NULL, comment TEXT NOT NULL, key TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
)
"""


def best(rounds: int, run: Callable[[], None]) -> float:
    """The fastest of `rounds` runs, in seconds: the least disturbed by neighbours."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_append(folder: Path, n: int, rounds: int) -> tuple[float, float]:
    log = AuditLog(folder / "append.db")
    plain = connect(folder / "plain.db").conn
    plain.execute(PLAIN_SCHEMA)
    values = (
        "2026-01-01T00:00:00.000000Z",
        *ROW.values(),
        "0" * 64,
        "f" * 64,
    )

    def audit_appends() -> None:
        for _ in range(n):
            log.append(**ROW)

    def plain_inserts() -> None:
        for _ in range(n):
            plain.execute("BEGIN IMMEDIATE")
            plain.execute(
                "INSERT INTO plain_log (ts, who, action, target, environment, revision, "
                "outcome, comment, key, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                values,
            )
            plain.execute("COMMIT")

    audit_t = plain_t = float("inf")
    for _ in range(rounds):  # alternate, so both see the same machine
        audit_t = min(audit_t, best(1, audit_appends))
        plain_t = min(plain_t, best(1, plain_inserts))
    log.close()
    plain.close()
    return n / audit_t, n / plain_t


def bench_verify(folder: Path, n: int, rounds: int) -> tuple[float, float, float]:
    log = AuditLog(folder / "verify.db")
    for i in range(n):
        log.append(**{**ROW, "key": f"k{i}"})
    conn = connect(folder / "verify.db").conn

    def verify() -> None:
        result = log.verify()
        assert result.ok and result.checked == n, result

    def scan() -> None:
        rows = conn.execute("SELECT * FROM audit_log").fetchall()
        assert len(rows) == n

    def lookup() -> None:
        assert len(log.by_key(f"k{n // 2}")) == 1

    verify_t = scan_t = float("inf")
    for _ in range(rounds):
        verify_t = min(verify_t, best(1, verify))
        scan_t = min(scan_t, best(1, scan))
    lookup_t = best(rounds, lookup)
    log.close()
    conn.close()
    return verify_t, scan_t, lookup_t


MEASURED = """
import resource, sys, time
sys.path.insert(0, {root!r})
from console.store.audit import AuditLog
from console.store.db import connect
path, what, n = {path!r}, {what!r}, {n}
start = time.perf_counter()
if what == "verify":
    with AuditLog(path) as log:
        pinned = (n // 2, log.hash_at(n // 2))
        result = log.verify(pinned=pinned)
    assert result.ok and result.checked == n, result
else:
    conn = connect(path).conn
    count = 0
    for _row in conn.execute("SELECT * FROM audit_log ORDER BY seq"):
        count += 1
    assert count == n
took = time.perf_counter() - start
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def build_million(path: Path, n: int) -> None:
    """A valid chain of `n` records, written in one transaction (appends one by one
    would take minutes); the log's own triggers check every insert and move its head."""
    log = AuditLog(path)
    log.close()
    conn = connect(path).conn

    def rows():  # noqa: ANN202 - a generator of insert tuples
        prev = GENESIS
        for seq in range(1, n + 1):
            fields = (seq, "2026-01-01T00:00:00.000000Z", *{**ROW, "key": f"k{seq}"}.values(), prev)
            digest = _digest(fields)
            yield (*fields, digest)
            prev = digest

    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO audit_log (seq, ts, who, action, target, environment, revision, outcome, "
        "comment, key, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows(),
    )
    conn.execute("COMMIT")
    conn.close()


def measured(path: Path, what: str, n: int, tree: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of `what` over the log at `path`, in a fresh process
    running the checkout at `tree`."""
    code = MEASURED.format(root=str(tree), path=str(path), what=what, n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    took, kib = out.stdout.split()
    return float(took), int(kib) / 1024


def bench_million(path: Path, n: int, rounds: int, tree: Path) -> None:
    if not path.exists():
        started = time.perf_counter()
        build_million(path, n)
        print(f"built {n:,} records in {time.perf_counter() - started:.0f} s", flush=True)
    verify: list[tuple[float, float]] = []
    scan: list[tuple[float, float]] = []
    for _ in range(rounds):
        verify.append(measured(path, "verify", n, tree))
        scan.append(measured(path, "scan", n, tree))
    verify_t, scan_t = min(t for t, _ in verify), min(t for t, _ in scan)
    verify_m, scan_m = max(m for _, m in verify), max(m for _, m in scan)
    print(
        f"verify {n:,} records (pinned, as `quorum audit verify`): {verify_t:.2f} s, "
        f"streaming scan {scan_t:.2f} s, ratio {verify_t / scan_t:.2f}x (target <= 3x); "
        f"peak RSS {verify_m:.0f} MiB against the scan's {scan_m:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--million-db", type=Path, help="keep the million-record log here")
    parser.add_argument("--only-million", action="store_true")
    parser.add_argument(
        "--tree",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the checkout whose AuditLog.verify the million-record run measures",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_million(
            args.million_db or folder / "million.db", args.million, args.rounds, args.tree
        )
        if args.only_million:
            return
        audit_rate, plain_rate = bench_append(folder, args.appends, args.rounds)
        print(
            f"append: audit {audit_rate:,.0f}/s, plain sqlite3 {plain_rate:,.0f}/s, "
            f"ratio {audit_rate / plain_rate:.2f}x (target >= 0.3x)"
        )
        verify_t, scan_t, lookup_t = bench_verify(folder, args.records, args.rounds)
        print(
            f"verify {args.records:,} records: {verify_t * 1000:.0f} ms, "
            f"plain full scan {scan_t * 1000:.0f} ms, ratio {verify_t / scan_t:.2f}x "
            "(target <= 3x)"
        )
        print(
            f"by_key over {args.records:,} records: {lookup_t * 1000:.1f} ms "
            f"({lookup_t / scan_t:.2f}x the full scan)"
        )


if __name__ == "__main__":
    main()
