"""What every store on the PostgreSQL ledger shares: one connection, one lock, one
way to write, and the server's errors said as Quorum's.

`writing()` is the counterpart of SQLite's `BEGIN IMMEDIATE`: one transaction that
first takes a transaction-level advisory lock, so a client's read-check-write (is
this change already proposed? does this vote still count?) is serialised with every
other client's, as on one bastion's file. The server's own rules do not rely on it:
its functions lock the rows they change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self

from console.domain.settings import LedgerConfig
from console.store.postgres.connect import connect, refusal

if TYPE_CHECKING:
    import psycopg

# The advisory lock every writing client takes ("quorum-w" in ASCII).
WRITE_LOCK = 0x71756F72756D2D77


class PgStore:
    """One connection to the ledger for one kind of record; calls one at a time."""

    def __init__(self, ledger: LedgerConfig) -> None:
        self.ledger = ledger
        self.path = ledger.where
        self.conn = connect(ledger)
        self.lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection]:
        """The lock and a transaction (nested: a savepoint inside `writing`)."""
        import psycopg

        with self.lock:
            if self._outermost() and (self.conn.closed or self.conn.broken):
                self.conn = connect(self.ledger)  # the server came back (or never went)
            try:
                with self.conn.transaction():
                    yield self.conn
            except psycopg.Error as exc:
                raise refusal(exc, self.path) from None

    def _outermost(self) -> bool:
        """No transaction of this store is open: a new connection replaces nothing."""
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status is not TransactionStatus.INTRANS

    @contextmanager
    def writing(self) -> Iterator[psycopg.Connection]:
        """The lock, a transaction and the clients' write lock (taken once, outermost)."""
        with self.reading() as conn:
            self._depth += 1
            try:
                if self._depth == 1:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                yield conn
            finally:
                self._depth -= 1

    def drop(self) -> None:
        """The server went away: the next call connects again instead of failing on a
        connection the server ended."""
        self.conn.close()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
