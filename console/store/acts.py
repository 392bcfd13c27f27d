"""The acts of proposals as their authors signed them: the only source of a proposal's state.

One row per act (proposal, amendment, vote, override, withdrawal, review) with its
fields as JSON and its signature, in the shared SQLite file. Nothing here is
trusted on its own: `console.domain.derive` replays the rows whose signatures
verify. Rows are append-only by trigger; a member who drops the trigger and edits
a row only makes that act stop counting, since its signature no longer matches.

`proposal_acts_began` remembers, once, the last proposal made before acts were kept
(by an older Quorum): such a proposal has no acts and is legacy, readable as its row
recorded it; a later one without acts was written by hand and is invalid. Neither
ever counts, so a member who edits this mark changes only a label.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.domain.acts import (
    AmendAct,
    Content,
    OverrideAct,
    ProposalAct,
    ReviewAct,
    VoteAct,
    WithdrawAct,
    stamp,
)
from console.domain.consensus import Kind
from console.domain.derive import Act, Facts, Signed
from console.domain.model import TargetRef
from console.store.db import Store, from_text

if TYPE_CHECKING:
    import sqlite_utils

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS proposal_acts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    author TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL DEFAULT ''
)""",
    "CREATE INDEX IF NOT EXISTS proposal_acts_proposal ON proposal_acts(proposal_id)",
    """CREATE TRIGGER IF NOT EXISTS proposal_acts_no_update BEFORE UPDATE ON proposal_acts
BEGIN SELECT RAISE(ABORT, 'proposal_acts is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS proposal_acts_no_delete BEFORE DELETE ON proposal_acts
BEGIN SELECT RAISE(ABORT, 'proposal_acts is append-only: DELETE refused'); END""",
)


def _create(db: sqlite_utils.Database) -> None:
    for statement in _SCHEMA:  # raw SQL: sqlite-utils declares no triggers
        db.execute(statement)


# The proposals before the first one with an act (or, with none yet, every proposal
# so far) were made by a Quorum that kept no acts.
_BEGAN = (
    """CREATE TABLE IF NOT EXISTS proposal_acts_began (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    after_proposal INTEGER NOT NULL
)""",
    """INSERT OR IGNORE INTO proposal_acts_began (id, after_proposal) VALUES (1, COALESCE(
    (SELECT MIN(proposal_id) - 1 FROM proposal_acts),
    (SELECT MAX(id) FROM proposals),
    0))""",
    """CREATE TRIGGER IF NOT EXISTS proposal_acts_began_no_update
BEFORE UPDATE ON proposal_acts_began
BEGIN SELECT RAISE(ABORT, 'proposal_acts_began is kept once: UPDATE refused'); END""",
)


def _mark_beginning(db: sqlite_utils.Database) -> None:
    for statement in _BEGAN:
        db.execute(statement)


_KIND = {
    ProposalAct: "proposal",
    AmendAct: "amend",
    VoteAct: "vote",
    OverrideAct: "override",
    WithdrawAct: "withdraw",
    ReviewAct: "review",
}


def body(act: Act) -> dict[str, Any]:
    """An act's fields as stored (and as `quorum approvals --json` could show them)."""
    if isinstance(act, ProposalAct):
        c = act.content
        return {
            "kind": c.kind.value,
            "provider": c.ref.provider,
            "service": c.ref.service,
            "environment": c.ref.environment,
            "target": c.ref.target,
            "revision": c.revision,
            "replicas": c.replicas,
            "reason": act.reason,
        }
    if isinstance(act, AmendAct):
        return {"version": act.version, "revision": act.revision}
    if isinstance(act, VoteAct):
        return {"version": act.version, "approve": act.approve, "comment": act.comment}
    if isinstance(act, OverrideAct):
        return {"version": act.version, "reason": act.reason}
    if isinstance(act, WithdrawAct):
        return {"version": act.version}
    return {
        "override_by": act.override_by,
        "override_at": stamp(act.override_at),
        "comment": act.comment,
    }


