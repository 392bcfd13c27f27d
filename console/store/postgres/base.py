"""What every store on the PostgreSQL ledger shares: one connection, one lock, one
way to write, and the server's errors said as Quorum's.

A store opened again and again in one process (the rotation's and the gate votes',
opened for each read) asks for a kept connection (`kept=True`): one per process and
per role the server authenticates, instead of a new login of some 20 ms each time.
It is reconnected as every store's is: after the watch saw the server go
(`drop_kept`), or when a call finds it closed or broken.

`writing()` is the counterpart of SQLite's `BEGIN IMMEDIATE`: one transaction that
first takes a transaction-level advisory lock, so a client's read-check-write (is
this change already proposed? does this vote still count?) is serialised with every
other client's, as on one bastion's file. The server's own rules do not rely on it:
its functions lock the rows they change.
"""

from __future__ import annotations

import os
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


class Link:
    """One connection to the ledger, the lock its callers take (calls one at a time),
    and how deep the writing transaction open on it is."""

    def __init__(self, ledger: LedgerConfig) -> None:
        self.conn = connect(ledger)
        self.lock = threading.RLock()
        self.depth = 0


_kept: dict[tuple[object, ...], Link] = {}  # oldest used first
_kept_lock = threading.Lock()
# A process acts as one role on one ledger; a long one that changes roles or ledgers
# (a test run, a script) keeps the latest few, not one login per role ever used.
MAX_KEPT = 4


def _role(ledger: LedgerConfig) -> tuple[object, ...]:
    """What decides the role a connection is authenticated as, in this process: the
    ledger's parameters and libpq's own variables (PGUSER, PGSERVICE, PGPASSWORD...).
    A forked child has its own connections (a socket is never shared across them)."""
    libpq = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PG")))
    return (os.getpid(), ledger.conninfo, libpq)


def kept_link(ledger: LedgerConfig) -> Link:
    """The connection this process keeps for the role it is now, opened on first use."""
    key = _role(ledger)
    with _kept_lock:
        link = _kept.pop(key, None) or Link(ledger)
        _kept[key] = link  # the latest used last
        for old in list(_kept)[: max(0, len(_kept) - MAX_KEPT)]:
            idle = _kept[old]
            if idle.lock.acquire(blocking=False):  # in use by a call now: kept a while more
                try:
                    idle.conn.close()
                    del _kept[old]
                finally:
                    idle.lock.release()
        return link


def drop_kept() -> None:
    """The server went away: each kept connection connects again when next used."""
    with _kept_lock:
        links = list(_kept.values())
    for link in links:
        link.conn.close()


class PgStore:
    """One connection to the ledger for one kind of record; calls one at a time.
    `kept`: the process's kept connection for this role (`kept_link`), which closing
    the store leaves open for the next one."""

    def __init__(self, ledger: LedgerConfig, *, kept: bool = False) -> None:
        self.ledger = ledger
        self.path = ledger.where
        self.kept = kept
        self.link = kept_link(ledger) if kept else Link(ledger)

    @property
    def conn(self) -> psycopg.Connection:
        return self.link.conn

    @property
    def lock(self) -> threading.RLock:
        return self.link.lock

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection]:
        """The lock and a transaction (nested: a savepoint inside `writing`)."""
        import psycopg

        with self.lock:
            if self._outermost() and (self.conn.closed or self.conn.broken):
                self.link.conn = connect(self.ledger)  # the server came back (or never went)
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
            link = self.link
            link.depth += 1
            try:
                if link.depth == 1:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                yield conn
            finally:
                link.depth -= 1

    def drop(self) -> None:
        """The server went away: the next call connects again instead of failing on a
        connection the server ended."""
        self.conn.close()

    def close(self) -> None:
        if self.kept:
            return  # the next store of this process and role takes it up
        with self.lock:
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
