"""Idempotency keys of actions on the PostgreSQL ledger, with `ClaimStore`'s interface.

`quorum.claim` inserts the claim as the session's member, and for a proposal's
execution only when the server's own count finds it approved for this very change;
the client's `guard` (its own derivation, signatures included) runs first in the
same locked transaction, so both must agree before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from console.domain.errors import UsageError
from console.domain.model import TargetRef
from console.store.claims import OUTCOMES, Claim
from console.store.postgres.base import PgStore

_COLUMNS = (
    "key, action, who, provider, service, environment, target, revision, proposal_id, "
    "started_at, outcome, finished_at, detail, owner_host, owner_pid, owner_start"
)


def _claim(row: tuple) -> Claim:
    key, action, who, provider, service, env, target, revision, pid = row[:9]
    started, outcome, finished, detail, host, owner_pid, owner_start = row[9:]
    return Claim(
        key=key,
        action=action,
        who=who,
        ref=TargetRef(provider, service, env, target),
        revision=revision,
        proposal_id=pid,
        started_at=started,
        outcome=outcome,
        finished_at=finished,
        detail=detail,
        owner_host=host,
        owner_pid=owner_pid,
        owner_start=owner_start,
    )


class PgClaimStore(PgStore):
    def claim(self, record: Claim, guard: Callable[[], object] | None = None) -> Claim | None:
        """None when this call claimed `record.key`, else the earlier claim."""
        with self.writing() as conn:
            earlier = self._get(record.key)
            if earlier is not None:
                return earlier
            if guard is not None:
                guard()
            row = conn.execute(
                "SELECT quorum.claim(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    record.key,
                    record.action,
                    record.ref.provider,
                    record.ref.service,
                    record.ref.environment,
                    record.ref.target,
                    record.revision,
                    record.proposal_id,
                    record.owner_host,
                    record.owner_pid,
                    record.owner_start,
                ),
            ).fetchone()
            if row is not None and not row[0]:
                return self._get(record.key)
        return None

    def release(self, key: str) -> None:
        with self.writing() as conn:
            conn.execute("SELECT quorum.release(%s)", (key,))

    def finish(self, key: str, outcome: str, detail: str, at: datetime) -> Claim:
        """Records the outcome once (the server dates it: `at` is the client's clock)."""
        del at
        if outcome not in OUTCOMES:
            raise UsageError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self.writing() as conn:
            current = self._get(key)
            if current is None:
                raise UsageError(f"no action with key {key!r}")
            if not current.incomplete:
                raise UsageError(f"action {key} already has its outcome: {current.outcome}")
            conn.execute("SELECT quorum.finish(%s, %s, %s)", (key, outcome, detail))
            done = self._get(key)
        assert done is not None
        return done

    def get(self, key: str) -> Claim | None:
        with self.reading():
            return self._get(key)

    def _get(self, key: str) -> Claim | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM quorum.action_claims WHERE key = %s", (key,)
        ).fetchone()
        return None if row is None else _claim(row)

    def outcomes(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT key, outcome, detail FROM quorum.action_claims WHERE key = ANY(%s)",
                (sorted(set(keys)),),
            )
            return {key: (outcome, detail) for key, outcome, detail in rows}

    def incomplete(self) -> list[Claim]:
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM quorum.action_claims WHERE outcome = '' "
                "ORDER BY started_at"
            )
            return [_claim(row) for row in rows]