def _act(pid: int, kind: str, author: str, at: datetime, b: dict[str, Any]) -> Act:
    """One stored act. Names that thousands of acts repeat (authors, the target's parts)
    are interned: a console keeps a long open list in memory, one copy of each name."""
    author = sys.intern(author)
    if kind == "proposal":
        intern = sys.intern
        ref = TargetRef(
            intern(b["provider"]),
            intern(b["service"]),
            intern(b["environment"]),
            intern(b["target"]),
        )
        content = Content(pid, 1, Kind(b["kind"]), ref, b["revision"], b["replicas"])
        return ProposalAct(content, author, b["reason"], at)
    if kind == "amend":
        return AmendAct(pid, int(b["version"]), b["revision"], author, at)
    if kind == "vote":
        return VoteAct(pid, int(b["version"]), author, bool(b["approve"]), at, b["comment"])
    if kind == "override":
        return OverrideAct(pid, int(b["version"]), author, b["reason"], at)
    if kind == "withdraw":
        return WithdrawAct(pid, int(b["version"]), author, at)
    if kind == "review":
        return ReviewAct(
            pid, b["override_by"], from_text(b["override_at"]), author, b["comment"], at
        )
    raise ValueError(f"unknown act {kind}")


class ActStore:
    """Reads and appends acts through a store's connection, lock and transactions
    (the proposals' store: an act and the cached row it changes commit together)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure(["proposal_acts"], _create)
        # A reader that may not write a file from before the mark reads on without it
        # (its act-less proposals then read as invalid, which counts the same: never).
        with contextlib.suppress(sqlite3.OperationalError):
            store.ensure(["proposal_acts_began"], _mark_beginning)

    def made_before_acts(self, pid: int) -> bool:
        """Whether proposal `pid` was made before this file kept acts (legacy)."""
        with self.store.lock:
            try:
                row = self.store.conn.execute(
                    "SELECT after_proposal FROM proposal_acts_began WHERE id = 1"
                ).fetchone()
            except sqlite3.OperationalError:  # no mark: see __init__
                return False
        return row is not None and pid <= int(row[0])

    def add(self, signed: Signed) -> None:
        act = signed.act
        pid = act.content.id if isinstance(act, ProposalAct) else act.proposal_id
        self.store.conn.execute(
            "INSERT INTO proposal_acts (proposal_id, kind, author, at, body, signature) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                pid,
                _KIND[type(act)],
                act.author,
                stamp(act.at),
                json.dumps(body(act), ensure_ascii=False, sort_keys=True),
                signed.signature,
            ),
        )

    def ids_with(self, kind: str) -> list[int]:
        """The proposals that have at least one stored act of `kind`, as written (whether
        it verifies is for the derivation to say)."""
        with self.store.lock:
            rows = self.store.conn.execute(
                "SELECT DISTINCT proposal_id FROM proposal_acts WHERE kind = ?", (kind,)
            )
            return [pid for (pid,) in rows]

    def facts(self, pids: Iterable[int]) -> dict[int, Facts]:
        """The stored acts of each proposal in `pids` that has its proposal act.

        A row that cannot be read (a member wrote garbage) is left out, as an act
        whose signature fails would be: it proves nothing. A proposal with several
        proposal acts keeps the first; any other cannot verify against its id anyway.
        """
        ids = sorted(set(pids))
        found: dict[int, dict[str, list[Signed]]] = {}
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            marks = ", ".join("?" * len(chunk))
            with self.store.lock:
                rows = self.store.conn.execute(
                    "SELECT proposal_id, kind, author, at, body, signature FROM proposal_acts "
                    f"WHERE proposal_id IN ({marks}) ORDER BY seq",
                    chunk,
                ).fetchall()
            for pid, kind, author, at, text, signature in rows:
                try:
                    act = _act(pid, kind, author, from_text(at), json.loads(text))
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
                found.setdefault(pid, {}).setdefault(kind, []).append(
                    Signed(act, signature if isinstance(signature, str) else "")
                )
        facts = {}
        for pid, kinds in found.items():
            if "proposal" not in kinds:
                continue
            facts[pid] = Facts(
                kinds["proposal"][0],
                amendments=tuple(kinds.get("amend", ())),
                votes=tuple(kinds.get("vote", ())),
                overrides=tuple(kinds.get("override", ())),
                withdrawals=tuple(kinds.get("withdraw", ())),
                reviews=tuple(kinds.get("review", ())),
            )
        return facts
