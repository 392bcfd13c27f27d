"""The Vercel provider: per project, one target per Vercel target (production, preview)
showing the newest deployment and, for production, the one that serves the site;
promote a READY deployment (deploy), roll back to an earlier one, and build logs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from console.domain.model import (
    EventInfo,
    LogLine,
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
from providers.ci.loglines import history, lines_of
from providers.http import HttpClient
from providers.http.follow import FIRST_PAUSE, MAX_PAUSE, follow_text
from providers.http.pacing import Pacer
from providers.vercel import deployments as dep
from providers.vercel.settings import DECLARED, PRODUCTION, check, parse

_LISTED = 20  # deployments read per target: enough to find the live one and roll back


class VercelProvider(Provider):
    kind = "vercel"
    capabilities = (
        Capability.SNAPSHOT
        | Capability.LOGS
        | Capability.DEPLOY
        | Capability.ROLLBACK
        | Capability.REVISIONS
    )
    declared_settings: ClassVar[tuple[Setting, ...]] = DECLARED
    log_pause: float = FIRST_PAUSE
    log_max_pause: float = MAX_PAUSE

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

    # --- requests -----------------------------------------------------------------

    def _params(self, **params: Any) -> dict[str, Any]:
        """Every call names the team of a team project (`teamId`)."""
        if self.config.team:
            params["teamId"] = self.config.team
        return params

    async def _project(self, project: str) -> dict[str, Any]:
        found = await self.client.get(f"v9/projects/{quote(project, safe='')}", self._params())
        if not isinstance(found, dict) or not found.get("id"):
            raise BadResponse(f"project {project}: expected a project")
        return found

    async def _deployments(
        self, project_id: str, target: str, *, limit: int = _LISTED, state: str | None = None
    ) -> list[dict[str, Any]]:
        params = self._params(projectId=project_id, target=target, limit=limit)
        if state:
            params["state"] = state
        found = await self.client.get("v6/deployments", params)
        listed = found.get("deployments") if isinstance(found, dict) else None
        if not isinstance(listed, list):
            raise BadResponse("/v6/deployments: expected a list of deployments")
        listed = [d for d in listed if isinstance(d, dict)]
        return sorted(listed, key=lambda d: -(d.get("created") or d.get("createdAt") or 0))

    async def _deployment(self, deployment_id: str) -> dict[str, Any]:
        found = await self.client.get(
            f"v13/deployments/{quote(deployment_id, safe='')}", self._params()
        )
        if not isinstance(found, dict):
            raise BadResponse(f"deployment {deployment_id}: expected a deployment")
        return found

    # --- targets ------------------------------------------------------------------

    def _refs(self) -> list[tuple[str, str, TargetRef]]:
        """(project, Vercel target, ref) of every target."""
        return [
            (
                project,
                target,
                TargetRef(self.name, self.config.service_of(project), env, f"{project}:{target}"),
            )
            for project in self.config.projects
            for env, target in self.config.environments.items()
        ]

    def _split(self, ref: TargetRef) -> tuple[str, str]:
        project, _, target = ref.target.rpartition(":")
        if project in self.config.projects and target in self.config.environments.values():
            return project, target
        raise NotFound(f"{ref.target or ref.key} is not a target of provider {self.name}")

    async def snapshot(self) -> Snapshot:
        if self._last is not None and not self.pacer.due():
            return self._last
        self.pacer.start()
        refs = self._refs()
        # each project is read once per refresh, however many targets it has
        projects = {p: asyncio.ensure_future(self._project(p)) for p in self.config.projects}
        try:
            found = await asyncio.gather(
                *(self._target(projects[project], target, ref) for project, target, ref in refs),
                return_exceptions=True,
            )
        finally:
            for task in projects.values():
                task.cancel()
        self.pacer.finish()
        errors = [r for r in found if isinstance(r, BaseException)]
        if errors and len(errors) == len(found):
            raise errors[0]
        targets = tuple(
            r if isinstance(r, Target) else Target(ref, "", RolloutStatus.UNKNOWN, message=str(r))
            for r, (_, _, ref) in zip(found, refs, strict=True)
        )
        self._last = Snapshot(self.name, targets, utcnow())
        return self._last

    async def _state(
        self, project: str, target: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
        """The project, its target's recent deployments (newest first), and the live one."""
        return await self._listed(await self._project(project), target)

    async def _listed(
        self, found: dict[str, Any], target: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
        listed = await self._deployments(str(found["id"]), target)
        return found, listed, _live(found, target, listed)

    async def _target(
        self, project: asyncio.Future[dict[str, Any]], target: str, ref: TargetRef
    ) -> Target:
        found, listed, live = await self._listed(await asyncio.shield(project), target)
        if not listed:
            return Target(ref, "", RolloutStatus.UNKNOWN, message=f"no {target} deployments yet")
        return replace(dep.target_of(ref, listed[0], live), hosts=_hosts(found, target, listed))

    async def details(self, target: TargetRef) -> TargetDetails:
        project, vercel_target = self._split(target)
        _, listed, live = await self._state(project, vercel_target)
        if not listed:
            raise NotFound(f"no {vercel_target} deployments of {project} yet")
        events = [
            EventInfo(
                at=dep.created_at(d),
                type="Warning" if dep.state_of(d) in ("ERROR", "CANCELED") else "Normal",
                reason=dep.state_of(d),
                message=dep.describe(d) + (" · live" if live is not None and d is live else ""),
                source=f"deployment/{dep.deployment_id(d)}",
            )
            for d in listed[:10]
        ]
        if line := self.pacer.describe():
            events.append(EventInfo(at=utcnow(), type="Normal", reason="RateLimit", message=line))
        return TargetDetails(target=dep.target_of(target, listed[0], live), events=tuple(events))

    async def revisions(self, target: TargetRef) -> list[Revision]:
        """The target's READY deployments, newest first; the live one marked current."""
        project, vercel_target = self._split(target)
        found = await self._project(project)
        ready = await self._deployments(str(found["id"]), vercel_target, state=dep.READY)
        live = _live(found, vercel_target, ready)
        return [
            Revision(
                id=dep.deployment_id(d),
                created_at=dep.created_at(d),
                description=dep.describe(d),
                current=live is not None and dep.deployment_id(d) == dep.deployment_id(live),
            )
            for d in ready
        ]

    # --- changes ------------------------------------------------------------------

    async def _chosen(self, target: TargetRef, revision: str) -> tuple[str, dict[str, Any]]:
        """(project id, the READY deployment `revision` names) for a promote or rollback."""
        project, vercel_target = self._split(target)
        if vercel_target != PRODUCTION:
            raise Refused(
                f"{vercel_target} deployments come from pushes; only production is "
                "promoted or rolled back"
            )
        found = await self._project(project)
        listed = await self._deployments(str(found["id"]), PRODUCTION)
        chosen = next((d for d in listed if dep.matches(d, revision)), None)
        if chosen is None and revision.startswith("dpl_"):
            chosen = await self._deployment(revision)
        if chosen is None:
            raise Refused(f"no recent deployment of {project} is {revision!r}")
        if dep.state_of(chosen) != dep.READY:
            raise Refused(
                f"deployment {dep.deployment_id(chosen)} is {dep.state_of(chosen) or 'unknown'}, "
                "not READY"
            )
        return str(found["id"]), chosen

    async def check_revision(self, target: TargetRef, revision: str) -> str | None:
        try:
            await self._chosen(target, revision)
        except (Refused, NotFound) as exc:
            return str(exc)
        return None

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """Promotes a READY deployment (an id, its URL or a commit sha prefix) to
        production without rebuilding it."""
        project_id, chosen = await self._chosen(target, revision)
        path = _project_path(project_id, "v10", "promote", dep.deployment_id(chosen))
        answer = await self.client.post(self._with_query(path))
        return f"promoted {dep.describe(chosen)} to production: {answer.status}"

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        """Returns production to `to`, or to the READY deployment before the live one."""
        project, vercel_target = self._split(target)
        if to:
            project_id, chosen = await self._chosen(target, to)
        else:
            if vercel_target != PRODUCTION:
                raise Refused(f"only production is rolled back, not {vercel_target}")
            found = await self._project(project)
            project_id = str(found["id"])
            ready = await self._deployments(project_id, PRODUCTION, state=dep.READY)
            live = _live(found, PRODUCTION, ready)
            earlier = ready[ready.index(live) + 1 :] if live in ready else []
            if not earlier:
                raise Refused(f"no earlier READY production deployment of {project} to return to")
            chosen = earlier[0]
        path = _project_path(project_id, "v1", "rollback", dep.deployment_id(chosen))
        answer = await self.client.post(
            self._with_query(path, description="Rolled back from Quorum")
        )
        return f"rolled production back to {dep.describe(chosen)}: {answer.status}"

    def _with_query(self, path: str, **params: str) -> str:
        query = urlencode(self._params(**params))
        return f"{path}?{query}" if query else path

    # --- logs ---------------------------------------------------------------------

    def logs(
        self,
        target: TargetRef,
        *,
        follow: bool = False,
        since: timedelta | None = None,
        tail: int | None = None,
        container: str | None = None,
        previous: bool = False,
    ) -> AsyncIterator[LogLine]:
        """The build log of the target's newest deployment; `container` names another
        deployment by id."""
        return self._logs(target, follow, since, tail, container)

    async def _logs(
        self,
        target: TargetRef,
        follow: bool,
        since: timedelta | None,
        tail: int | None,
        chosen: str | None,
    ) -> AsyncIterator[LogLine]:
        project, vercel_target = self._split(target)
        if chosen:
            deployment_id = chosen
        else:
            found = await self._project(project)
            listed = await self._deployments(str(found["id"]), vercel_target, limit=1)
            if not listed:
                raise NotFound(f"no {vercel_target} deployments of {project} yet")
            deployment_id = dep.deployment_id(listed[0])
        past = history(
            [(deployment_id, deployment_id, await self._build_log(deployment_id))],
            since=since,
            tail=tail,
        )
        for line in past.lines:
            yield dep.unmark(line)
        if not follow:
            return
        async for text in follow_text(
            lambda: self._build_log(deployment_id),
            lambda: self._built(deployment_id),
            first_pause=self.log_pause,
            max_pause=self.log_max_pause,
            seen=past.covered.get(deployment_id, 0),
        ):
            yield dep.unmark(lines_of([text], deployment_id)[0])

    async def _build_log(self, deployment_id: str) -> str:
        events = await self.client.get(
            f"v3/deployments/{quote(deployment_id, safe='')}/events",
            self._params(builds=1, direction="forward", limit=-1),
        )
        if not isinstance(events, list):
            raise BadResponse(f"build log of {deployment_id}: expected a list of events")
        return dep.event_text(events)

    async def _built(self, deployment_id: str) -> bool:
        return dep.state_of(await self._deployment(deployment_id)) not in dep.BUILDING


def _project_path(project_id: str, version: str, verb: str, deployment_id: str) -> str:
    return f"{version}/projects/{quote(project_id, safe='')}/{verb}/{quote(deployment_id, safe='')}"


def _live(
    project: dict[str, Any], target: str, listed: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The deployment serving production (the project's `targets.production`, which a
    rollback moves back), as listed; the newest READY one when the project does not say.
    None for other targets: each preview deployment has its own URL."""
    if target != PRODUCTION:
        return None
    current = ((project.get("targets") or {}).get(PRODUCTION) or {}).get("id")
    for deployment in listed:
        if current and dep.deployment_id(deployment) == current:
            return deployment
    if current:
        return {"uid": current, "readyState": dep.READY}
    return next((d for d in listed if dep.state_of(d) == dep.READY), None)


def _hosts(project: dict[str, Any], target: str, listed: list[dict[str, Any]]) -> tuple[str, ...]:
    """Where a target answers, so a load balancer in front of it is matched to it: the
    production target at the project's `NAME.vercel.app` and its production aliases, a
    preview target at its newest deployment's own URL."""
    if target != PRODUCTION:
        return tuple(str(d["url"]).lower() for d in listed[:1] if d.get("url"))
    aliases = ((project.get("targets") or {}).get(PRODUCTION) or {}).get("alias") or []
    names = [f"{project['name']}.vercel.app"] if project.get("name") else []
    return tuple(dict.fromkeys(str(a).lower() for a in [*names, *aliases] if isinstance(a, str)))
