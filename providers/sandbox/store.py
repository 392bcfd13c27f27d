"""The sandbox world's memory: the moment it was born and every change made to it.

Everything else about the world is a function of the clock, so this small SQLite
file in the data directory is all that separate processes need to agree: a deploy
recorded by one `quorum` command is in the next snapshot of any other. Writes are
one `BEGIN IMMEDIATE` transaction each, so concurrent writers queue instead of
losing a change, and a decision that depends on history (which revision is
"previous") is taken inside the same transaction that records it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FILENAME = "sandbox-world.db"
BUSY_TIMEOUT_S = 30


def open_connection(path: Path) -> sqlite3.Connection:
    """The world's own connection: the sandbox is a provider, and providers keep out of
    Quorum's ledger, so it opens its file itself (WAL, a busy wait, explicit BEGINs)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


DEPLOY = "deploy"
ROLLBACK = "rollback"
RESTART = "restart"
SCALE = "scale"
PAUSE = "pause"  # `kubectl rollout pause`: a rollout under way stands still
RESUME = "resume"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS world (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    revision TEXT,
    replicas INTEGER
);
CREATE INDEX IF NOT EXISTS events_by_target ON events (provider, service, environment, at);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    until REAL NOT NULL,
    author TEXT NOT NULL,
    comment TEXT NOT NULL,
    expired INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Change:
    """One change made to a target; `at` is seconds since the epoch."""

    at: float
    kind: str
    revision: str = ""
    replicas: int = 0


TargetKey = tuple[str, str]  # (service, environment)


# One first open at a time in this process: the providers' snapshots run in worker
# threads, and SQLite refuses at once ("database is locked"), without waiting, a
# connection that switches a new file to WAL while another connection does the same.
_OPENING = threading.Lock()


class WorldStore:
    """Reads and appends the world's changes; one connection per thread, opened lazily."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILENAME
        self._local = threading.local()
        self._genesis: float | None = None

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with _OPENING:
                conn = open_connection(self.path)
                conn.executescript(_SCHEMA)
            self._local.conn = conn
        return conn

    def genesis(self, now: float) -> float:
        """When the world was first used; `now` becomes it if this is the first use."""
        if self._genesis is None:
            conn = self._conn()
            conn.execute(
                "INSERT OR IGNORE INTO world (key, value) VALUES ('genesis', ?)", (repr(now),)
            )
            row = conn.execute("SELECT value FROM world WHERE key = 'genesis'").fetchone()
            self._genesis = float(row[0])
        return self._genesis

    def changes(self, provider: str) -> dict[TargetKey, list[Change]]:
        """Every change made to `provider`'s targets, oldest first, by (service, env)."""
        rows = self._conn().execute(
            "SELECT service, environment, at, kind, revision, replicas FROM events"
            " WHERE provider = ? ORDER BY at, id",
            (provider,),
        )
        out: dict[TargetKey, list[Change]] = {}
        for service, env, at, kind, revision, replicas in rows:
            out.setdefault((service, env), []).append(
                Change(at, kind, revision or "", replicas or 0)
            )
        return out

    def record(
        self,
        provider: str,
        target: TargetKey,
        decide: Callable[[list[Change]], Change],
    ) -> Change:
        """Append the change `decide` makes from the target's history, atomically.

        `decide` sees the history as of inside the write lock, so two processes
        rolling back at once cannot both pick the same "previous" revision; an
        exception from it records nothing.
        """
        conn = self._conn()
        service, env = target
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = conn.execute(
                "SELECT at, kind, revision, replicas FROM events"
                " WHERE provider = ? AND service = ? AND environment = ? ORDER BY at, id",
                (provider, service, env),
            ).fetchall()
            history = [Change(at, kind, rev or "", n or 0) for at, kind, rev, n in rows]
            change = decide(history)
            conn.execute(
                "INSERT INTO events (provider, service, environment, at, kind, revision, replicas)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (provider, service, env, change.at, change.kind, change.revision, change.replicas),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return change

    def add_silence(
        self, provider: str, silence: str, fingerprint: str, until: float, author: str, comment: str
    ) -> None:
        """Records a silence of one simulated alert until `until` (seconds since the epoch)."""
        self._conn().execute(
            "INSERT INTO silences (id, provider, fingerprint, until, author, comment)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (silence, provider, fingerprint, until, author, comment),
        )

    def expire_silence(self, provider: str, silence: str) -> bool:
        """Ends a silence now; False when `provider` has no such silence still running."""
        done = self._conn().execute(
            "UPDATE silences SET expired = 1 WHERE provider = ? AND id = ? AND expired = 0",
            (provider, silence),
        )
        return done.rowcount == 1

    def silences(self, provider: str, now: float) -> dict[str, tuple[str, ...]]:
        """The silences running at `now`, as their ids by the fingerprint they silence."""
        rows = self._conn().execute(
            "SELECT fingerprint, id FROM silences WHERE provider = ? AND expired = 0"
            " AND until > ? ORDER BY id",
            (provider, now),
        )
        out: dict[str, tuple[str, ...]] = {}
        for fingerprint, silence in rows:
            out[fingerprint] = (*out.get(fingerprint, ()), silence)
        return out

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
