"""Quorum's SQLite file, opened and written the one way every store must.

One connect (WAL, a busy timeout), one transaction helper (`immediate`), one
timestamp codec (`to_text`/`from_text`) and one store shape (`Store`). Several
consoles and commands on one bastion share the file, so every connection waits for
a lock instead of failing, and readers never block the writer.

Stores are called from worker threads (the console's event loop must never wait on
SQLite's lock), so a connection may be used by any thread and each store serialises
its own calls with a lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self

from console.domain.errors import QuorumError
from console.store import files

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 30_000


class StoreError(QuorumError, sqlite3.Error):
    """The shared file could not be read or written; one line, exit 1.

    Still an `sqlite3.Error`, so code that handles a failed write (a full disk) the
    same whichever way it was raised keeps handling it."""

    @classmethod
    def of(cls, path: Path, exc: sqlite3.Error) -> StoreError:
        if "locked" in str(exc):
            waited = BUSY_TIMEOUT_MS / 1000
            return cls(f"{path}: another process held the write lock for {waited:g} s; try again")
        return cls(files.explain(exc))


def connect(path: Path) -> sqlite_utils.Database:
    """The shared database at `path`, created with its folder if absent.

    `isolation_level=None` leaves transactions to `immediate`, so each record is one
    explicit transaction; `check_same_thread=False` because stores run in worker
    threads, one call at a time under their lock.
    """
    import sqlite_utils

    path = Path(path).expanduser()
    files.prepare(path)  # the folder and files, with modes a shared folder needs
    conn = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return sqlite_utils.Database(conn)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One `BEGIN IMMEDIATE` transaction: the write lock is held before anything is read,
    so a read-check-write sees the state it writes over. Any failure, the COMMIT's
    included, rolls it back and propagates.

    Raw SQL on purpose: sqlite-utils' `atomic()` begins a deferred transaction, which
    takes the write lock only at the first write, so two processes that both read
    first could each decide on a stale state (or fail to upgrade their lock).
    sqlite-utils' own writes inside this transaction nest as savepoints.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """Ends a failed transaction without hiding why it failed.

    A COMMIT that fails (SQLITE_FULL on a full disk) may have rolled the transaction
    back already; a ROLLBACK that fails then ("no transaction is active") must not
    replace the real error.
    """
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def to_text(value: datetime) -> str:
    """The stored form of every instant: ISO-8601 UTC, microseconds, a trailing "Z".

    Fixed width, so stored instants sort and compare correctly as text.
    """
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def from_text(text: str) -> datetime:
    """An instant as stored, by this codec or by the older forms ("+00:00", no fraction)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def maybe_from_text(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)


def maybe_to_text(value: datetime | None) -> str | None:
    return None if value is None else to_text(value)


class Store:
    """One connection to the shared file, for one kind of record.

    Every public method of a store takes `self.lock` (the connection is shared by the
    worker threads that call it); writes run inside `immediate`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self.db = connect(self.path)
        self.conn = self.db.conn
        self.lock = threading.RLock()

    def ensure(
        self, tables: Sequence[str], create: Callable[[sqlite_utils.Database], None]
    ) -> None:
        """Creates the store's tables when one is missing, under the write lock.

        Inside `immediate`, not on sqlite-utils' own: its deferred transaction would
        try to upgrade a read lock to a write lock while another process writes, which
        SQLite refuses at once ("database is locked") instead of waiting. When every
        table exists nothing is written, so a reader without write access still reads.
        """
        if all(self.db[name].exists() for name in tables):
            return
        with self.writing() as db:
            create(db)

    @contextmanager
    def writing(self) -> Iterator[sqlite_utils.Database]:
        """The lock and one `immediate` transaction."""
        with self.lock, immediate(self.conn):
            yield self.db

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
