"""The audit log on the team's PostgreSQL ledger, with the SQLite log's interface.

The same records and the same chain (`console.store.audit`): `verify`, `export` and
`tail` read them the same way, and an export from either checks the same. What
differs is who computes the chain: the server's `quorum.audit_append` takes the
author from the session, the next seq and previous hash under a row lock on the
head, and the hash in SQL, so a member's client can neither fork the chain nor
forge a record's author. A client that signs (`[team] allowed_signers`) first asks
`quorum.audit_next` for the seq, time and previous hash, in the same transaction
(the lock held), signs the record's bytes, then appends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self, TextIO

from console.domain.acts import audit_message
from console.domain.settings import LedgerConfig
from console.domain.signers import AllowedSigners
from console.store import audit_signatures
from console.store.audit import (
    _FIELDS,
    GENESIS,
    AuditError,
    AuditRecord,
    RecordSigner,
    VerifyResult,
    _bad,
    _inert,
    _record,
    check_chain,
)
from console.store.postgres.connect import connect, refusal

if TYPE_CHECKING:
    import psycopg

_COLUMNS = ", ".join(_FIELDS)
_SIGNED = ", ".join(f"l.{name}" for name in _FIELDS) + ", s.signature"


class PgAuditLog:
    """The ledger's audit log; one connection, one call at a time (like `AuditLog`)."""

    def __init__(self, ledger: LedgerConfig, signer: RecordSigner | None = None) -> None:
        from console.store import audit

        self.ledger = ledger
        self.path = ledger.where  # named in messages as the SQLite log names its file
        self.signer = signer or audit._process_signer
        # Autocommit: an unsigned append is one statement, its own transaction, one
        # round trip (bench/bench_ledger_pg.py); what needs more opens a transaction.
        self._conn = connect(ledger, autocommit=True)

    @contextmanager
    def _calling(self, *, transaction: bool = False) -> Iterator[psycopg.Connection]:
        """The connection, in one transaction if asked; the server's errors as Quorum's
        (refused, or unreachable)."""
        import psycopg

        self._live()
        try:
            if transaction:
                with self._conn.transaction():
                    yield self._conn
            else:
                yield self._conn
        except psycopg.Error as exc:
            if _head_gone(exc):
                raise AuditError(
                    f"audit log {self.path}: the chain head was deleted; keep the database "
                    "as evidence and have its owner restore the ledger from a backup"
                ) from None
            raise refusal(exc, self.path) from None

    def append(
        self,
        *,
        who: str = "",
        action: str,
        target: str = "",
        environment: str = "",
        revision: str = "",
        outcome: str = "",
        comment: str = "",
        key: str = "",
    ) -> AuditRecord:
        """Appends one record as the session's member (`who` is not the client's to say:
        the server writes its authenticated role) and returns it as stored."""
        del who
        texts = _inert((action, target, environment, revision, outcome, comment, key))
        # Signed: the seq, time and previous hash are read and signed under the head's
        # lock, held by one transaction until the append.
        with self._calling(transaction=self.signer is not None) as conn:
            signature = ""
            if self.signer is not None:
                row = conn.execute("SELECT seq, prev_hash, ts FROM quorum.audit_next()").fetchone()
                (actor,) = conn.execute("SELECT session_user").fetchone() or ("",)
                assert row is not None
                seq, prev, ts = row
                signature = self.signer(audit_message((seq, ts, actor, *texts, prev)))
            row = conn.execute(
                "SELECT seq, ts, who, prev_hash, hash FROM "
                "quorum.audit_append(%s, %s, %s, %s, %s, %s, %s, %s)",
                (*texts, signature),
            ).fetchone()
        assert row is not None
        seq, ts, actor, prev, digest = row
        record = _record((seq, ts, actor, *texts, prev, digest))
        if record.expected_hash() != digest:
            raise AuditError(
                f"audit log {self.path}: the server chained record {seq} with a hash this "
                "Quorum does not compute; do not act on this ledger until `quorum audit verify`"
            )
        return record

    def _select(self, where: str = "", params: tuple = (), tail: str = "") -> list[AuditRecord]:
        sql = f"SELECT {_COLUMNS} FROM quorum.audit_log {where} ORDER BY seq {tail}"
        with self._calling() as conn:
            return [_record(row) for row in conn.execute(sql, params)]

    def tail(self, n: int = 50) -> list[AuditRecord]:
        if n <= 0:
            return []
        return self._select("", (n,), "DESC LIMIT %s")[::-1]

    def since(self, seq: int) -> list[AuditRecord]:
        return self._select("WHERE seq > %s", (seq,))

    def by_key(self, key: str) -> list[AuditRecord]:
        return self._select("WHERE key = %s", (key,)) if key else []

    def verify(
        self,
        *,
        signers: AllowedSigners | None = None,
        members: frozenset[str] | None = None,
        pinned: tuple[int, str] | None = None,
        signed_through: int = 0,
    ) -> VerifyResult:
        """As `AuditLog.verify`, in one repeatable-read snapshot (appends during the walk
        are not seen), the records streamed through a server-side cursor."""
        import psycopg

        conn = self._live()
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                head = conn.execute("SELECT seq, hash FROM quorum.audit_head").fetchone()
                if head is None:
                    return VerifyResult(ok=False, checked=0, reason="the chain head was deleted")
                with conn.cursor(name="quorum_verify") as rows:
                    rows.execute(f"SELECT {_COLUMNS} FROM quorum.audit_log ORDER BY seq")
                    result = check_chain(rows, (head[0], head[1]))
                if not result.ok:
                    return result
                if pinned is not None and pinned[0] > 0:
                    moved = self._pin_problem(conn, result.checked, pinned)
                    if moved:
                        return moved
                if signers is None:
                    return result
                with conn.cursor(name="quorum_signatures") as signed:
                    signed.execute(
                        f"SELECT {_SIGNED} FROM quorum.audit_log AS l LEFT JOIN "
                        "quorum.audit_signatures AS s ON s.seq = l.seq WHERE l.seq > %s "
                        "ORDER BY l.seq",
                        (signed_through,),
                    )
                    bad = audit_signatures.first_bad(
                        ((row[:-1], row[-1] or "") for row in signed), signers, members
                    )
        except psycopg.Error as exc:
            if _head_gone(exc):
                return VerifyResult(ok=False, checked=0, reason="the chain head was deleted")
            raise refusal(exc, self.path) from None
        return result if bad is None else _bad(*bad)

    def _pin_problem(
        self, conn: psycopg.Connection, checked: int, pinned: tuple[int, str]
    ) -> VerifyResult | None:
        seq, digest = pinned
        if seq > checked:
            return _bad(
                checked + 1,
                f"missing: the log ends at record {checked}, but record {seq} was seen "
                "earlier (the log was truncated or rebuilt)",
            )
        row = conn.execute("SELECT hash FROM quorum.audit_log WHERE seq = %s", (seq,)).fetchone()
        if row is None or row[0] != digest:
            return _bad(seq, "is not the record seen earlier (the log was rewritten from here)")
        return None

    def hash_at(self, seq: int) -> str | None:
        with self._calling() as conn:
            row = conn.execute(
                "SELECT hash FROM quorum.audit_log WHERE seq = %s", (seq,)
            ).fetchone()
        return None if row is None else str(row[0])

    def seq_of(self, digest: str) -> int | None:
        with self._calling() as conn:
            row = conn.execute(
                "SELECT seq FROM quorum.audit_log WHERE hash = %s", (digest,)
            ).fetchone()
        return None if row is None else int(row[0])

    def head(self) -> tuple[int, str]:
        with self._calling() as conn:
            row = conn.execute("SELECT seq, hash FROM quorum.audit_head").fetchone()
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def export_jsonl(self, out: TextIO) -> int:
        written = 0
        with self._calling(transaction=True) as conn, conn.cursor(name="quorum_export") as rows:
            rows.execute(f"SELECT {_COLUMNS} FROM quorum.audit_log ORDER BY seq")
            for row in rows:
                out.write(json.dumps(_record(row).to_json(), ensure_ascii=True) + "\n")
                written += 1
        return written

    def _live(self) -> psycopg.Connection:
        """The connection, a new one if the server ended the last (it came back)."""
        if self._conn.closed or self._conn.broken:
            self._conn = connect(self.ledger, autocommit=True)
        return self._conn

    def drop(self) -> None:
        """The server went away: the next call connects again."""
        self._conn.close()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _head_gone(exc: BaseException) -> bool:
    """The owner deleted the chain head's row or dropped its table (the server's
    functions say so rather than chain a record from nothing)."""
    import psycopg

    if isinstance(exc, psycopg.errors.DataCorrupted):
        return True
    return isinstance(exc, psycopg.errors.UndefinedTable) and "audit_head" in str(exc)
