"""The Netlify provider: per site, the published production deploy and the newest one;
deploy = publish a ready deploy, rollback = restore the one before the published one,
pause and resume = lock and unlock auto-publishing (the brake on a site).

Netlify's API documents no endpoint to read a deploy's build log, so this kind has
no logs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import quote

from console.domain.model import (
    EventInfo,
    Revision,
    RolloutStatus,
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
from providers.http import HttpClient
from providers.http.pacing import Pacer
from providers.netlify import deploys as dp
from providers.netlify.settings import DECLARED, check, parse

_LISTED = 30  # deploys read per site: enough to find the published one and roll back


class NetlifyProvider(Provider):
    kind = "netlify"
    capabilities = (
        Capability.SNAPSHOT
        | Capability.DEPLOY
        | Capability.ROLLBACK
        | Capability.REVISIONS
        | Capability.PAUSE
    )
    declared_settings: ClassVar[tuple[Setting, ...]] = DECLARED

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse(self.settings)
        self.client = HttpClient(self.config.http)
        self.pacer = Pacer(self.client)
        self._last: Snapshot | None = None

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    async def close(self) -> None:
        await self.client.close()

    # --- reads --------------------------------------------------------------------

    def _ref(self, site: str) -> TargetRef:
        return TargetRef(self.name, self.config.service_of(site), self.config.environment, site)

    def _site_of(self, ref: TargetRef) -> str:
        if ref.target in self.config.sites:
            return ref.target
        raise NotFound(f"{ref.target or ref.key} is not a target of provider {self.name}")

    async def _state(self, site: str) -> tuple[str, dict[str, Any] | None, list[dict[str, Any]]]:
        """(site id, the published deploy, production deploys newest first)."""
        found, published, deploys = await self._site_state(site)
        return str(found["id"]), published, deploys

    async def _site_state(
        self, site: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
        """(the site, the published deploy, production deploys newest first)."""
        found = await self.client.get(f"sites/{quote(site, safe='')}")
        if not isinstance(found, dict) or not found.get("id"):
            raise BadResponse(f"site {site}: expected a site")
        site_id = str(found["id"])
        listed = await self.client.get(
            f"sites/{quote(site_id, safe='')}/deploys", {"page": 1, "per_page": _LISTED}
        )
        if not isinstance(listed, list):
            raise BadResponse(f"deploys of {site}: expected a list")
        deploys = dp.production(listed)
        published = found.get("published_deploy")
        if isinstance(published, dict) and published.get("id"):
            # the listing's copy when it has one: the site's may be abridged
            published = next((d for d in deploys if d.get("id") == published["id"]), published)
        else:
            published = None
        return found, published, deploys

    async def snapshot(self) -> Snapshot:
        if self._last is not None and not self.pacer.due():
            return self._last
        self.pacer.start()
        refs = [self._ref(site) for site in self.config.sites]
        found = await asyncio.gather(*(self._target(ref) for ref in refs), return_exceptions=True)
        self.pacer.finish()
        errors = [r for r in found if isinstance(r, BaseException)]
        if errors and len(errors) == len(found):
            raise errors[0]
        targets = tuple(
            r if isinstance(r, Target) else Target(ref, "", RolloutStatus.UNKNOWN, message=str(r))
            for r, ref in zip(found, refs, strict=True)
        )
        self._last = Snapshot(self.name, targets, utcnow())
        return self._last

    async def _target(self, ref: TargetRef) -> Target:
        site, published, deploys = await self._site_state(ref.target)
        row = dp.target_of(ref, published, deploys[0] if deploys else None)
        return replace(row, hosts=dp.hosts_of(site))

    async def details(self, target: TargetRef) -> TargetDetails:
        _, published, deploys = await self._state(self._site_of(target))
        live = (published or {}).get("id")
        events = [
            EventInfo(
                at=parse_time(d.get("published_at") or d.get("created_at")),
                type="Warning" if d.get("state") in dp.FAILED else "Normal",
                reason=str(d.get("state") or ""),
                message=dp.describe(d) + (" · published" if d.get("id") == live else ""),
                source=f"deploy/{d.get('id')}",
            )
            for d in deploys[:10]
        ]
        if line := self.pacer.describe():
            events.append(EventInfo(at=utcnow(), type="Normal", reason="RateLimit", message=line))
        shown = dp.target_of(target, published, deploys[0] if deploys else None)
        return TargetDetails(target=shown, events=tuple(events))

    async def revisions(self, target: TargetRef) -> list[Revision]:
        """The site's ready production deploys, newest first; the published one current."""
        _, published, deploys = await self._state(self._site_of(target))
        live = (published or {}).get("id")
        return [
            Revision(
                id=str(d.get("id")),
                created_at=parse_time(d.get("created_at")),
                description=dp.describe(d),
                current=d.get("id") == live,
            )
            for d in deploys
            if d.get("state") == dp.READY
        ]

    # --- changes ------------------------------------------------------------------

    async def _chosen(self, target: TargetRef, revision: str) -> tuple[str, dict[str, Any]]:
        site = self._site_of(target)
        site_id, _, deploys = await self._state(site)
        chosen = next((d for d in deploys if dp.matches(d, revision)), None)
        if chosen is None:
            raise Refused(f"no recent production deploy of {site} is {revision!r}")
        if chosen.get("state") != dp.READY:
            raise Refused(
                f"deploy {chosen.get('id')} is {chosen.get('state', 'unknown')}, not ready"
            )
        return site_id, chosen

    async def check_revision(self, target: TargetRef, revision: str) -> str | None:
        try:
            await self._chosen(target, revision)
        except (Refused, NotFound) as exc:
            return str(exc)
        return None

    async def _restore(self, site_id: str, deploy: dict[str, Any]) -> str:
        answer = await self.client.post(
            f"sites/{quote(site_id, safe='')}/deploys/{quote(str(deploy['id']), safe='')}/restore"
        )
        return f"published {dp.describe(deploy)}: {answer.status}"

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """Publishes a ready production deploy (its id or a commit sha prefix)."""
        site_id, chosen = await self._chosen(target, revision)
        return await self._restore(site_id, chosen)

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        """Restores `to`, or the ready production deploy before the published one."""
        if to:
            site_id, chosen = await self._chosen(target, to)
            return await self._restore(site_id, chosen)
        site = self._site_of(target)
        site_id, published, deploys = await self._state(site)
        ready = [d for d in deploys if d.get("state") == dp.READY]
        ids = [d.get("id") for d in ready]
        live = (published or {}).get("id")
        earlier = ready[ids.index(live) + 1 :] if live in ids else []
        if not earlier:
            raise Refused(f"no earlier ready production deploy of {site} to restore")
        return await self._restore(site_id, earlier[0])

    async def _lock(self, target: TargetRef, verb: str) -> str:
        site = self._site_of(target)
        _, published, _ = await self._state(site)
        if published is None:
            raise Refused(f"{site} has no published deploy to {verb}")
        answer = await self.client.post(f"deploys/{quote(str(published['id']), safe='')}/{verb}")
        return f"{verb}ed auto-publishing of {site} at deploy {published['id']}: {answer.status}"

    async def pause(self, target: TargetRef) -> str:
        """Locks the published deploy: new deploys build but are not published."""
        return await self._lock(target, "lock")

    async def resume(self, target: TargetRef) -> str:
        """Unlocks it: the next ready production deploy is published again."""
        return await self._lock(target, "unlock")
