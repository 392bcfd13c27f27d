"""Opens Quorum's SQLite file the one way every module must: WAL and a busy timeout.

Several consoles and commands on one bastion share the file, so every connection
waits for a lock instead of failing, and readers never block the writer.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from console.store import files

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 30_000


def open_connection(path: Path) -> sqlite3.Connection:
    """A plain connection to the shared database at `path`, created with its folder if
    absent, for code that needs only SQL (the sandbox world on the console's start-up
    path, which should not wait for sqlite-utils to import).

    `isolation_level=None` leaves transactions to the caller (`BEGIN IMMEDIATE`),
    so each record is one explicit transaction.
    """
    path = Path(path).expanduser()
    files.prepare(path)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def connect(path: Path) -> sqlite_utils.Database:
    """`open_connection` wrapped in sqlite-utils, as the stores use it."""
    import sqlite_utils

    return sqlite_utils.Database(open_connection(path))


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One `BEGIN IMMEDIATE` transaction: the write lock is held before anything is read,
    so a read-check-write sees the state it writes over. Any failure, the COMMIT's
    included, rolls it back and propagates."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """Ends a failed transaction without hiding why it failed.

    A COMMIT that fails (SQLITE_FULL on a full disk) has already rolled the
    transaction back; a second ROLLBACK would raise "no transaction is active" and
    replace the real error with that one.
    """
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
