"""The consensus certificate: the signed acts that made a proposal executable, in one file.

`COLLECTIVE_CONSENSUS=true` proves nothing to the script that reads it; a
certificate does. It carries the proposal, its amendments and the votes (or the
override) exactly as their authors signed them, so anyone holding the team's
allowed-signers list can replay them through the same rules Quorum used, without
Quorum's database, and see whether they meet a policy. The format (JSON, version
1) is documented in the README under "Signed votes"; the bytes each signature
covers are those of `console.domain.acts`.

What a certificate cannot show: acts left out of it. A verifier learns that these
members approved this content, enough to meet the policy; a rejection withheld
from the file is not visible, so the ledger stays the place that decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from console.domain.acts import (
    AmendAct,
    Content,
    OverrideAct,
    ProposalAct,
    VoteAct,
    stamp,
)
from console.domain.consensus import Kind, State
from console.domain.derive import Derived, Facts, Signed, derive
from console.domain.errors import UsageError
from console.domain.model import TargetRef
from console.domain.settings import Policy
from console.domain.signers import AllowedSigners

FORMAT = "quorum-certificate/1"


class CertificateError(UsageError):
    """A file that is not a readable certificate."""


def build(derived: Derived) -> dict[str, Any]:
    """The certificate of a proposal its verified acts made executable (or executed)."""
    p = derived.proposal
    doc: dict[str, Any] = {"format": FORMAT, "proposal": None, "amendments": [], "votes": []}
    doc["override"] = None
    for signed in derived.counted:
        act = signed.act
        if isinstance(act, ProposalAct):
            c = act.content
            doc["proposal"] = {
                "id": c.id,
                "kind": c.kind.value,
                "provider": c.ref.provider,
                "service": c.ref.service,
                "environment": c.ref.environment,
                "target": c.ref.target,
                "revision": c.revision,
                "replicas": c.replicas,
                "proposer": act.proposer,
                "reason": act.reason,
                "at": stamp(act.at),
                "signature": signed.signature,
            }
        elif isinstance(act, AmendAct):
            doc["amendments"].append(
                {
                    "version": act.version,
                    "revision": act.revision,
                    "by": act.by,
                    "at": stamp(act.at),
                    "signature": signed.signature,
                }
            )
        elif isinstance(act, VoteAct):
            doc["votes"].append(
                {
                    "version": act.version,
                    "voter": act.voter,
                    "vote": "approve" if act.approve else "reject",
                    "comment": act.comment,
                    "at": stamp(act.at),
                    "signature": signed.signature,
                }
            )
        elif isinstance(act, OverrideAct):
            doc["override"] = {
                "version": act.version,
                "by": act.by,
                "reason": act.reason,
                "at": stamp(act.at),
                "signature": signed.signature,
            }
    doc["summary"] = {
        "state": p.state.value,
        "version": p.version,
        "revision": p.revision,
        "describe": p.describe(),
    }
    return doc


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def facts_of(doc: Any) -> Facts:
    """The acts a certificate document carries; CertificateError names what is malformed."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CertificateError(f'not a Quorum certificate (no "format": "{FORMAT}")')
    try:
        p = doc["proposal"]
        pid = _int(p["id"])
        content = Content(
            pid,
            1,
            Kind(p["kind"]),
            TargetRef(
                _str(p["provider"]), _str(p["service"]), _str(p["environment"]), _str(p["target"])
            ),
            _str(p["revision"]),
            None if p["replicas"] is None else _int(p["replicas"]),
        )
        proposal = Signed(
            ProposalAct(content, _str(p["proposer"]), _str(p["reason"]), _time(p["at"])),
            _str(p["signature"]),
        )
        amendments = tuple(
            Signed(
                AmendAct(
                    pid, _int(a["version"]), _str(a["revision"]), _str(a["by"]), _time(a["at"])
                ),
                _str(a["signature"]),
            )
            for a in _list(doc.get("amendments", []))
        )
        votes = tuple(
            Signed(
                VoteAct(
                    pid,
                    _int(v["version"]),
                    _str(v["voter"]),
                    _choice(v["vote"]),
                    _time(v["at"]),
                    _str(v.get("comment", "")),
                ),
                _str(v["signature"]),
            )
            for v in _list(doc.get("votes", []))
        )
        o = doc.get("override")
        overrides = (
            ()
            if o is None
            else (
                Signed(
                    OverrideAct(
                        pid, _int(o["version"]), _str(o["by"]), _str(o["reason"]), _time(o["at"])
                    ),
                    _str(o["signature"]),
                ),
            )
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CertificateError(f"malformed certificate: {_why(exc)}") from None
    return Facts(proposal, amendments, votes, overrides)


@dataclass(frozen=True)
class Check:
    """What `verify` found: ok, and in any case the lines that say why."""

    ok: bool
    derived: Derived
    reasons: tuple[str, ...]


def verify(
    doc: Any,
    allowed: AllowedSigners,
    policy: Policy,
    *,
    members: frozenset[str] | None = None,
    allow_override: bool = True,
    service: str | None = None,
    revision: str | None = None,
) -> Check:
    """Whether the certificate's signed acts alone meet `policy`.

    Members are the allowed signers' principals (narrowed to `members` when a team
    list is given). The acts are replayed as of the last of them, the moment the
    proposal became executable; the policy's rotation requirement is not checked
    here, as the schedule is not in the file.
    """
    facts = facts_of(doc)
    principals = allowed.principals if members is None else allowed.principals & members
    last = max(s.act.at for s in facts.acts())
    derived = derive(
        facts,
        replace(policy, require_rotation_approval=None),
        last,
        verify=allowed.valid,
        members=principals,
    )
    p = derived.proposal
    failures = []
    if p.ref.environment != policy.environment:
        failures.append(
            f"the certificate is for {p.ref.environment}, the policy for {policy.environment}"
        )
    if service is not None and p.ref.service != service:
        failures.append(f"the certificate is for service {p.ref.service}, not {service}")
    if revision is not None and p.revision != revision:
        failures.append(f"the certificate approves revision {p.revision}, not {revision}")
    if p.state is not State.APPROVED:
        failures.append(f"the verified acts leave the proposal {p.state.value}")
    elif p.overridden and not allow_override:
        failures.append(f"approved by an override ({p.override_by}), which this check refuses")
    ok = not failures
    # Acts that did not count are named either way: a forged vote beside enough true
    # ones does not fail the certificate, and it should still be seen.
    reasons = [f"{_who(s)} does not count: {why}" for s, why in derived.ignored] + failures
    return Check(ok, derived, tuple(reasons))


def _who(signed: Signed) -> str:
    act = signed.act
    kind = {
        ProposalAct: "proposal",
        AmendAct: "amendment",
        VoteAct: "vote",
        OverrideAct: "override",
    }.get(type(act), "act")
    return f"{kind} by {act.author}"


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field holds something else")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("a number field holds something else")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("a list field holds something else")
    return value


def _choice(value: Any) -> bool:
    if value not in ("approve", "reject"):
        raise ValueError("a vote is approve or reject")
    return value == "approve"


def _time(value: Any) -> datetime:
    text = _str(value)
    if not text.endswith("Z"):
        raise ValueError("times are UTC with a trailing Z")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"field {exc.args[0]!r} is missing"
    return str(exc)
