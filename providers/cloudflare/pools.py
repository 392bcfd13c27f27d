"""Cloudflare pools, origins and their health as Quorum's model.

Health is reported per Cloudflare region (`pop_health`); a pool or origin counts as
healthy where every region that checks it says so, and is shown with how many do
when they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.domain.model import PodInfo, RolloutStatus, Route


@dataclass(frozen=True)
class Health:
    healthy: int  # regions that see it healthy
    checked: int  # regions that check it
    reason: str = ""  # a failing region's reason (`HTTP 502`, `TCP connection failed`)

    @property
    def ok(self) -> bool | None:
        return None if self.checked == 0 else self.healthy == self.checked

    @property
    def usable(self) -> bool:
        """Takes traffic somewhere: healthy in a region, or not checked at all."""
        return self.checked == 0 or self.healthy > 0

    def word(self) -> str:
        if self.ok is None:
            return "unchecked"
        if self.ok:
            return "healthy"
        seen = f"unhealthy in {self.checked - self.healthy} of {self.checked} regions"
        return f"{seen} ({self.reason})" if self.reason else seen


def pool_health(health: dict[str, Any] | None) -> Health:
    regions = [r for r in ((health or {}).get("pop_health") or {}).values() if isinstance(r, dict)]
    return Health(
        healthy=sum(1 for r in regions if r.get("healthy")),
        checked=len(regions),
        reason=next((reason for r in regions if (reason := _region_reason(r))), ""),
    )


def origin_health(health: dict[str, Any] | None, address: str) -> Health:
    seen = [
        entry[address]
        for region in ((health or {}).get("pop_health") or {}).values()
        if isinstance(region, dict)
        for entry in region.get("origins") or []
        if isinstance(entry, dict) and isinstance(entry.get(address), dict)
    ]
    failing = [s for s in seen if not s.get("healthy")]
    return Health(len(seen) - len(failing), len(seen), _reason(failing[0]) if failing else "")


def _region_reason(region: dict[str, Any]) -> str:
    for entry in region.get("origins") or []:
        for state in entry.values() if isinstance(entry, dict) else ():
            if isinstance(state, dict) and not state.get("healthy"):
                return _reason(state)
    return ""


def _reason(state: dict[str, Any]) -> str:
    reason = str(state.get("failure_reason") or "")
    code = state.get("response_code")
    if code and str(code) not in reason:
        reason = f"{reason} HTTP {code}".strip()
    return reason


def serving(
    pools: list[dict[str, Any]], health: dict[str, Health], lb: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The pool that takes the traffic under failover steering: the first enabled pool
    in the load balancer's order that is healthy in some region (each region is sent
    to a pool healthy there), else its fallback pool."""
    by_id = {p.get("id"): p for p in pools}
    order = [by_id[i] for i in (lb or {}).get("default_pools") or [] if i in by_id] or pools
    for pool in order:
        if pool.get("enabled") and health[str(pool.get("id"))].usable:
            return pool
    return by_id.get((lb or {}).get("fallback_pool"))


def status_of(
    pools: list[dict[str, Any]], health: dict[str, Health], serving_pool: dict[str, Any] | None
) -> RolloutStatus:
    if serving_pool is None or not serving_pool.get("enabled"):
        return RolloutStatus.FAILED  # every pool is down: the fallback takes it anyway
    if not health[str(serving_pool.get("id"))].usable:
        return RolloutStatus.FAILED
    troubled = any(
        p.get("enabled") and health[str(p.get("id"))].ok is False for p in pools
    ) or any(
        o.get("enabled") is False for o in serving_pool.get("origins") or []
    )  # fmt: skip
    return RolloutStatus.DEGRADED if troubled else RolloutStatus.READY


def pool_line(pool: dict[str, Any], health: Health) -> str:
    state = health.word() if pool.get("enabled") else "disabled"
    return f"{pool.get('name', '?')} {state}"


def origins(pool: dict[str, Any], health: dict[str, Any] | None) -> list[PodInfo]:
    """Each origin of a pool as a details row: pool/origin, its state and address."""
    out = []
    for origin in pool.get("origins") or []:
        if not isinstance(origin, dict):
            continue
        seen = origin_health(health, str(origin.get("address", "")))
        enabled = bool(origin.get("enabled", True)) and bool(pool.get("enabled"))
        out.append(
            PodInfo(
                name=f"{pool.get('name', '?')}/{origin.get('name', '?')}",
                phase=seen.word().split(" (")[0] if enabled else "disabled",
                ready=enabled and seen.ok is True,
                reason=seen.reason,
                node=str(origin.get("address", "")),
            )
        )
    return out


def routes(
    pools: list[dict[str, Any]], health: dict[str, Any], serving_pool: dict[str, Any] | None
) -> tuple[Route, ...]:
    """Every origin of every pool as a route: enabled (with its pool), healthy as the
    monitors see it, and serving when it is an enabled origin of the pool that serves;
    the site row matches platforms to these by host."""
    out = []
    for pool in pools:
        for origin in pool.get("origins") or []:
            if not isinstance(origin, dict) or not origin.get("address"):
                continue
            address = str(origin["address"])
            enabled = bool(origin.get("enabled", True)) and bool(pool.get("enabled"))
            seen = origin_health(health.get(str(pool.get("id"))), address)
            # With a Host header override (a platform's shared CNAME such as
            # cname.vercel-dns.com) the platform knows the site by that host.
            override = ((origin.get("header") or {}).get("Host") or [None])[0]
            out.append(
                Route(
                    host=str(override or address),
                    pool=str(pool.get("name") or ""),
                    enabled=enabled,
                    healthy=seen.ok,
                    serving=enabled and serving_pool is not None and pool is serving_pool,
                )
            )
    return tuple(out)
