"""Who holds a rotation, asked on a PostgreSQL ledger: a new connection per read
against the process's kept connection, side by side.

`holder_at` opens the rotation store for every read (the console's Rotation pane and
forms, every `quorum rotation` command, the holder a proposal's vote needs). Before:
each opening logs in again (`PgRotationStore(ledger)`). After: the process keeps one
connection per role (`PgRotationStore(ledger, kept=True)`, what
`console.store.backends.open_rotation` opens). Each round runs N calls of each, the
two loops alternated; the median round of each and their ratio are printed.

The server is started for the run (tests/pg_support.py: initdb in a temporary
directory, fsync off as in the tests) and removed afterwards.

Run: python bench/bench_rotation_pg.py [--calls N] [--rounds N] (50 calls, 11 rounds)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.config.load import load_config  # noqa: E402
from console.domain.settings import Config  # noqa: E402
from console.rotation import schedule  # noqa: E402
from console.store.postgres.rotation import PgRotationStore  # noqa: E402
from tests.pg_support import initialised, running  # noqa: E402

CONFIG = """[team]
members = ["alice", "bob"]
[ledger]
url = "postgresql://127.0.0.1:{port}/{database}"
[[rotation]]
name = "primary"
every = "week"
members = ["alice", "bob"]
start = 2026-01-05
handoff = "09:00"
timezone = "UTC"
"""


def timed(config: Config, calls: int) -> float:
    """Seconds for `calls` reads of who holds the rotation now."""
    now = datetime.now(UTC)
    start = time.perf_counter()
    for _ in range(calls):
        assert schedule.holder_at(config, "primary", now, config.ledger)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    with running() as server, tempfile.TemporaryDirectory() as folder:
        for role in ("alice", "bob"):
            server.member(role)
        database = initialised(server, "bench_rotation", ("alice", "bob"))
        os.environ.update(server.env("alice"))
        path = Path(folder) / "quorum.toml"
        path.write_text(CONFIG.format(port=server.port, database=database))
        config = load_config(path)
        before, after = [], []
        for _ in range(args.rounds):
            # Before: each opening logs in again, as open_rotation did.
            with mock.patch("console.store.backends.open_rotation", PgRotationStore):
                before.append(timed(config, args.calls))
            after.append(timed(config, args.calls))
        b, a = statistics.median(before), statistics.median(after)
        per = 1000 / args.calls
        print(f"holder_at x{args.calls}, median of {args.rounds} rounds")
        print(f"  a new connection per read: {b * 1000:.0f} ms ({b * per:.2f} ms/call)")
        print(f"  the kept connection:       {a * 1000:.0f} ms ({a * per:.2f} ms/call)")
        print(f"  ratio: {b / a:.1f}x")


if __name__ == "__main__":
    main()
