"""Schedule changes made the way the console and the command line make them: through the
engine's road (`console.engine.rotation_changes`), as a named person at a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from console.domain.identity import Identity
from console.domain.settings import Config
from console.engine import rotation_changes as road
from console.engine.actions import Actions
from console.engine.session import Session
from console.store.rotation import Override, RotationStore, Swap

T = TypeVar("T")


def _as(
    config: Config, db_path: Path, by: str, now: datetime, step: Callable[[Actions], Awaitable[T]]
) -> T:
    session = Session(
        config=replace(config, audit_path=db_path), data_dir=db_path.parent, readonly=False
    )
    actions = Actions(session, identity=Identity(by, by), clock=lambda: now)
    try:
        return asyncio.run(step(actions))
    finally:
        actions.close()


def create_override(
    config: Config,
    rotation: str,
    who: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    db_path: Path,
    *,
    by: str,
    now: datetime,
) -> Override:
    return _as(
        config,
        db_path,
        by,
        now,
        lambda a: road.override_rotation(a, rotation, who, starts_at, ends_at, reason),
    ).change


def request_swap(
    config: Config,
    rotation: str,
    starts_at: datetime,
    ends_at: datetime,
    db_path: Path,
    *,
    by: str,
    now: datetime,
    reason: str = "",
) -> Swap:
    return _as(
        config, db_path, by, now, lambda a: road.offer_swap(a, rotation, starts_at, ends_at, reason)
    ).change


def take_swap(config: Config, swap_id: str, db_path: Path, *, by: str, now: datetime) -> Swap:
    return _as(config, db_path, by, now, lambda a: road.take_swap(a, swap_id)).change


def cancel(
    config: Config, change_id: str, db_path: Path, *, by: str, now: datetime
) -> Override | Swap:
    return _as(config, db_path, by, now, lambda a: road.cancel_change(a, change_id)).change


def open_swaps(config: Config, db_path: Path, now: datetime) -> list[Swap]:
    return _as(config, db_path, "nobody", now, road.fetch_open_swaps)


def overrides_between(config: Config, lo: datetime, hi: datetime, db_path: Path) -> list[Override]:
    """Overrides of configured rotations overlapping [lo, hi), as stored."""
    names = {r.name for r in config.rotations}
    with RotationStore(db_path) as db:
        return [o for o in db.overrides(lo, hi) if o.rotation in names]
