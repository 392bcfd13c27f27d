"""The audit log on a PostgreSQL ledger, measured beside plain INSERTs into the same server.

append: `PgAuditLog.append` as a member (one transaction per record: the server's
function checks the member, locks the chain head, hashes the record in SQL, inserts it
and moves the head) against plain INSERTs of the same rows into a plain table of the
same shape, one autocommitted INSERT per row, on the same server, by the same member,
rounds alternated. Target: >= 0.3x the plain rate.

Also reported (no target): the same with 4 processes appending at once against 4
processes inserting plainly, which shows what serialising on the head costs.

The server is started for the run (tests/pg_support.py: initdb in a temporary
directory, fsync off as in the tests) and removed afterwards.

Run: python bench/bench_ledger_pg.py [--appends N] [--rounds N] [--procs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from console.domain.settings import LedgerConfig  # noqa: E402
from console.store.postgres.audit import PgAuditLog  # noqa: E402
from tests.pg_support import OWNER, PgServer, initialised, running  # noqa: E402

ROW = (
    "deploy",
    "main-cluster/production/api",
    "production",
    "v1.42.0",
    "finished",
    "routine release",
    "deploy-api-production-v1.42.0",
)

PLAIN = """
CREATE TABLE public.plain_log (
    seq bigserial PRIMARY KEY, ts text NOT NULL, who text NOT NULL, action text NOT NULL,
    target text NOT NULL, environment text NOT NULL, revision text NOT NULL,
    outcome text NOT NULL, comment text NOT NULL, key text NOT NULL,
    prev_hash text NOT NULL, hash text NOT NULL
);
GRANT INSERT ON public.plain_log TO alice;
GRANT USAGE ON SEQUENCE public.plain_log_seq_seq TO alice;
"""

WORKER = """
import sys, psycopg
from console.domain.settings import LedgerConfig
from console.store.postgres.audit import PgAuditLog
kind, conninfo, url, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
row = ("deploy", "main-cluster/production/api", "production", "v1.42.0", "finished",
       "routine release", "deploy-api-production-v1.42.0")
if kind == "audit":
    with PgAuditLog(LedgerConfig(url=url)) as log:
        for _ in range(n):
            log.append(action=row[0], target=row[1], environment=row[2], revision=row[3],
                       outcome=row[4], comment=row[5], key=row[6])
else:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for _ in range(n):
            conn.execute(
                "INSERT INTO public.plain_log (ts, who, action, target, environment, revision,"
                " outcome, comment, key, prev_hash, hash) VALUES (to_char(now(), 'YYYY'),"
                " session_user, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (*row, "0" * 64, "0" * 64),
            )
"""


def audit_appends(log: PgAuditLog, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        log.append(
            action=ROW[0],
            target=ROW[1],
            environment=ROW[2],
            revision=ROW[3],
            outcome=ROW[4],
            comment=ROW[5],
            key=ROW[6],
        )
    return time.perf_counter() - start


def plain_inserts(conn: psycopg.Connection, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        conn.execute(
            "INSERT INTO public.plain_log (ts, who, action, target, environment, revision, "
            "outcome, comment, key, prev_hash, hash) VALUES (to_char(now(), 'YYYY'), "
            "session_user, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (*ROW, "0" * 64, "0" * 64),
        )
    return time.perf_counter() - start


def parallel(server: PgServer, database: str, kind: str, procs: int, n: int) -> float:
    url = f"postgresql://127.0.0.1:{server.port}/{database}"
    env = {"PATH": "/usr/bin:/bin", **server.env("alice")}
    start = time.perf_counter()
    running_ = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, kind, server.conninfo("alice", database), url, str(n)],
            cwd=ROOT,
            env=env,
        )
        for _ in range(procs)
    ]
    for process in running_:
        if process.wait() != 0:
            raise SystemExit(f"a {kind} worker failed")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--procs", type=int, default=4)
    args = parser.parse_args()
    with running() as server:
        database = initialised(server, "bench")
        with psycopg.connect(server.conninfo(OWNER, database), autocommit=True) as owner:
            owner.execute(PLAIN)
        ledger = LedgerConfig(url=f"postgresql://127.0.0.1:{server.port}/{database}")
        for key, value in server.env("alice").items():
            import os

            os.environ[key] = value
        audit_times, plain_times = [], []
        with (
            PgAuditLog(ledger) as log,
            psycopg.connect(server.conninfo("alice", database), autocommit=True) as conn,
        ):
            audit_appends(log, 200)  # warm both paths
            plain_inserts(conn, 200)
            for _ in range(args.rounds):
                audit_times.append(audit_appends(log, args.appends))
                plain_times.append(plain_inserts(conn, args.appends))
            result = log.verify()
        audit_rate = args.appends / min(audit_times)
        plain_rate = args.appends / min(plain_times)
        # Each round's pair ran side by side, so its ratio sees the same load; the median
        # of the pairs is the figure (a shared machine's load swings between rounds).
        pairs = sorted(p / a for a, p in zip(audit_times, plain_times, strict=True))
        print(f"append, one member: {audit_rate:,.0f}/s audit against {plain_rate:,.0f}/s plain")
        print(
            f"  ratio {pairs[len(pairs) // 2]:.2f}x median of {len(pairs)} paired rounds "
            f"({pairs[0]:.2f}-{pairs[-1]:.2f}; target >= 0.3x); chain ok: {result.ok}"
        )
        n = args.appends // args.procs
        audit_par = parallel(server, database, "audit", args.procs, n)
        plain_par = parallel(server, database, "plain", args.procs, n)
        print(
            f"append, {args.procs} processes at once: {args.procs * n / audit_par:,.0f}/s audit "
            f"against {args.procs * n / plain_par:,.0f}/s plain, "
            f"ratio {plain_par / audit_par:.2f}x"
        )
        with PgAuditLog(ledger) as log:
            print(f"  chain after the parallel appends: {log.verify()}")


if __name__ == "__main__":
    main()
