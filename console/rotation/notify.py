"""Handoff notices: tell the team who holds each rotation, once per handoff.

Meant to run from cron as often as one likes (`quorum rotation notify`): a handoff is
announced by the first run after it and by no later one, because the run first claims
it in `rotation_notices` (a primary key on rotation, handoff time and holder) inside a
write transaction, so two runs started together still send one notice. A claim whose
notice reached no sink at all is released, so the next run tries again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.domain.errors import UsageError
from console.domain.instants import iso_utc
from console.domain.model import RotationSlot, utcnow
from console.domain.settings import Config
from console.notify.sinks import Notice, send_all
from console.rotation.schedule import slots_at
from console.store.backends import RotationSource, open_rotation, rotation_audit

# A handoff older than this is not announced any more (a first run on a monthly
# rotation three weeks in would announce old news).
DEFAULT_WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class HandoffNotice:
    """What one run did about one rotation's latest handoff."""

    rotation: str
    holder: str  # "" for a gap
    handoff_at: datetime | None
    status: str  # "sent" | "already sent" | "failed" | "too old"
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "rotation": self.rotation,
            "holder": self.holder or None,
            "handoff_at": iso_utc(self.handoff_at),
            "status": self.status,
            "errors": list(self.errors),
        }


def handoff_notice(slot: RotationSlot) -> Notice:
    """The message of one handoff; a gap is a warning, since nobody is on duty."""
    until = iso_utc(slot.handoff_at)
    if slot.gap:
        return Notice(
            title=f"{slot.rotation}: nobody holds it",
            text=(
                f"Nobody holds {slot.rotation} until {until}; then {slot.next_holder or 'nobody'}."
            ),
            severity="warning",
            fields={"rotation": slot.rotation, "until": until},
        )
    how = " (override)" if slot.override else " (swap)" if slot.swap else ""
    return Notice(
        title=f"{slot.rotation}: {slot.holder} takes over{how}",
        text=(
            f"{slot.holder} holds {slot.rotation} until {until};"
            f" next: {slot.next_holder or 'nobody'}."
        ),
        fields={
            "rotation": slot.rotation,
            "holder": slot.holder,
            "until": until,
            "next": slot.next_holder,
        },
    )


async def tell_team(config: Config, db_path: RotationSource, notice: Notice, who: str) -> list[str]:
    """Sends `notice` to every configured sink; the one-line errors of those that failed
    are recorded in the audit log beside the schedule (the file's, or the ledger's)."""
    log = await asyncio.to_thread(rotation_audit, db_path)  # opening may wait on a lock
    try:
        results = await send_all(config.notify, notice, audit=log, who=who)
    finally:
        log.close()
    return [f"{r.sink}: {r.error}" for r in results if not r.ok]


async def send_handoff_notices(
    config: Config,
    db_path: RotationSource,
    who: str,
    *,
    now: datetime | None = None,
    within: timedelta = DEFAULT_WITHIN,
) -> list[HandoffNotice]:
    """Announces each rotation's latest handoff unless it was announced before."""
    if not config.notify:
        raise UsageError("no [[notify]] sinks are configured: nowhere to send handoff notices")
    now = now or utcnow()
    done = []
    for slot in slots_at(config, now, db_path):
        if slot.since is None or now - slot.since > within:
            done.append(HandoffNotice(slot.rotation, slot.holder, slot.since, "too old"))
            continue
        done.append(await _announce(config, db_path, who, slot, slot.since, now))
    return done


async def _announce(
    config: Config,
    db_path: RotationSource,
    who: str,
    slot: RotationSlot,
    since: datetime,
    now: datetime,
) -> HandoffNotice:
    claimed = await asyncio.to_thread(_claim, db_path, slot, since, now)
    if not claimed:
        return HandoffNotice(slot.rotation, slot.holder, since, "already sent")
    errors = await tell_team(config, db_path, handoff_notice(slot), who)
    failed = len(errors) == len(config.notify)
    status = "failed" if failed else "sent"
    await asyncio.to_thread(_settle, db_path, who, slot, since, failed)
    return HandoffNotice(slot.rotation, slot.holder, since, status, tuple(errors))


def _claim(db_path: RotationSource, slot: RotationSlot, since: datetime, now: datetime) -> bool:
    with open_rotation(db_path) as db:
        return db.claim_notice(slot.rotation, since, slot.holder, now)


def _settle(
    db_path: RotationSource, who: str, slot: RotationSlot, since: datetime, failed: bool
) -> None:
    """Releases a claim no sink took (the next run retries), and audits the attempt."""
    if failed:
        with open_rotation(db_path) as db:
            db.release_notice(slot.rotation, since, slot.holder)
    with rotation_audit(db_path) as log:
        log.append(
            who=who,
            action="rotation.notify",
            target=slot.rotation,
            outcome="failed" if failed else "sent",
            comment=f"handoff {iso_utc(since)} to {slot.holder or 'nobody'}",
            key=f"rotation.notify:{slot.rotation}:{iso_utc(since)}",
        )
