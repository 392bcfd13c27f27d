"""The Cloudflare load-balancing provider: one row per load balancer naming the pool
that serves and the health of every pool and origin as Cloudflare's monitors see it;
failover is a deploy of `disable:POOL`, `enable:POOL`, `disable:POOL/ORIGIN` or
`enable:POOL/ORIGIN`, so the environment's policy, the audit log and the
notifications apply to it like to any deploy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from console.domain.model import (
    EventInfo,
    Revision,
    Snapshot,
    Target,
    TargetDetails,
    TargetRef,
    utcnow,
)
from providers.base import (
    BadResponse,
    Capability,
    NotFound,
    Provider,
    ProviderContext,
    Refused,
    Setting,
)
from providers.ci.times import parse_time
from providers.cloudflare import pools as pl
from providers.cloudflare.settings import DECLARED, check, parse
from providers.http import HttpClient
from providers.reads import together

_VERBS = ("disable", "enable")


class CloudflareProvider(Provider):
    kind = "cloudflare"
    capabilities = Capability.SNAPSHOT | Capability.DEPLOY | Capability.REVISIONS
    declared_settings: ClassVar[tuple[Setting, ...]] = DECLARED

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse(self.settings)
        self.client = HttpClient(self.config.http)

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    async def close(self) -> None:
        await self.client.close()

    # --- reads --------------------------------------------------------------------

    def _pools_path(self) -> str:
        return f"accounts/{quote(self.config.account, safe='')}/load_balancers/pools"

    async def _result(self, path: str) -> Any:
        """The `result` of Cloudflare's envelope; `success: false` is a bad response."""
        body = await self.client.get(path)
        if not isinstance(body, dict) or "result" not in body:
            raise BadResponse(f"{path}: expected Cloudflare's envelope")
        if body.get("success") is False:
            raise BadResponse(f"{path}: success is false")
        return body["result"]

    async def _load_balancer(self) -> dict[str, Any] | None:
        if not self.config.zone:
            return None
        found = await self._result(f"zones/{quote(self.config.zone, safe='')}/load_balancers")
        listed = [lb for lb in found or [] if isinstance(lb, dict)]
        wanted = self.config.load_balancer
        chosen = [lb for lb in listed if wanted is None or lb.get("name") == wanted]
        if len(chosen) != 1:
            names = ", ".join(str(lb.get("name")) for lb in listed) or "none"
            raise NotFound(f"no single load balancer {wanted or ''} in the zone (there: {names})")
        return chosen[0]

    async def _state(
        self,
    ) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, pl.Health], dict[str, Any] | None]:
        """(pools, raw health by pool id, health by pool id, the load balancer)."""
        pools_found, lb = await together(self._result(self._pools_path()), self._load_balancer())
        if not isinstance(pools_found, list):
            raise BadResponse("pools: expected a list")
        pools = [p for p in pools_found if isinstance(p, dict) and p.get("id")]
        if lb is not None:  # only the load balancer's own pools, in its order
            ids = [*(lb.get("default_pools") or []), lb.get("fallback_pool")]
            pools = [p for p in pools if p["id"] in ids]
        raw = await together(*(self._health(p) for p in pools))
        health = {str(p["id"]): h for p, h in zip(pools, raw, strict=True)}
        return pools, health, {k: pl.pool_health(v) for k, v in health.items()}, lb

    async def _health(self, pool: dict[str, Any]) -> dict[str, Any] | None:
        """A pool's health by region; none for a disabled pool, which is not checked."""
        if not pool.get("enabled"):
            return None
        found = await self._result(f"{self._pools_path()}/{quote(str(pool['id']), safe='')}/health")
        return found if isinstance(found, dict) else None

    def _ref(self) -> TargetRef:
        lb = self.config.load_balancer or self.config.account
        return TargetRef(self.name, self.config.service, self.config.environment, lb)

    def _check_ref(self, ref: TargetRef) -> None:
        if ref.target != self._ref().target:
            raise NotFound(f"{ref.target or ref.key} is not a target of provider {self.name}")

    def _row(
        self,
        ref: TargetRef,
        pools: list[dict[str, Any]],
        health: dict[str, pl.Health],
        lb: dict[str, Any] | None,
        raw: dict[str, Any],
    ) -> Target:
        serving = pl.serving(pools, health, lb)
        parts = []
        if serving is not None:
            live = [o.get("name", "?") for o in serving.get("origins") or [] if o.get("enabled")]
            parts.append(f"serving pool {serving.get('name')} ({', '.join(live) or 'no origin'})")
        else:
            parts.append("no pool can serve")
        if lb is not None:
            parts.append(f"steering {lb.get('steering_policy') or 'off'}")
            if lb.get("enabled") is False:
                parts.append("load balancer disabled")
        parts.append("pools: " + ", ".join(pl.pool_line(p, health[str(p["id"])]) for p in pools))
        return Target(
            ref=ref,
            revision=str((serving or {}).get("name") or ""),
            status=pl.status_of(pools, health, serving),
            ready=sum(1 for p in pools if p.get("enabled") and health[str(p["id"])].ok),
            desired=len(pools),
            updated_at=max(
                (t for p in pools if (t := parse_time(p.get("modified_on")))), default=None
            ),
            message=" · ".join(parts),
            routes=pl.routes(pools, raw, serving),
        )

    async def snapshot(self) -> Snapshot:
        pools, raw, health, lb = await self._state()
        return Snapshot(self.name, (self._row(self._ref(), pools, health, lb, raw),), utcnow())

    async def details(self, target: TargetRef) -> TargetDetails:
        self._check_ref(target)
        pools, raw, health, lb = await self._state()
        origins = [o for p in pools for o in pl.origins(p, raw[str(p["id"])])]
        events = [
            EventInfo(
                at=utcnow(),
                type="Normal" if p.get("enabled") and health[str(p["id"])].ok else "Warning",
                reason="Pool",
                message=pl.pool_line(p, health[str(p["id"])]),
                source=f"pool/{p['id']}",
            )
            for p in pools
        ]
        row = self._row(target, pools, health, lb, raw)
        return TargetDetails(target=row, pods=tuple(origins), events=tuple(events))

    async def revisions(self, target: TargetRef) -> list[Revision]:
        """The failovers on offer: each pool and origin switched the other way."""
        self._check_ref(target)
        pools, _, health, _ = await self._state()
        out = []
        for pool in pools:
            name = str(pool.get("name"))
            verb = "disable" if pool.get("enabled") else "enable"
            out.append(
                Revision(
                    id=f"{verb}:{name}",
                    description=f"pool {pl.pool_line(pool, health[str(pool['id'])])}",
                )
            )
            for origin in pool.get("origins") or []:
                verb = "disable" if origin.get("enabled", True) else "enable"
                out.append(Revision(id=f"{verb}:{name}/{origin.get('name')}",
                                    description=f"origin {origin.get('address', '')}"))  # fmt: skip
        return out

    # --- failover -----------------------------------------------------------------

    async def _plan(self, revision: str) -> tuple[dict[str, Any], dict[str, Any], str]:
        """(pool, the PATCH body, what it does) for a failover revision, or Refused."""
        verb, _, what = revision.partition(":")
        pool_name, _, origin_name = what.partition("/")
        if verb not in _VERBS or not pool_name:
            raise Refused(
                f"{revision!r} is not a failover: disable:POOL, enable:POOL, "
                "disable:POOL/ORIGIN or enable:POOL/ORIGIN"
            )
        pools, _, _, _ = await self._state()
        pool = next((p for p in pools if p.get("name") == pool_name), None)
        if pool is None:
            names = ", ".join(str(p.get("name")) for p in pools) or "none"
            raise Refused(f"no pool {pool_name!r} (pools: {names})")
        enable = verb == "enable"
        if not origin_name:
            if bool(pool.get("enabled")) == enable:
                raise Refused(f"pool {pool_name} is already {verb}d")
            if not enable and not any(p.get("enabled") for p in pools if p is not pool):
                raise Refused(f"pool {pool_name} is the last enabled pool: enable another first")
            return pool, {"enabled": enable}, f"{verb}d pool {pool_name}"
        origins = [dict(o) for o in pool.get("origins") or [] if isinstance(o, dict)]
        origin = next((o for o in origins if o.get("name") == origin_name), None)
        if origin is None:
            names = ", ".join(str(o.get("name")) for o in origins) or "none"
            raise Refused(f"pool {pool_name} has no origin {origin_name!r} (origins: {names})")
        if bool(origin.get("enabled", True)) == enable:
            raise Refused(f"origin {pool_name}/{origin_name} is already {verb}d")
        if not enable and not any(o.get("enabled", True) for o in origins if o is not origin):
            raise Refused(
                f"{origin_name} is the last enabled origin of {pool_name}: "
                f"disable:{pool_name} instead"
            )
        origin["enabled"] = enable
        return pool, {"origins": origins}, f"{verb}d origin {pool_name}/{origin_name}"

    async def check_revision(self, target: TargetRef, revision: str) -> str | None:
        try:
            self._check_ref(target)
            await self._plan(revision)
        except (Refused, NotFound) as exc:
            return str(exc)
        return None

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """A failover: PATCHes the pool's `enabled` flag, or its origins with one flipped."""
        self._check_ref(target)
        pool, body, done = await self._plan(revision)
        answer = await self.client.request(
            "PATCH", f"{self._pools_path()}/{quote(str(pool['id']), safe='')}", body=body
        )
        return f"{done} on Cloudflare: {answer.status}"
