"""Overrides and swaps: precedence, checks, storage beside the audit log, audit records."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from console.domain.errors import PolicyRefused, UsageError
from console.domain.identity import Identity
from console.domain.settings import Config, Restriction, RotationConfig, RotationLayer
from console.engine.actions import Actions
from console.engine.rotation_changes import fetch_holders
from console.engine.session import Session
from console.rotation.schedule import holder_at, month_grid, slots_at, timeline
from console.store.audit import AuditLog
from tests.rotation_support import (
    cancel,
    create_override,
    open_swaps,
    overrides_between,
    request_swap,
    take_swap,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Weekly from Monday 2026-03-02 09:00 UTC: ann, ben, cy, ann...; a weekend layer for wes.
CONFIG = Config(
    members=("ann", "ben", "cy", "wes", "dee"),
    rotations=(
        RotationConfig(
            name="on-call",
            every="week",
            members=("ann", "ben", "cy"),
            start=date(2026, 3, 2),
            handoff="09:00",
            layers=(
                RotationLayer(
                    name="weekends",
                    every="week",
                    members=("wes",),
                    start=date(2026, 3, 2),
                    restrictions=(Restriction(days=(5, 6), start="00:00", end="00:00"),),
                ),
            ),
        ),
    ),
)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "audit.db"


def audit_records(db):
    log = AuditLog(db)
    try:
        return log.tail(100)
    finally:
        log.close()


def test_override_wins_over_every_layer_and_is_audited(db):
    saturday = utc(2026, 3, 7, 12)
    assert holder_at(CONFIG, "on-call", saturday, db) == "wes"
    override = create_override(
        CONFIG,
        "on-call",
        "dee",
        utc(2026, 3, 6),
        utc(2026, 3, 8),
        "wes is ill",
        db,
        by="ann",
        now=NOW,
    )
    assert holder_at(CONFIG, "on-call", saturday, db) == "dee"  # over the weekend layer
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 6, 10), db) == "dee"  # over the base
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 8, 0), db) == "wes"  # end is exclusive
    record = audit_records(db)[-1]
    assert (record.who, record.action, record.target, record.outcome) == (
        "ann",
        "rotation.override",
        "on-call",
        "recorded",
    )
    assert record.key == f"rotation.override:{override.id}"
    assert "dee" in record.comment and "wes is ill" in record.comment
    segment = timeline(CONFIG, "on-call", saturday, saturday + timedelta(hours=1), db)[0]
    assert segment.override == override and segment.why == "override by ann: wes is ill"


def test_latest_override_wins_where_two_overlap(db):
    create_override(
        CONFIG, "on-call", "dee", utc(2026, 3, 3), utc(2026, 3, 5), "a", db, by="ann", now=NOW
    )
    create_override(
        CONFIG,
        "on-call",
        "cy",
        utc(2026, 3, 4),
        utc(2026, 3, 6),
        "b",
        db,
        by="ben",
        now=NOW + timedelta(minutes=1),
    )
    holders = [
        (s.starts_at, s.holder)
        for s in timeline(CONFIG, "on-call", utc(2026, 3, 3), utc(2026, 3, 6), db)
    ]
    assert holders == [(utc(2026, 3, 3), "dee"), (utc(2026, 3, 4), "cy")]
    assert [o.who for o in overrides_between(CONFIG, utc(2026, 3, 1), utc(2026, 4, 1), db)] == [
        "dee",
        "cy",
    ]


def test_slot_shows_override_and_its_end_as_the_handoff(db):
    create_override(
        CONFIG,
        "on-call",
        "dee",
        utc(2026, 3, 3),
        utc(2026, 3, 4, 12),
        "cover",
        db,
        by="ann",
        now=NOW,
    )
    slot = slots_at(CONFIG, utc(2026, 3, 3, 12), db)[0]
    assert (slot.holder, slot.override, slot.since) == ("dee", True, utc(2026, 3, 3))
    assert (slot.next_holder, slot.handoff_at) == ("ann", utc(2026, 3, 4, 12))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"who": " "}, UsageError, "--who"),
        ({"reason": ""}, UsageError, "--reason"),
        ({"ends_at": utc(2026, 3, 3)}, UsageError, "end must come after the start"),
        ({"starts_at": utc(2026, 2, 1), "ends_at": utc(2026, 2, 2)}, UsageError, "already over"),
        ({"rotation": "nope"}, UsageError, "unknown rotation 'nope'"),
        ({"by": "mallory"}, PolicyRefused, "mallory is not in \\[team\\] members"),
    ],
)
def test_bad_overrides_are_refused_and_leave_no_trace(db, kwargs, error, message):
    args = (
        dict(
            config=CONFIG,
            rotation="on-call",
            who="dee",
            starts_at=utc(2026, 3, 4),
            ends_at=utc(2026, 3, 5),
            reason="cover",
            db_path=db,
            by="ann",
            now=NOW,
        )
        | kwargs
    )
    with pytest.raises(error, match=message):
        create_override(**args)
    assert overrides_between(CONFIG, utc(2026, 1, 1), utc(2027, 1, 1), db) == []
    assert audit_records(db) == []


def test_swap_requested_then_taken_moves_the_time(db):
    # ben holds 2026-03-09 09:00 to 03-16 09:00, bar the weekend layer.
    swap = request_swap(
        CONFIG,
        "on-call",
        utc(2026, 3, 10),
        utc(2026, 3, 12),
        db,
        reason="conference",
        by="ben",
        now=NOW,
    )
    assert [s.id for s in open_swaps(CONFIG, db, now=NOW)] == [swap.id]
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 11), db) == "ben"  # not taken yet
    cells = {c.day: c for c in month_grid(CONFIG, 2026, 3, db)}
    assert cells[date(2026, 3, 11)].open_swap and not cells[date(2026, 3, 11)].swap
    taken = take_swap(CONFIG, swap.id, db, by="cy", now=NOW + timedelta(hours=1))
    assert (taken.taken_by, taken.taken_at) == ("cy", NOW + timedelta(hours=1))
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 11), db) == "cy"
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 12), db) == "ben"
    assert open_swaps(CONFIG, db, now=NOW) == []
    cells = {c.day: c for c in month_grid(CONFIG, 2026, 3, db)}
    assert cells[date(2026, 3, 11)].swap and not cells[date(2026, 3, 11)].open_swap
    assert (cells[date(2026, 3, 10)].handoff, cells[date(2026, 3, 10)].holders) == (True, ("cy",))
    assert (cells[date(2026, 3, 12)].handoff, cells[date(2026, 3, 12)].holders) == (True, ("ben",))
    assert (cells[date(2026, 3, 9)].holders, cells[date(2026, 3, 9)].swap) == (
        ("ann", "ben"),
        False,
    )
    actions = [(r.who, r.action, r.key) for r in audit_records(db)]
    assert actions == [
        ("ben", "rotation.swap.request", f"rotation.swap.request:{swap.id}"),
        ("cy", "rotation.swap.take", f"rotation.swap.take:{swap.id}"),
    ]


def test_swap_only_moves_the_offerers_time(db):
    # ben offers his week; an override for dee over part of it stays dee's.
    swap = request_swap(
        CONFIG, "on-call", utc(2026, 3, 9, 9), utc(2026, 3, 13), db, by="ben", now=NOW
    )
    create_override(
        CONFIG, "on-call", "dee", utc(2026, 3, 10), utc(2026, 3, 11), "x", db, by="ann", now=NOW
    )
    take_swap(CONFIG, swap.id, db, by="ann", now=NOW)
    holders = [
        s.holder for s in timeline(CONFIG, "on-call", utc(2026, 3, 9, 9), utc(2026, 3, 13), db)
    ]
    assert holders == ["ann", "dee", "ann"]


def test_a_swap_offers_only_time_one_holds(db):
    with pytest.raises(PolicyRefused, match="held by: ben, wes"):
        request_swap(CONFIG, "on-call", utc(2026, 3, 6), utc(2026, 3, 10), db, by="ann", now=NOW)
    with pytest.raises(PolicyRefused, match="held by: nobody"):
        request_swap(CONFIG, "on-call", utc(2026, 3, 1), utc(2026, 3, 3), db, by="ann", now=NOW)


def test_taking_a_swap_is_refused_when_it_should_be(db):
    swap = request_swap(
        CONFIG, "on-call", utc(2026, 3, 10), utc(2026, 3, 11), db, by="ben", now=NOW
    )
    with pytest.raises(PolicyRefused, match="person who offered it"):
        take_swap(CONFIG, swap.id, db, by="ben", now=NOW)
    with pytest.raises(PolicyRefused, match="zed is neither in"):
        take_swap(CONFIG, swap.id, db, by="zed", now=NOW)
    with pytest.raises(PolicyRefused, match="is over"):
        take_swap(CONFIG, swap.id, db, by="cy", now=utc(2026, 3, 12))
    with pytest.raises(UsageError, match="no swap 'ffffff'"):
        take_swap(CONFIG, "ffffff", db, by="cy", now=NOW)
    take_swap(CONFIG, swap.id, db, by="cy", now=NOW)
    with pytest.raises(PolicyRefused, match="already taken by cy"):
        take_swap(CONFIG, swap.id, db, by="ann", now=NOW)
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 10, 12), db) == "cy"


def test_changes_are_shared_through_the_database_file(db, tmp_path):
    create_override(
        CONFIG, "on-call", "dee", utc(2026, 3, 3), utc(2026, 3, 4), "x", db, by="ann", now=NOW
    )
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 3, 1), db) == "dee"
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 3, 1), tmp_path / "other.db") == "ann"
    assert slots_at(CONFIG, utc(2026, 3, 3, 1), None)[0].holder == "ann"  # config alone


def test_cancelled_override_stops_now_and_keeps_its_past(db):
    override = create_override(
        CONFIG, "on-call", "dee", utc(2026, 3, 3), utc(2026, 3, 6), "cover", db, by="ann", now=NOW
    )
    cancelled = cancel(CONFIG, override.id, db, by="ben", now=utc(2026, 3, 4, 12))
    assert (cancelled.until, cancelled.cancelled_by) == (utc(2026, 3, 4, 12), "ben")
    holders = [
        (s.starts_at, s.holder)
        for s in timeline(CONFIG, "on-call", utc(2026, 3, 3), utc(2026, 3, 6), db)
    ]
    assert holders == [(utc(2026, 3, 3), "dee"), (utc(2026, 3, 4, 12), "ann")]
    with pytest.raises(PolicyRefused, match="already over"):
        cancel(CONFIG, override.id, db, by="ann", now=utc(2026, 3, 5))
    assert audit_records(db)[-1].action == "rotation.override.cancel"


def test_override_cancelled_before_it_begins_leaves_no_mark(db):
    override = create_override(
        CONFIG, "on-call", "dee", utc(2026, 3, 10), utc(2026, 3, 11), "x", db, by="ann", now=NOW
    )
    cancel(CONFIG, override.id, db, by="ann", now=NOW)
    assert holder_at(CONFIG, "on-call", utc(2026, 3, 10, 12), db) == "ben"
    assert overrides_between(CONFIG, utc(2026, 3, 1), utc(2026, 4, 1), db) == []
    with pytest.raises(PolicyRefused, match="already cancelled"):
        cancel(CONFIG, override.id, db, by="ann", now=NOW)


def test_withdrawn_swap_can_no_longer_be_taken(db):
    swap = request_swap(
        CONFIG, "on-call", utc(2026, 3, 10), utc(2026, 3, 11), db, by="ben", now=NOW
    )
    with pytest.raises(PolicyRefused, match="only ben can withdraw"):
        cancel(CONFIG, swap.id, db, by="cy", now=NOW)
    withdrawn = cancel(CONFIG, swap.id, db, by="ben", now=NOW)
    assert withdrawn.withdrawn_at == NOW
    assert open_swaps(CONFIG, db, now=NOW) == []
    with pytest.raises(PolicyRefused, match=f"swap {swap.id} was withdrawn by ben"):
        take_swap(CONFIG, swap.id, db, by="cy", now=NOW)
    with pytest.raises(PolicyRefused, match="already taken or withdrawn"):
        cancel(CONFIG, swap.id, db, by="ben", now=NOW)
    with pytest.raises(UsageError, match="no override or swap 'zzzzzz'"):
        cancel(CONFIG, "zzzzzz", db, by="ben", now=NOW)
    assert [r.action for r in audit_records(db)] == [
        "rotation.swap.request",
        "rotation.swap.withdraw",
    ]


def test_the_engine_reads_the_schedule_off_the_loop(db):
    create_override(
        CONFIG, "on-call", "dee", utc(2026, 3, 3), utc(2026, 3, 5), "cover", db, by="ann", now=NOW
    )
    session = Session(config=replace(CONFIG, audit_path=db), data_dir=db.parent, readonly=False)
    actions = Actions(session, identity=Identity("ann", "ann"), clock=lambda: NOW)
    try:
        [slot] = asyncio.run(fetch_holders(actions, utc(2026, 3, 4)))
        assert (slot.rotation, slot.holder, slot.override) == ("on-call", "dee", True)
        assert slot == slots_at(CONFIG, utc(2026, 3, 4), db)[0]
    finally:
        actions.close()
