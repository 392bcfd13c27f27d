"""Who wrote each audit record: its author's SSH signature, kept beside the record.

The hash chain shows that the log was not edited; it cannot show who appended a
record, since anyone who can write the file can compute a correct hash. So each
record's author signs the bytes its hash covers, `prev_hash` included
(`console.domain.acts.audit_message`): a record appended under someone else's name
does not verify, and one removed or rewritten in the middle changes the
`prev_hash` of the next record, whose author's signature then fails.

Signatures live in their own append-only table keyed by seq (a log from before
signing keeps its shape and its exports), written in the transaction that appends
the record. Checking them is the expensive part of `audit verify` (an ed25519
check is some 45 µs of CPU through libsodium against ~4 µs per record for the hash
chain), so each key's shared parts are read once (`BulkVerifier`) and chunks of
records are checked on every core: libsodium runs without the GIL.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice

from console.domain.acts import audit_message
from console.domain.bulk_verify import BulkVerifier
from console.domain.signers import AllowedSigners

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_signatures (
    seq INTEGER PRIMARY KEY,
    signature TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_signatures_no_update BEFORE UPDATE ON audit_signatures
BEGIN SELECT RAISE(ABORT, 'audit_signatures is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_signatures_no_delete BEFORE DELETE ON audit_signatures
BEGIN SELECT RAISE(ABORT, 'audit_signatures is append-only: DELETE refused'); END;
"""
OBJECTS = ("audit_signatures", "audit_signatures_no_update", "audit_signatures_no_delete")

# Signs an audit record's bytes as the acting member; returns the SSHSIG blob's base64.
RecordSigner = Callable[[bytes], str]
_CHUNK = 2048


def first_bad(
    signed: Iterable[tuple[tuple, str]],
    allowed: AllowedSigners,
    members: frozenset[str] | None,
    workers: int | None = None,
) -> tuple[int, str] | None:
    """The first record (seq, why) whose author's signature is missing or wrong, if any.

    `signed` yields each record in the chain's field order (seq .. hash), already
    checked by the chain, with its signature ("" when it has none), by seq. Chunks of
    them are verified in parallel, a bounded number at a time (memory stays flat over a
    long log), and the lowest bad seq wins.
    """

    verifier = BulkVerifier(allowed)

    def check(chunk: list[tuple[tuple, str]]) -> tuple[int, str] | None:
        for row, signature in chunk:
            why = _problem(row, signature, verifier, members)
            if why:
                return row[0], why
        return None

    chunks = _chunks(iter(signed))
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        return next((bad for bad in map(check, chunks) if bad is not None), None)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[tuple[int, str] | None]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(check, chunk))
            if len(pending) > 2 * workers:
                bad = pending.popleft().result()  # in order: the earliest bad chunk wins
                if bad is not None:
                    return bad
        while pending:
            bad = pending.popleft().result()
            if bad is not None:
                return bad
    return None


def _chunks(signed: Iterator[tuple[tuple, str]]) -> Iterator[list[tuple[tuple, str]]]:
    while chunk := list(islice(signed, _CHUNK)):
        yield chunk


def _problem(
    row: tuple, signature: str, verifier: BulkVerifier, members: frozenset[str] | None
) -> str:
    who = row[2]
    if members is not None and who not in members:
        return f"written as {who}, who is not a member of the team"
    if not signature:
        return f"not signed (written as {who})"
    if not verifier.valid(who, audit_message(tuple(row[:11])), signature):
        return f"the signature is not {who}'s (inserted or rewritten as {who})"
    return ""
