"""Schedule changes on the road every change takes: overrides and swaps.

The same acting person (`Actions.identity`), the same read-only and membership
guard (`Actions.guard`), the same audit writer (`Actions.record`) and the same
worker threads as deploys and votes; the schedule's own rules stay in
`console.rotation.changes`. After a change the team is told, and the notice
errors that came back are returned with the change so each front end can show them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from console.domain.instants import iso_utc
from console.domain.model import RotationSlot
from console.engine.actions import Actions
from console.notify.sinks import Notice
from console.rotation import changes
from console.rotation.notify import tell_team
from console.rotation.schedule import slots_at
from console.store.backends import RotationSource, rotation_source
from console.store.rotation import Override, Swap

C = TypeVar("C", Override, Swap, "Override | Swap")


@dataclass(frozen=True)
class RotationChange(Generic[C]):
    """A schedule change as stored, and the notice deliveries that failed."""

    change: C
    notice_errors: list[str]


def _when(value: datetime) -> str:
    return iso_utc(value) or "-"


def recorder(actions: Actions) -> changes.Record:
    """The schedule's audit records, written by `Actions.record` as the acting person."""

    def record(action: str, rotation: str, comment: str, key: str) -> None:
        actions.record(action, target=rotation, outcome="recorded", comment=comment, key=key)

    return record


async def _tell(actions: Actions, title: str, text: str) -> list[str]:
    if not actions.config.notify:
        return []
    notice = Notice(title, text)
    return await tell_team(actions.config, _source(actions), notice, actions.identity.name)


def _source(actions: Actions) -> RotationSource:
    """Where the schedule's changes are kept: the team's ledger, else the SQLite file."""
    return rotation_source(actions.config, actions.session.audit_path)


async def _change(actions: Actions, make: Callable[..., C]) -> C:
    now = actions.clock()
    by = actions.identity.name
    record = recorder(actions)
    return await actions.in_worker(lambda: make(by=by, now=now, record=record))


async def override_rotation(
    actions: Actions,
    rotation: str,
    who: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> RotationChange[Override]:
    """Puts `who` on `rotation` over [starts_at, ends_at) whatever the layers say; a reason
    is mandatory."""
    actions.guard("override a rotation")
    config, path = actions.config, _source(actions)
    made = await _change(
        actions,
        lambda **kw: changes.create_override(
            config, rotation, who, starts_at, ends_at, reason, path, **kw
        ),
    )
    by = actions.identity.name
    errors = await _tell(
        actions,
        f"{made.rotation}: override, {made.who} holds it",
        f"{by} put {made.who} on {made.rotation} from {_when(made.starts_at)}"
        f" to {_when(made.ends_at)}: {made.reason}",
    )
    return RotationChange(made, errors)


async def offer_swap(
    actions: Actions, rotation: str, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> RotationChange[Swap]:
    """Offers the acting person's own time on `rotation` for someone to take."""
    actions.guard("request a swap")
    config, path = actions.config, _source(actions)
    made = await _change(
        actions,
        lambda **kw: changes.request_swap(
            config, rotation, starts_at, ends_at, path, reason=reason, **kw
        ),
    )
    by = actions.identity.name
    errors = await _tell(
        actions,
        f"{made.rotation}: {by} offers a swap",
        f"{by} offers {made.rotation} from {_when(made.starts_at)} to {_when(made.ends_at)}"
        f"; take it with: quorum rotation swap take {made.id}",
    )
    return RotationChange(made, errors)


async def take_swap(actions: Actions, swap_id: str) -> RotationChange[Swap]:
    """Takes an open swap; anyone the rotation names may, besides the team's members."""
    actions.guard("take a swap", membership=False)  # the swap's rule: team or rotation
    config, path = actions.config, _source(actions)
    made = await _change(actions, lambda **kw: changes.take_swap(config, swap_id, path, **kw))
    by = actions.identity.name
    errors = await _tell(
        actions,
        f"{made.rotation}: {by} took {made.requested_by}'s swap",
        f"{by} holds {made.rotation} from {_when(made.starts_at)} to {_when(made.ends_at)}"
        f" in place of {made.requested_by}",
    )
    return RotationChange(made, errors)


async def cancel_change(actions: Actions, change_id: str) -> RotationChange[Override | Swap]:
    """Ends an override (the past it covered stays) or withdraws one's own swap offer."""
    actions.guard("cancel a schedule change")
    config, path = actions.config, _source(actions)
    done = await _change(actions, lambda **kw: changes.cancel(config, change_id, path, **kw))
    errors: list[str] = []
    if isinstance(done, Override):
        by = actions.identity.name
        errors = await _tell(
            actions,
            f"{done.rotation}: override of {done.who} cancelled",
            f"{by} cancelled the override of {done.who} on {done.rotation}"
            f" ({_when(done.starts_at)} to {_when(done.ends_at)}); it ends {_when(done.until)}",
        )
    return RotationChange(done, errors)


async def fetch_holders(actions: Actions, at: datetime) -> list[RotationSlot]:
    """Each rotation's holder at `at`, overrides and swaps applied (off the event loop)."""
    path = _source(actions)
    return await actions.in_worker(lambda: slots_at(actions.config, at, path))


async def fetch_open_swaps(actions: Actions) -> list[Swap]:
    """Swaps offered and not taken that are not over, soonest first (off the event loop)."""
    now, path = actions.clock(), _source(actions)
    return await actions.in_worker(lambda: changes.open_swaps(actions.config, path, now))
