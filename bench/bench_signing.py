"""What signing costs, each figure measured beside its unsigned baseline in the same run.

verify: `AuditLog.verify` over N records whose authors signed them (every signature
checked, on every core) against the same verify of an unsigned log of N records
(the hash chain alone). Target: <= 3x. Also the verify a person runs day to day:
signatures checked only after the head this account verified last (1,000 new
records), the rest vouched for by the chain's hashes.

Beside it, in the same run: the signatures alone checked on every core against on
one thread (`first_bad`'s workers), and one ed25519 check through OpenSSL
(`cryptography`) against libsodium (PyNaCl), which Quorum uses, over the same
signed data. Each verify figure is given as wall time and as CPU time (every
thread's): on a shared machine the wall time follows the other processes' load,
the CPU time much less.

The signed log is written with ed25519 keys held in memory (100,000 signatures
through an agent would take minutes to set up); the records and signatures are
byte for byte what the agent path writes, and verification does not know the
difference.

vote: `quorum vote`'s engine path (`Actions.vote`: the derived state read, the vote
written, the audit record appended) with signing through a real ssh-agent started
here, against the same path without keys. Needs ssh-agent, ssh-keygen and ssh-add.

Run: python bench/bench_signing.py [--records N] [--votes N] [--rounds N] [--verify-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from console.domain.acts import audit_message  # noqa: E402
from console.domain.consensus import Kind  # noqa: E402
from console.domain.identity import Identity  # noqa: E402
from console.domain.settings import Policy  # noqa: E402
from console.domain.signers import AllowedSigners, parse_allowed_signers  # noqa: E402
from console.domain.sshsig import (  # noqa: E402
    PublicKey,
    assemble,
    ed25519_public,
    ed25519_valid,
    signed_data,
    ssh_string,
)
from console.engine.actions import Actions  # noqa: E402
from console.engine.session import Session, open_session  # noqa: E402
from console.engine.targets import resolve_target  # noqa: E402
from console.store.audit import _SIGNED_COLUMNS, AuditLog  # noqa: E402
from console.store.audit_signatures import first_bad  # noqa: E402
from console.store.db import connect  # noqa: E402

AUTHORS = ("alice", "bob", "carol", "dave")
ROW = {
    "action": "vote",
    "target": "main-cluster/production/api",
    "environment": "production",
    "revision": "v1.42.0",
    "outcome": "approve",
    "comment": "proposal 12",
}


def timed(run: Callable[[], None]) -> tuple[float, float]:
    """(seconds, CPU seconds of every thread of this process) that `run` took. The CPU
    time moves little with the load other processes put on a shared machine."""
    start, used = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - start, time.process_time() - used


def best(rounds: int, run: Callable[[], None]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


class MemoryKey:
    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = PublicKey.from_blob(ssh_string(b"ssh-ed25519") + ssh_string(raw))

    def sign(self, message: bytes) -> str:
        inner = ssh_string(b"ssh-ed25519") + ssh_string(self.private.sign(signed_data(message)))
        return assemble(self.public, inner).compact()


def fill(path: Path, n: int, keys: dict[str, MemoryKey] | None) -> None:
    logs = {who: AuditLog(path, signer=keys[who].sign if keys else None) for who in AUTHORS}
    for i in range(n):
        who = AUTHORS[i % len(AUTHORS)]
        logs[who].append(who=who, key=f"k{i}", **ROW)
    for log in logs.values():
        log.close()


def bench_verify(folder: Path, n: int, rounds: int) -> None:
    keys = {who: MemoryKey() for who in AUTHORS}
    allowed = parse_allowed_signers(
        "".join(f"{who} {key.public.openssh()}\n" for who, key in keys.items())
    )
    members = frozenset(AUTHORS)
    fill(folder / "unsigned.db", n, None)
    fill(folder / "signed.db", n, keys)
    unsigned, signed = AuditLog(folder / "unsigned.db"), AuditLog(folder / "signed.db")
    head = signed.head()

    def plain() -> None:
        assert unsigned.verify().ok

    def full() -> None:
        result = signed.verify(signers=allowed, members=members)
        assert result.ok and result.checked == n, result

    def incremental() -> None:
        seen = (n - 1000, signed.hash_at(n - 1000) or "")
        result = signed.verify(
            signers=allowed, members=members, pinned=seen, signed_through=n - 1000
        )
        assert result.ok, result

    rows = signed_rows(folder / "signed.db")

    def one_thread() -> None:
        assert first_bad(rows, allowed, members, workers=1) is None

    def every_core() -> None:
        assert first_bad(rows, allowed, members) is None

    runs = {"plain": plain, "full": full, "incremental": incremental}
    runs |= {"one thread": one_thread, "every core": every_core}
    wall = dict.fromkeys(runs, float("inf"))
    cpu = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):  # alternate, so all of them see the same machine
        for name, run in runs.items():
            took, used = timed(run)
            wall[name], cpu[name] = min(wall[name], took), min(cpu[name], used)
    assert head == signed.head()

    def line(what: str, name: str, base: str) -> str:
        return (
            f"{what}: {wall[base] * 1000:.0f} ms against {wall[name] * 1000:.0f} ms, "
            f"ratio {wall[name] / wall[base]:.2f}x; CPU {cpu[base] * 1000:.0f} ms against "
            f"{cpu[name] * 1000:.0f} ms, ratio {cpu[name] / cpu[base]:.2f}x"
        )

    print(line(f"verify {n:,} records, unsigned against every signature", "full", "plain"))
    print(line(f"verify {n:,} records, unsigned against 1,000 new", "incremental", "plain"))
    cores = os.cpu_count()
    print(
        line(f"signatures alone, on {cores} cores against one thread", "one thread", "every core")
    )
    unsigned.close()
    signed.close()


def signed_rows(path: Path) -> list[tuple[tuple, str]]:
    """Every record's chained fields and signature, as `AuditLog.verify` streams them."""
    conn = connect(path).conn
    query = (
        f"SELECT {_SIGNED_COLUMNS} FROM audit_log AS l LEFT JOIN audit_signatures AS s "
        "ON s.seq = l.seq ORDER BY l.seq"
    )
    rows = [(row[:-1], row[-1] or "") for row in conn.execute(query)]
    conn.close()
    return rows


