"""A vote cast in one process, seen in another member's running console: PostgreSQL
(LISTEN quorum_ledger) against the SQLite ledger on one machine, in one run.

The watcher is the console itself (`QuorumApp`, headless, its default pace: the side
panes' timer every 2 s) in a process of its own, as carol. It notes the wall clock at
which each proposal's Approvals row first shows bob's vote. The voter, this process,
opens a proposal as alice, waits a random 0.2-0.7 s (so votes do not line up with the
console's timer), and votes as bob through `Actions.vote`, noting the clock when the
vote has committed. Latency = seen - committed; p50/p95/max over `--votes` votes,
the two ledgers alternated in rounds. Target on loopback: p95 <= 1 s on PostgreSQL.

Idle: with the PostgreSQL console open and nobody acting, the server logs every
statement (`log_statement = all`) for `--idle` seconds; the count of statements in
that window is what the idle console asked (target 0: it only listens).

The server is started for the run (tests/pg_support.py) and removed afterwards.

Run: python bench/bench_ledger_live.py [--votes N] [--rounds N] [--idle S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.config.load import load_config  # noqa: E402
from console.domain.consensus import Kind  # noqa: E402
from console.domain.identity import Identity  # noqa: E402
from console.domain.model import TargetRef  # noqa: E402
from console.engine.actions import Actions  # noqa: E402
from console.engine.session import Session  # noqa: E402
from tests.pg_support import PgServer, binary, initialised, running  # noqa: E402

PROVIDER = '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'
TEAM = '[team]\nmembers = ["alice", "bob", "carol"]\n[policy.production]\nmin_approvals = 2\n'
REF = TargetRef("sim", "api", "production", "deployment/api")


async def watch(config: Path, data: Path, out: Path, stop: Path) -> None:
    """The console as carol: each proposal id with the instant bob's vote showed."""
    from console.app import QuorumApp
    from console.domain.pace import pace_for
    from console.engine.session import open_session

    args = argparse.Namespace(config=str(config), sandbox=False, readonly=True)
    session = open_session(args, postgres_ready=True)
    session.data_dir = data
    app = QuorumApp(session, pace=pace_for(False, {}), identity=Identity("carol", "carol"))
    seen: set[str] = set()
    async with app.run_test(size=(120, 40)):
        with out.open("a") as sink:
            print("ready", time.time(), file=sink, flush=True)
            while not stop.exists():
                try:
                    items = app.approvals_pane.items
                except Exception:  # the pane mounts after the first frame
                    items = {}
                for key, item in items.items():
                    if key not in seen and any(v.voter == "bob" for v in item.votes):
                        seen.add(key)
                        print(key, time.time(), file=sink, flush=True)
                await asyncio.sleep(0.005)


