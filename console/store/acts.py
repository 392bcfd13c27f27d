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
from collections.abc import Callable, Iterable, Iterator, Sequence
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


# The kinds of change by name: a dict lookup, where `Kind(name)` goes through the enum's
# call for each of thousands of acts (a name it lacks is a KeyError, a row left out).
_KINDS = {kind.value: kind for kind in Kind}
Refs = dict[tuple[str, str, str, str], TargetRef]


def _act(pid: int, kind: str, author: str, at: datetime, b: dict[str, Any], refs: Refs) -> Act:
    """One stored act. Names that thousands of acts repeat (authors, the target's parts)
    are interned, and a target named the same way again is the one value already made
    (`refs`): a console keeps a long open list in memory, one copy of each."""
    author = sys.intern(author)
    if kind == "proposal":
        key = (b["provider"], b["service"], b["environment"], b["target"])
        ref = refs.get(key)
        if ref is None:
            intern = sys.intern
            ref = TargetRef(intern(key[0]), intern(key[1]), intern(key[2]), intern(key[3]))
            refs[key] = ref
        content = Content(pid, 1, _KINDS[b["kind"]], ref, b["revision"], b["replicas"])
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


def gather(rows: Iterable[Sequence[Any]], when: Callable[[Any], datetime]) -> dict[int, Facts]:
    """Each proposal's facts from its act rows (proposal id, kind, author, instant as
    stored, body, signature) in the order they were stored, the instant read by `when`.

    A row that cannot be read (a member wrote garbage) is left out, as an act whose
    signature fails would be: it proves nothing. A proposal with several proposal acts
    keeps the first; any other cannot verify against its id anyway. The store's
    proposals and its PostgreSQL twin read theirs through here alike.
    """
    found: dict[int, list[Signed]] = {}
    refs: Refs = {}
    for pid, kind, author, at, text, signature in rows:
        try:
            act = _act(int(pid), kind, author, when(at), json.loads(text), refs)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        signed = Signed(act, signature if isinstance(signature, str) else "")
        acts = found.get(act_pid := int(pid))
        if acts is None:
            found[act_pid] = [signed]
        else:
            acts.append(signed)
    facts = {}
    for pid, acts in found.items():
        made = _facts(acts)
        if made is not None:
            facts[pid] = made
    return facts


def _facts(acts: list[Signed]) -> Facts | None:
    """One proposal's facts from its readable acts in stored order; None without its
    proposal act. Most open proposals have that act alone, and need no grouping."""
    first = acts[0]
    if len(acts) == 1:
        return Facts(first) if type(first.act) is ProposalAct else None
    by_type: dict[type, list[Signed]] = {}
    for signed in acts:
        by_type.setdefault(type(signed.act), []).append(signed)
    if ProposalAct not in by_type:
        return None
    return Facts(
        by_type[ProposalAct][0],
        amendments=tuple(by_type.get(AmendAct, ())),
        votes=tuple(by_type.get(VoteAct, ())),
        overrides=tuple(by_type.get(OverrideAct, ())),
        withdrawals=tuple(by_type.get(WithdrawAct, ())),
        reviews=tuple(by_type.get(ReviewAct, ())),
    )


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
        """The stored acts of each proposal in `pids` that has its proposal act (`gather`)."""
        ids = sorted(set(pids))

        def rows() -> Iterator[Any]:
            """A query's rows at a time: the text of every act is not held at once."""
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                marks = ", ".join("?" * len(chunk))
                with self.store.lock:
                    found = self.store.conn.execute(
                        "SELECT proposal_id, kind, author, at, body, signature FROM "
                        f"proposal_acts WHERE proposal_id IN ({marks}) ORDER BY seq",
                        chunk,
                    ).fetchall()
                yield from found

        return gather(rows(), from_text)