def bench_checkers(n: int, rounds: int) -> None:
    """One ed25519 check, OpenSSL against libsodium, over the same n signed messages."""
    key = MemoryKey()
    datas = [
        signed_data(audit_message((i, "2026-01-01T00:00:00.000000Z", *ROW.values())))
        for i in range(n)
    ]
    raws = [key.private.sign(d) for d in datas]
    openssl = key.private.public_key()
    public = ed25519_public(key.public.blob)

    def with_openssl() -> None:
        for raw, data in zip(raws, datas, strict=True):
            openssl.verify(raw, data)

    def with_sodium() -> None:
        assert all(ed25519_valid(public, raw, data) for raw, data in zip(raws, datas, strict=True))

    openssl_t = sodium_t = float("inf")
    for _ in range(rounds):  # CPU time: one thread, and the least disturbed by the load
        openssl_t = min(openssl_t, timed(with_openssl)[1])
        sodium_t = min(sodium_t, timed(with_sodium)[1])
    print(
        f"one ed25519 check (CPU): OpenSSL (cryptography) {openssl_t / n * 1e6:.1f} µs, "
        f"libsodium (PyNaCl) {sodium_t / n * 1e6:.1f} µs, ratio {openssl_t / sodium_t:.2f}x"
    )


class Agent:
    """A real ssh-agent on a temporary socket, holding one ed25519 key per author."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "agent.sock"
        out = subprocess.run(
            ["ssh-agent", "-s", "-a", str(self.socket)], capture_output=True, text=True, check=True
        ).stdout
        self.pid = int(out.split("SSH_AGENT_PID=")[1].split(";")[0])
        lines = []
        for who in AUTHORS:
            key = folder / f"id_{who}"
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
            )
            env = {**os.environ, "SSH_AUTH_SOCK": str(self.socket)}
            subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
            lines.append(f"{who} {(folder / f'id_{who}.pub').read_text()}")
        self.allowed = parse_allowed_signers("".join(lines))

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGTERM)


def bench_vote(folder: Path, n: int, rounds: int) -> None:
    agent = Agent(folder)
    os.environ["SSH_AUTH_SOCK"] = str(agent.socket)
    os.environ["QUORUM_SANDBOX_TEAMMATES"] = "off"
    policy = Policy("production", min_approvals=len(AUTHORS))  # no vote executes

    def session(name: str, signers: AllowedSigners | None) -> Session:
        os.environ["QUORUM_DATA_DIR"] = str(folder / name)
        opened = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
        opened.config = replace(
            opened.config,
            members=AUTHORS,
            signers=signers,
            simulated_teammates=(),
            policies={"production": policy},
        )
        return opened

    async def votes(s: Session) -> float:
        """Seconds per vote: bob approving n fresh proposals (each opened untimed)."""
        ref = (await resolve_target(s, "web", "production")).ref
        alice = Actions(s, identity=Identity("alice", "alice"))
        bob = Actions(s, identity=Identity("bob", "bob"))
        pids = [
            (await alice.propose(Kind.DEPLOY, ref, revision=f"v{i}")).proposal.id for i in range(n)
        ]
        start = time.perf_counter()
        for pid in pids:
            await bob.vote(pid, True)
        took = time.perf_counter() - start
        alice.close()
        bob.close()
        return took / n

    signed_s, plain_s = session("signed", agent.allowed), session("plain", None)
    signed_t = plain_t = float("inf")
    try:
        for _ in range(rounds):  # alternate, so both see the same machine
            plain_t = min(plain_t, asyncio.run(votes(plain_s)))
            signed_t = min(signed_t, asyncio.run(votes(signed_s)))
    finally:
        agent.stop()
    print(
        f"vote: unsigned {plain_t * 1000:.2f} ms, signed through ssh-agent "
        f"{signed_t * 1000:.2f} ms, ratio {signed_t / plain_t:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--votes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--verify-only", action="store_true", help="skip the vote bench")
    args = parser.parse_args()
    bench_checkers(20_000, args.rounds)
    if not args.verify_only:
        with tempfile.TemporaryDirectory(prefix="qbench") as tmp:
            bench_vote(Path(tmp), args.votes, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        bench_verify(Path(tmp), args.records, args.rounds)


if __name__ == "__main__":
    main()
