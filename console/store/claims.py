"""Idempotency keys of executed actions, claimed atomically in the shared SQLite file.

An action claims its key before the provider is called and records its outcome
after. The claim is one INSERT under the write lock, so of two consoles that retry
the same key at the same moment exactly one executes. A claim without an outcome is
an action that started and never finished (the process died mid-call); an operator
records what really happened with `resolve`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from console.domain.errors import UsageError
from console.domain.model import TargetRef
from console.store.db import connect, immediate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS action_claims (
    key TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    who TEXT NOT NULL,
    provider TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    target TEXT NOT NULL,
    revision TEXT NOT NULL,
    proposal_id INTEGER,
    started_at TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    finished_at TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS action_claims_outcome ON action_claims(outcome);
"""

FINISHED = "finished"
FAILED = "failed"
OUTCOMES = (FINISHED, FAILED)


@dataclass(frozen=True)
class ActionRecord:
    key: str
    action: str  # deploy | rollback | restart | scale
    who: str
    ref: TargetRef
    revision: str
    proposal_id: int | None
    started_at: datetime
    outcome: str = ""  # "" while incomplete, then finished | failed
    finished_at: datetime | None = None
    detail: str = ""

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
        }


_COLUMNS = (
    "key, action, who, provider, service, environment, target, revision, proposal_id, "
    "started_at, outcome, finished_at, detail"
)


def _record(row: tuple) -> ActionRecord:
    key, action, who, provider, service, env, target, revision, pid, started = row[:10]
    outcome, finished, detail = row[10:]
    return ActionRecord(
        key=key,
        action=action,
        who=who,
        ref=TargetRef(provider, service, env, target),
        revision=revision,
        proposal_id=pid,
        started_at=datetime.fromisoformat(started),
        outcome=outcome,
        finished_at=datetime.fromisoformat(finished) if finished else None,
        detail=detail,
    )


class ActionStore:
    def __init__(self, path: Path) -> None:
        self.db = connect(path)
        self.conn = self.db.conn
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def claim(
        self, record: ActionRecord, guard: Callable[[], object] | None = None
    ) -> ActionRecord | None:
        """Claims `record.key`: None when this call claimed it, else the earlier claim.

        `guard` runs under the write lock before a new claim is inserted; whatever it
        raises refuses the claim (a proposal's state is derived again there, so
        nothing written since it was read can make it run).
        """
        with immediate(self.conn):
            earlier = self._get(record.key)
            if earlier is None and guard is not None:
                guard()
            if earlier is None:
                self.conn.execute(
                    f"INSERT INTO action_claims ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                    (
                        record.key,
                        record.action,
                        record.who,
                        record.ref.provider,
                        record.ref.service,
                        record.ref.environment,
                        record.ref.target,
                        record.revision,
                        record.proposal_id,
                        record.started_at.astimezone(UTC).isoformat(),
                        "",
                        None,
                        "",
                    ),
                )
        return earlier

    def finish(self, key: str, outcome: str, detail: str, at: datetime) -> ActionRecord:
        """Records the outcome of a claimed action once; a second outcome is refused."""
        if outcome not in OUTCOMES:
            raise UsageError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with immediate(self.conn):
            current = self._get(key)
            if current is None:
                raise UsageError(f"no action with key {key!r}")
            if not current.incomplete:
                raise UsageError(f"action {key} already has its outcome: {current.outcome}")
            self.conn.execute(
                "UPDATE action_claims SET outcome = ?, finished_at = ?, detail = ? WHERE key = ?",
                (outcome, at.astimezone(UTC).isoformat(), detail, key),
            )
        done = self._get(key)
        assert done is not None  # written in the transaction above
        return done

    def get(self, key: str) -> ActionRecord | None:
        return self._get(key)

    def _get(self, key: str) -> ActionRecord | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM action_claims WHERE key = ?", (key,)
        ).fetchone()
        return _record(row) if row else None

    def incomplete(self) -> list[ActionRecord]:
        """Actions that started and have no outcome yet, oldest first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM action_claims WHERE outcome = '' ORDER BY started_at"
        ).fetchall()
        return [_record(r) for r in rows]
