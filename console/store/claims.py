"""Idempotency keys of executed actions, claimed atomically in the shared SQLite file.

An action claims its key before the provider is called and records its outcome
after. The claim is one INSERT under the write lock, so of two consoles that retry
the same key at the same moment exactly one executes. A claim without an outcome is
an action that started and never finished (the process died mid-call); an operator
records what really happened with `resolve`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.errors import UsageError
from console.domain.model import TargetRef
from console.store.db import Store, from_text, maybe_from_text, to_text

if TYPE_CHECKING:
    import sqlite_utils

TABLE = "action_claims"

FINISHED = "finished"
FAILED = "failed"
OUTCOMES = (FINISHED, FAILED)


@dataclass(frozen=True)
class Claim:
    """An action's idempotency key, claimed before it ran, with its outcome once known."""

    key: str
    action: str  # a change kind: deploy | rollback | restart | scale | pause | resume
    who: str
    ref: TargetRef
    revision: str
    proposal_id: int | None
    started_at: datetime
    outcome: str = ""  # "" while incomplete, then finished | failed
    finished_at: datetime | None = None
    detail: str = ""
    owner_host: str = ""  # where the action runs: host, pid and the pid's start time
    owner_pid: int | None = None
    owner_start: str = ""

    @property
    def incomplete(self) -> bool:
        return not self.outcome

    def to_json(self) -> dict[str, object]:
        """The shape of `quorum actions incomplete --json` elements (documented in the README)."""
        return {
            "key": self.key,
            "action": self.action,
            "who": self.who,
            "service": self.ref.service,
            "environment": self.ref.environment,
            "provider": self.ref.provider,
            "target": self.ref.target,
            "revision": self.revision,
            "proposal": self.proposal_id,
            "started_at": self.started_at,
            "outcome": self.outcome or None,
            "finished_at": self.finished_at,
            "detail": self.detail,
            "owner": None
            if self.owner_pid is None
            else {"host": self.owner_host, "pid": self.owner_pid},
        }


def _claim(row: dict) -> Claim:
    return Claim(
        key=row["key"],
        action=row["action"],
        who=row["who"],
        ref=TargetRef(row["provider"], row["service"], row["environment"], row["target"]),
        revision=row["revision"],
        proposal_id=row["proposal_id"],
        started_at=from_text(row["started_at"]),
        outcome=row["outcome"],
        finished_at=maybe_from_text(row["finished_at"]),
        detail=row["detail"],
        owner_host=row.get("owner_host") or "",
        owner_pid=row.get("owner_pid"),
        owner_start=row.get("owner_start") or "",
    )


# The process running an action (added later: older files gain the columns on open).
OWNER_COLUMNS = {"owner_host": str, "owner_pid": int, "owner_start": str}


def _create(db: sqlite_utils.Database) -> None:
    table = db[TABLE]
    table.create(
        {
            "key": str,
            "action": str,
            "who": str,
            "provider": str,
            "service": str,
            "environment": str,
            "target": str,
            "revision": str,
            "proposal_id": int,
            "started_at": str,
            "outcome": str,
            "finished_at": str,
            "detail": str,
            **OWNER_COLUMNS,
        },
        pk="key",
        not_null={
            "action",
            "who",
            "provider",
            "service",
            "environment",
            "target",
            "revision",
            "started_at",
            "outcome",
            "detail",
        },
        defaults={"outcome": "", "detail": ""},
        if_not_exists=True,
    )
    table.create_index(["outcome"], "action_claims_outcome", if_not_exists=True)


class ClaimStore(Store):
    """The `action_claims` table: one row per idempotency key ever claimed."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.ensure([TABLE], _create)
        if not set(OWNER_COLUMNS) <= set(self.db[TABLE].columns_dict):
            with self.writing() as db:
                present = db[TABLE].columns_dict
                for name, kind in OWNER_COLUMNS.items():
                    if name not in present:
                        db[TABLE].add_column(name, kind)

    def claim(self, record: Claim, guard: Callable[[], object] | None = None) -> Claim | None:
        """Claims `record.key`: None when this call claimed it, else the earlier claim.

        `guard` runs under the write lock before a new claim is inserted; whatever it
        raises refuses the claim (a proposal's state is derived again there, so
        nothing written since it was read can make it run).
        """
        with self.writing() as db:
            earlier = self._get(record.key)
            if earlier is None and guard is not None:
                guard()
            if earlier is None:
                db[TABLE].insert(
                    {
                        "key": record.key,
                        "action": record.action,
                        "who": record.who,
                        "provider": record.ref.provider,
                        "service": record.ref.service,
                        "environment": record.ref.environment,
                        "target": record.ref.target,
                        "revision": record.revision,
                        "proposal_id": record.proposal_id,
                        "started_at": to_text(record.started_at),
                        "outcome": "",
                        "finished_at": None,
                        "detail": "",
                        "owner_host": record.owner_host,
                        "owner_pid": record.owner_pid,
                        "owner_start": record.owner_start,
                    }
                )
        return earlier

    def release(self, key: str) -> None:
        """Forgets the claim of an action that never started (its "started" record could
        not be written), so it is not listed as incomplete."""
        with self.writing() as db:
            db.execute(f"DELETE FROM {TABLE} WHERE key = ? AND outcome = ''", [key])

    def finish(self, key: str, outcome: str, detail: str, at: datetime) -> Claim:
        """Records the outcome of a claimed action once; a second outcome is refused."""
        if outcome not in OUTCOMES:
            raise UsageError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self.writing() as db:
            current = self._get(key)
            if current is None:
                raise UsageError(f"no action with key {key!r}")
            if not current.incomplete:
                raise UsageError(f"action {key} already has its outcome: {current.outcome}")
            db[TABLE].update(
                key, {"outcome": outcome, "finished_at": to_text(at), "detail": detail}
            )
            done = self._get(key)
        assert done is not None  # written in the transaction above
        return done

    def get(self, key: str) -> Claim | None:
        with self.lock:
            return self._get(key)

    def _get(self, key: str) -> Claim | None:
        rows = list(self.db[TABLE].rows_where("key = ?", [key]))
        return _claim(rows[0]) if rows else None

    def outcomes(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(outcome, detail) of each key in `keys` that was claimed, in one query per 500
        keys: the ledger reads the executions of every listed proposal at once."""
        wanted = sorted(set(keys))
        found: dict[str, tuple[str, str]] = {}
        with self.lock:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ", ".join("?" * len(chunk))
                rows = self.conn.execute(
                    f"SELECT key, outcome, detail FROM {TABLE} WHERE key IN ({marks})", chunk
                )
                found.update((key, (outcome, detail)) for key, outcome, detail in rows)
        return found

    def incomplete(self) -> list[Claim]:
        """Actions that started and have no outcome yet, oldest first."""
        with self.lock:
            rows = self.db[TABLE].rows_where("outcome = ''", order_by="started_at")
            return [_claim(r) for r in rows]
