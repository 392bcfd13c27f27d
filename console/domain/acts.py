"""The acts members sign, and the exact bytes each signature covers.

Every act's bytes are one UTF-8 JSON array without whitespace (non-ASCII kept as
is), its first element naming the act and the format's version. Positional, so no
field bleeds into the next, and easy to rebuild in any language from a certificate
(README, "Signed votes"). Times are ISO-8601 UTC with microseconds and a "Z".

What each covers, and why:
- a proposal: its id, kind, target (provider, service, environment, target), revision,
  replicas, proposer, reason and creation time;
- an amendment: the proposal's id, the version it creates and the new revision;
- a vote, an override and a withdrawal: the proposal's content *at the version the
  author saw* (kind, target, environment, revision or replicas, id, version), so an
  amendment makes earlier votes count for nothing by construction: they were
  signed over other bytes;
- a review: the override it reviews (its author and time) besides the proposal id;
- a vote on a provider's own approval (a gate): the gate's id and environment as the
  provider listed them, so a vote cannot be moved to another gate;
- an audit record: every field the hash chain covers, `prev_hash` included, so a
  record cannot be inserted or moved under someone else's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from console.domain.consensus import Kind
from console.domain.model import TargetRef

FORMAT = 1
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def stamp(at: datetime) -> str:
    """The one time format of signed bytes."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def encode(tag: str, *fields: object) -> bytes:
    return _ENCODER.encode([f"quorum-{tag}/{FORMAT}", *fields]).encode()


@dataclass(frozen=True, slots=True)
class Content:
    """What a proposal asks for at one version: the part a voter reads and signs."""

    id: int
    version: int
    kind: Kind
    ref: TargetRef
    revision: str
    replicas: int | None

    def fields(self) -> tuple[object, ...]:
        r = self.ref
        return (
            self.id,
            self.version,
            self.kind.value,
            r.provider,
            r.service,
            r.environment,
            r.target,
            self.revision,
            self.replicas,
        )


@dataclass(frozen=True, slots=True)
class ProposalAct:
    content: Content  # at version 1
    proposer: str
    reason: str
    at: datetime

    @property
    def author(self) -> str:
        return self.proposer

    def message(self) -> bytes:
        return encode(
            "proposal", *self.content.fields(), self.proposer, self.reason, stamp(self.at)
        )


@dataclass(frozen=True, slots=True)
class AmendAct:
    proposal_id: int
    version: int  # the version this amendment creates
    revision: str
    by: str
    at: datetime

    @property
    def author(self) -> str:
        return self.by

    def message(self) -> bytes:
        return encode(
            "amend", self.proposal_id, self.version, self.revision, self.by, stamp(self.at)
        )


@dataclass(frozen=True, slots=True)
class VoteAct:
    proposal_id: int
    version: int  # the version the voter saw
    voter: str
    approve: bool
    at: datetime
    comment: str = ""

    @property
    def author(self) -> str:
        return self.voter

    def message(self, seen: Content) -> bytes:
        choice = "approve" if self.approve else "reject"
        return encode("vote", *seen.fields(), self.voter, choice, self.comment, stamp(self.at))


@dataclass(frozen=True, slots=True)
class OverrideAct:
    proposal_id: int
    version: int
    by: str
    reason: str
    at: datetime

    @property
    def author(self) -> str:
        return self.by

    def message(self, seen: Content) -> bytes:
        return encode("override", *seen.fields(), self.by, self.reason, stamp(self.at))


@dataclass(frozen=True, slots=True)
class WithdrawAct:
    proposal_id: int
    version: int
    by: str
    at: datetime

    @property
    def author(self) -> str:
        return self.by

    def message(self, seen: Content) -> bytes:
        return encode("withdraw", *seen.fields(), self.by, stamp(self.at))


@dataclass(frozen=True, slots=True)
class ReviewAct:
    proposal_id: int
    override_by: str
    override_at: datetime
    by: str
    comment: str
    at: datetime

    @property
    def author(self) -> str:
        return self.by

    def message(self) -> bytes:
        return encode(
            "review",
            self.proposal_id,
            self.override_by,
            stamp(self.override_at),
            self.by,
            self.comment,
            stamp(self.at),
        )


@dataclass(frozen=True)
class GateVoteAct:
    """A vote on a provider's approval held until Quorum's quorum (`forward_after_quorum`)."""

    gate: str  # PROVIDER:REFERENCE, as `quorum approvals` lists it
    environment: str
    voter: str
    approve: bool
    at: datetime
    comment: str = ""

    @property
    def author(self) -> str:
        return self.voter

    def message(self) -> bytes:
        choice = "approve" if self.approve else "reject"
        return encode(
            "gate-vote", self.gate, self.environment, self.voter, choice, self.comment,
            stamp(self.at),
        )  # fmt: skip


def audit_message(chained: tuple[object, ...]) -> bytes:
    """The bytes an audit record's author signs: the fields its hash covers, seq to prev_hash."""
    return encode("audit", *chained)
