"""Stored act rows become each proposal's facts the same way whatever the rows hold:
in stored order, grouped by kind, unreadable rows left out, a proposal without its own
act left out, a second proposal act ignored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.derive import Facts, Signed
from console.store.acts import _act, gather
from console.store.db import from_text

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TARGET = {"provider": "sim-k8s", "service": "api", "environment": "production"}
BODIES = {
    "proposal": [
        {**TARGET, "target": "deployment/api", "kind": "deploy", "revision": "v1",
         "replicas": None, "reason": ""},
        {**TARGET, "target": "deployment/web", "kind": "scale", "revision": "",
         "replicas": 3, "reason": "traffic"},
        {**TARGET, "target": "deployment/api", "kind": "teleport", "revision": "v1",
         "replicas": None, "reason": ""},
        {**TARGET, "target": 7, "kind": "deploy", "revision": "v1", "replicas": None,
         "reason": ""},
    ],
    "vote": [{"version": 1, "approve": True, "comment": ""}, {"version": "x"}],
    "amend": [{"version": 2, "revision": "v2"}],
    "override": [{"version": 1, "reason": "down"}],
    "withdraw": [{"version": 1}],
    "review": [{"override_by": "bob", "override_at": "2026-12-01T09:00:00Z", "comment": ""}],
    "teleport": [{"version": 1}],
}  # fmt: skip


@st.composite
def rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    made = []
    for seq in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(sorted(BODIES)))
        text = json.dumps(draw(st.sampled_from(BODIES[kind])))
        text = draw(st.sampled_from([text, text, text, "{not json", "[]"]))
        at = (T0 + timedelta(minutes=seq)).isoformat()
        at = draw(st.sampled_from([at, at, "yesterday"]))
        signature = draw(st.sampled_from(["", "sig", None]))
        pid = draw(st.integers(1, 3))
        author = draw(st.sampled_from(["alice", "bob"]))
        made.append((pid, kind, author, at, text, signature))
    return made


def _as_grouped_by_kind_name(found_rows: list[tuple[Any, ...]]) -> dict[int, Facts]:
    """The rows read the plain way: a dict of lists per proposal and kind name."""
    found: dict[int, dict[str, list[Signed]]] = {}
    for pid, kind, author, at, text, signature in found_rows:
        try:
            act = _act(pid, kind, author, from_text(at), json.loads(text), {})
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        found.setdefault(pid, {}).setdefault(kind, []).append(
            Signed(act, signature if isinstance(signature, str) else "")
        )
    return {
        pid: Facts(
            kinds["proposal"][0],
            amendments=tuple(kinds.get("amend", ())),
            votes=tuple(kinds.get("vote", ())),
            overrides=tuple(kinds.get("override", ())),
            withdrawals=tuple(kinds.get("withdraw", ())),
            reviews=tuple(kinds.get("review", ())),
        )
        for pid, kinds in found.items()
        if "proposal" in kinds
    }


@settings(max_examples=300, deadline=None)
@given(rows())
def test_facts_are_the_rows_grouped_by_kind_with_unreadable_ones_left_out(
    found_rows: list[tuple[Any, ...]],
) -> None:
    assert gather(found_rows, from_text) == _as_grouped_by_kind_name(found_rows)


def test_a_target_named_alike_is_one_value() -> None:
    body = json.dumps(BODIES["proposal"][0])
    facts = gather([(1, "proposal", "alice", T0.isoformat(), body, "")] * 2 + [
        (2, "proposal", "bob", T0.isoformat(), body, "")
    ], from_text)  # fmt: skip
    assert facts[1].proposal.act.content.ref is facts[2].proposal.act.content.ref