class Ledger:
    """One ledger kind: its config, its watcher console, alice and bob's actions."""

    def __init__(self, name: str, folder: Path, server: PgServer | None) -> None:
        self.name, self.folder, self.server = name, folder, server
        folder.mkdir(parents=True)
        self.config = folder / "quorum.toml"
        ledger = ""
        if server is not None:
            database = initialised(server, "live_bench")
            ledger = f'[ledger]\nurl = "postgresql://127.0.0.1:{server.port}/{database}"\n'
        self.config.write_text(f"{TEAM}{ledger}\n{PROVIDER}")
        self.out, self.stop = folder / "seen.txt", folder / "stop"
        env = {**os.environ, "QUORUM_SANDBOX_TEAMMATES": "off", "QUORUM_DATA_DIR": str(folder)}
        if server is not None:
            env.update(server.env("carol"))
        self.watcher = subprocess.Popen(
            [sys.executable, __file__, "--watch", str(self.config), str(folder), str(self.out),
             str(self.stop)],
            env=env, cwd=ROOT,
        )  # fmt: skip
        self.alice = self._actions("alice")
        self.bob = self._actions("bob")
        self.replicas = 0

    def _actions(self, who: str) -> Actions:
        """`who`'s engine, its stores opened now (on PostgreSQL, as `who`'s role)."""
        from providers.base import ProviderContext
        from providers.registry import build_provider

        if self.server is not None:
            os.environ.update(self.server.env(who))
        os.environ["QUORUM_SANDBOX_TEAMMATES"] = "off"
        config = load_config(self.config)
        context = ProviderContext(data_dir=self.folder, readonly=False)
        (pc,) = config.providers
        provider = build_provider(pc.name, pc.kind, dict(pc.settings), context)
        session = Session(config, self.folder, False, providers={pc.name: provider})
        actions = Actions(session, identity=Identity(who, who, via_seam=self.server is None))
        actions.audit, actions.ledger  # noqa: B018  connected as `who`
        return actions

    def seen(self) -> dict[str, float]:
        if not self.out.exists():
            return {}
        found = {}
        for line in self.out.read_text().splitlines():
            key, _, at = line.partition(" ")
            found[key] = float(at)
        return found

    async def one_vote(self) -> float:
        self.replicas += 1
        made = await self.alice.propose(Kind.SCALE, REF, replicas=self.replicas, reason="bench")
        pid = made.proposal.id
        await asyncio.sleep(random.uniform(0.2, 0.7))
        await self.bob.vote(pid, approve=True)
        committed = time.time()
        deadline = committed + 30
        while time.time() < deadline:
            at = self.seen().get(f"proposal-{pid}")
            if at is not None:
                return at - committed
            await asyncio.sleep(0.005)
        raise RuntimeError(f"{self.name}: the console never showed bob's vote on {pid}")

    def close(self) -> None:
        self.stop.touch()
        self.watcher.wait(timeout=60)
        self.alice.close()
        self.bob.close()


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def ready(ledger: Ledger) -> None:
    while "ready" not in ledger.seen():
        await asyncio.sleep(0.05)
    await asyncio.sleep(3)  # the console's start reads (catch-up, audit head) are over


def reload(server: PgServer) -> None:
    server._as_server([binary("pg_ctl"), "-D", str(server.data), "reload"], timeout=60)


def idle_statements(server: PgServer, seconds: float) -> int:
    """Statements the server ran in `seconds` while only the idle console is connected."""
    log = server.root / "server.log"
    conf = server.data / "postgresql.conf"
    kept = conf.read_text()
    conf.write_text(kept + "\nlog_statement = 'all'\n")
    reload(server)
    time.sleep(1)
    try:
        idle = _statements(log, lambda: time.sleep(seconds))
        # The control: one statement in a window of its own is counted, so a 0 above
        # is the console's silence, not a log that records nothing.
        control = _statements(log, lambda: server.psql("SELECT 1") and time.sleep(1))
    finally:
        conf.write_text(kept)
        reload(server)
    if control < 1:
        raise RuntimeError("the server's log recorded no statement: the idle count proves nothing")
    return idle


def _statements(log: Path, during: Callable[[], object]) -> int:
    start = log.stat().st_size
    during()
    with log.open("rb") as f:
        f.seek(start)
        window = f.read().decode(errors="replace")
    return sum(1 for line in window.splitlines() if "statement:" in line)


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="quorum-live-"))
    with running() as server:
        ledgers = [
            Ledger("sqlite", folder / "sqlite", None),
            Ledger("postgres", folder / "pg", server),
        ]
        try:
            for ledger in ledgers:
                await ready(ledger)
            idle = idle_statements(server, args.idle)
            latencies: dict[str, list[float]] = {ledger.name: [] for ledger in ledgers}
            per_round = max(1, args.votes // args.rounds)
            for _ in range(args.rounds):
                for ledger in ledgers:
                    for _ in range(per_round):
                        latencies[ledger.name].append(await ledger.one_vote())
        finally:
            for ledger in ledgers:
                ledger.close()
    for name, found in latencies.items():
        ms = [x * 1000 for x in found]
        print(f"{name:8} votes {len(ms):3}  p50 {p(ms, 0.5):7.0f} ms  p95 {p(ms, 0.95):7.0f} ms"
              f"  max {max(ms):7.0f} ms")  # fmt: skip
    ratio = p(latencies["postgres"], 0.95) / p(latencies["sqlite"], 0.95)
    print(f"p95 postgres/sqlite: {ratio:.2f}x")
    print(f"statements the idle PostgreSQL console sent in {args.idle:.0f} s: {idle}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--watch", nargs=4)
    parsed = parser.parse_args()
    if parsed.watch:
        config, data, out, stop = (Path(x) for x in parsed.watch)
        asyncio.run(watch(config, data, out, stop))
    else:
        asyncio.run(main(parsed))
