"""The GitLab CI provider: the latest pipeline and the deployments of each environment
as targets, deployment approvals, a manual job played as deploy, and a retry of the
previous successful deployment's job as rollback (what GitLab's own re-deploy does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any, ClassVar

from console.domain.model import (
    EventInfo,
    LogLine,
    ProviderApproval,
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
from providers.ci.times import parse_time
from providers.gitlab import pipelines
from providers.gitlab.settings import DECLARED, check, parse, project_path
from providers.http import HttpClient
from providers.http.follow import FIRST_PAUSE, MAX_PAUSE, follow_text
from providers.http.pacing import Pacer
from providers.reads import SlowestFirst, together


def private_token(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token}


class GitLabProvider(Provider):
    kind = "gitlab"
    capabilities = (
        Capability.SNAPSHOT
        | Capability.LOGS
        | Capability.APPROVALS
        | Capability.ANSWER
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
        self.client = HttpClient(self.config.http, auth_header=private_token)
        self.pacer = Pacer(self.client)
        self._order = SlowestFirst()
        self._last: Snapshot | None = None

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    async def close(self) -> None:
        await self.client.close()

    # --- targets ------------------------------------------------------------------

    def _refs(self) -> list[tuple[str, str | None, TargetRef]]:
        """(project, GitLab environment or None for the pipeline, ref) of every target."""
        out: list[tuple[str, str | None, TargetRef]] = []
        for project in self.config.projects:
            service = self.config.service_of(project)
            env = self.config.pipeline_environment
            out.append((project, None, TargetRef(self.name, service, env, f"{project}:pipeline")))
            for quorum_env, gitlab_env in self.config.environments.items():
                target = f"{project}:environment/{gitlab_env}"
                out.append((project, gitlab_env, TargetRef(self.name, service, quorum_env, target)))
        return out

    def _split(self, ref: TargetRef) -> tuple[str, str | None]:
        project, _, what = ref.target.partition(":")
        if project in self.config.projects:
            if what == "pipeline":
                return project, None
            env = what.removeprefix("environment/")
            if what.startswith("environment/") and env in self.config.environments.values():
                return project, env
            if what == "pages" and self.config.pages:
                raise Refused(
                    "the GitLab Pages row is read-only: its status and last deploy; "
                    "Pages deploys with the project's pipeline"
                )
        raise NotFound(f"{ref.target or ref.key} is not a target of provider {self.name}")

    async def snapshot(self) -> Snapshot:
        if self._last is not None and not self.pacer.due():
            return self._last
        self.pacer.start()
        refs = self._refs()
        pages = self._pages_refs()
        found = await self._order.gather(
            [(ref.target, self._target(project, env, ref)) for project, env, ref in refs]
            + [(ref.target, self._pages(project, ref)) for project, ref in pages]
        )
        refs += [(project, None, ref) for project, ref in pages]
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

    def _pages_refs(self) -> list[tuple[str, TargetRef]]:
        """(project, ref) of each project's read-only Pages row, when `pages` names its
        environment."""
        env = self.config.pages
        if env is None:
            return []
        return [
            (p, TargetRef(self.name, self.config.service_of(p), env, f"{p}:pages"))
            for p in self.config.projects
        ]

    async def _pages(self, project: str, ref: TargetRef) -> Target:
        try:
            found = await self.client.get(f"{project_path(project)}/pages")
        except NotFound:  # Pages never deployed, or switched off
            found = None
        if found is not None and not isinstance(found, dict):
            raise BadResponse(f"Pages of {project}: expected an object")
        return pipelines.pages_target(ref, found)

    async def _target(self, project: str, env: str | None, ref: TargetRef) -> Target:
        if env is None:
            pipeline = await self._latest_pipeline(project)
            if pipeline is None:
                return Target(ref, "", RolloutStatus.UNKNOWN, message="no pipelines yet")
            failing = ""
            if pipeline.get("status") == "failed":
                failing = pipelines.failing_job(await self._jobs(project, pipeline["id"]))
            return pipelines.pipeline_target(ref, pipeline, failing)
        deployment = await self._latest_deployment(project, env)
        if deployment is None:
            return Target(ref, "", RolloutStatus.UNKNOWN, message=f"no deployments to {env} yet")
        return pipelines.deployment_target(ref, deployment)

    async def _list(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        data = await self.client.get(path, params)
        if not isinstance(data, list):
            raise BadResponse(f"{path}: expected a list")
        return data

    async def _latest_pipeline(self, project: str) -> dict[str, Any] | None:
        params: dict[str, Any] = {"per_page": 1}
        if self.config.ref:
            params["ref"] = self.config.ref
        found = await self._list(f"{project_path(project)}/pipelines", params)
        return found[0] if found else None

    async def _latest_deployment(self, project: str, env: str) -> dict[str, Any] | None:
        found = await self._deployments(project, env, per_page=1)
        return found[0] if found else None

    async def _deployments(
        self, project: str, env: str, *, per_page: int, status: str | None = None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"environment": env, "order_by": "id", "sort": "desc",
                                  "per_page": per_page}  # fmt: skip
        if status:
            params["status"] = status
        return await self._list(f"{project_path(project)}/deployments", params)

    async def _jobs(self, project: str, pipeline_id: int) -> list[dict[str, Any]]:
        return await self.client.pages(
            f"{project_path(project)}/pipelines/{pipeline_id}/jobs", {"per_page": 100}
        )

    async def details(self, target: TargetRef) -> TargetDetails:
        pages = {ref.target: project for project, ref in self._pages_refs()}
        if target.target in pages:
            return TargetDetails(target=await self._pages(pages[target.target], target))
        project, env = self._split(target)
        events: list[EventInfo] = []
        if env is None:
            pipeline = await self._latest_pipeline(project)
            if pipeline is None:
                raise NotFound(f"no pipelines in {project} yet")
            jobs = await self._jobs(project, pipeline["id"])
            shown = pipelines.pipeline_target(target, pipeline, pipelines.failing_job(jobs))
        else:
            deployment = await self._latest_deployment(project, env)
            if deployment is None:
                raise NotFound(f"no deployments to {env} in {project} yet")
            shown = pipelines.deployment_target(target, deployment)
            job = deployment.get("deployable") or {}
            pipeline_id = (job.get("pipeline") or {}).get("id")
            jobs = await self._jobs(project, pipeline_id) if pipeline_id else []
            events.append(pipelines.deployment_event(deployment))
        if line := self.pacer.describe():
            events.append(EventInfo(at=utcnow(), type="Normal", reason="RateLimit", message=line))
        return TargetDetails(
            target=shown, pods=tuple(pipelines.job_info(j) for j in jobs), events=tuple(events)
        )

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
        """Job traces: the latest pipeline's jobs, or the deployment's job; `container`
        picks one job by name."""
        return self._logs(target, follow, since, tail, container)

    async def _logs(
        self,
        target: TargetRef,
        follow: bool,
        since: timedelta | None,
        tail: int | None,
        job_name: str | None,
    ) -> AsyncIterator[LogLine]:
        project, env = self._split(target)
        jobs = await self._log_jobs(project, env, job_name)
        past = history(
            [(job["id"], job["name"], await self._trace(project, job)) for job in jobs],
            since=since,
            tail=tail,
        )
        for line in past.lines:
            yield line
        if not follow:
            return
        for job in jobs:
            async for text in follow_text(
                lambda job=job: self._trace(project, job),
                lambda job=job: self._job_done(project, job),
                first_pause=self.log_pause,
                max_pause=self.log_max_pause,
                seen=past.covered.get(job["id"], 0),
            ):
                yield lines_of([text], job["name"])[0]

    async def _log_jobs(
        self, project: str, env: str | None, job_name: str | None
    ) -> list[dict[str, Any]]:
        if env is None:
            pipeline = await self._latest_pipeline(project)
            if pipeline is None:
                raise NotFound(f"no pipelines in {project} yet")
            jobs = await self._jobs(project, pipeline["id"])
        else:
            deployment = await self._latest_deployment(project, env)
            job = (deployment or {}).get("deployable")
            if not job:
                raise NotFound(f"no deployment job for {env} in {project} yet")
            jobs = [job]
        if job_name is None:
            return sorted(jobs, key=lambda j: j.get("id", 0))
        chosen = [j for j in jobs if j.get("name") == job_name]
        if not chosen:
            names = ", ".join(str(j.get("name")) for j in jobs) or "none"
            raise NotFound(f"no job {job_name!r} (jobs: {names})")
        return chosen

    async def _trace(self, project: str, job: dict[str, Any]) -> str:
        try:
            return await self.client.text(f"{project_path(project)}/jobs/{job['id']}/trace")
        except NotFound:
            return ""

    async def _job_done(self, project: str, job: dict[str, Any]) -> bool:
        fresh = await self.client.get(f"{project_path(project)}/jobs/{job['id']}")
        return isinstance(fresh, dict) and fresh.get("status") not in pipelines.ACTIVE_JOB

    # --- approvals ----------------------------------------------------------------

    async def approvals(self) -> list[ProviderApproval]:
        """Blocked deployments waiting for approval, in every configured environment."""
        found = await together(*(self._blocked(p) for p in self.config.projects))
        return [a for per_project in found for a in per_project]

    async def _blocked(self, project: str) -> list[ProviderApproval]:
        blocked = await self.client.pages(
            f"{project_path(project)}/deployments", {"status": "blocked", "per_page": 100}
        )
        return [self._approval(project, d) for d in blocked]

    def _approval(self, project: str, d: dict[str, Any]) -> ProviderApproval:
        env = str((d.get("environment") or {}).get("name", ""))
        job = d.get("deployable") or {}
        return ProviderApproval(
            provider=self.name,
            id=f"{self.name}:{d['id']}",
            title=(
                f"deployment {d.get('iid', d['id'])} of {d.get('ref', '?')} "
                f"({str(d.get('sha', ''))[:8]}) to {env}"
                + (f" by job {job['name']}" if job.get("name") else "")
            ),
            environment=self.config.quorum_environment(env),
            url=str((job.get("pipeline") or {}).get("web_url") or job.get("web_url") or ""),
            requested_at=parse_time(d.get("created_at")),
            service=self.config.service_of(project),
            requested_by=str((d.get("user") or {}).get("username", "")),
            detail=pipelines.approval_rules(d),
        )

    async def answer(self, approval: str, approve: bool, comment: str = "") -> str:
        """`POST /projects/:id/deployments/:deployment_id/approval` with status and comment."""
        if not approval.isdigit():
            raise NotFound(f"{approval!r} is not a deployment id (e.g. 57)")
        project = await self._project_of(int(approval))
        status = "approved" if approve else "rejected"
        body: dict[str, Any] = {"status": status}
        if comment:
            body["comment"] = comment
        answer = await self.client.post(
            f"{project_path(project)}/deployments/{approval}/approval", body
        )
        said = answer.data.get("status", status) if isinstance(answer.data, dict) else status
        return f"GitLab {answer.status}: {said} deployment {approval} in {project}"

    async def _project_of(self, deployment_id: int) -> str:
        if len(self.config.projects) == 1:
            return self.config.projects[0]
        for project in self.config.projects:
            try:
                await self.client.get(f"{project_path(project)}/deployments/{deployment_id}")
            except NotFound:
                continue
            return project
        raise NotFound(f"no deployment {deployment_id} in {', '.join(self.config.projects)}")

    async def revisions(self, target: TargetRef) -> list[Revision]:
        """The environment's recent successful deployments, newest first."""
        project, env = self._split(target)
        if env is None:
            raise Refused("a pipeline has no deployments; ask an environment's target")
        latest = await self._latest_deployment(project, env)
        successes = await self._deployments(project, env, per_page=10, status="success")
        return [
            Revision(
                id=str(d.get("sha", ""))[:8],
                created_at=parse_time(d.get("created_at")),
                description=f"deployment {d.get('iid', d['id'])} of {d.get('ref', '?')} by "
                + str((d.get("user") or {}).get("username", "?")),
                current=latest is not None and d["id"] == latest["id"],
            )
            for d in successes
        ]

    # --- changes ------------------------------------------------------------------

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """Plays the environment's manual deploy job in the pipeline of `revision`
        (a sha prefix, a pipeline id or a ref)."""
        project, env = self._split(target)
        job_name = self.config.deploy_jobs.get(target.environment)
        if env is None or not job_name:
            raise Refused(
                f"no manual job is configured to deploy {target.environment} "
                f'(deploy_jobs = {{ {target.environment} = "JOB" }})'
            )
        pipeline = await self._pipeline_of(project, revision)
        manual = await self.client.pages(
            f"{project_path(project)}/pipelines/{pipeline['id']}/jobs",
            {"scope[]": "manual", "per_page": 100},
        )
        job = next((j for j in manual if j.get("name") == job_name), None)
        if job is None:
            raise Refused(f"pipeline {pipeline['id']} has no manual job {job_name!r} to play")
        answer = await self.client.post(f"{project_path(project)}/jobs/{job['id']}/play")
        return (
            f"played {job_name} (job {job['id']}) of pipeline {pipeline['id']} "
            f"({str(pipeline.get('sha', ''))[:8]}) in {project}: {answer.status}"
        )

    async def _pipeline_of(self, project: str, revision: str) -> dict[str, Any]:
        params: dict[str, Any] = {"per_page": 50}
        if self.config.ref:
            params["ref"] = self.config.ref
        for p in await self._list(f"{project_path(project)}/pipelines", params):
            if revision in (str(p.get("id")), p.get("ref")) or str(p.get("sha", "")).startswith(
                revision
            ):
                return p
        raise Refused(f"no recent pipeline in {project} for revision {revision!r}")

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        """Retries the job of the previous successful deployment (or of `to`: an id or sha)."""
        project, env = self._split(target)
        if env is None:
            raise Refused("a pipeline has nothing to roll back; roll back an environment")
        latest = await self._latest_deployment(project, env)
        successes = await self._deployments(project, env, per_page=20, status="success")
        if to:
            chosen = [d for d in successes if _names(d, to)]
        else:
            chosen = [d for d in successes if latest is None or d["id"] != latest["id"]]
        if not chosen or not (chosen[0].get("deployable") or {}).get("id"):
            raise Refused(f"no earlier successful deployment to {env} in {project} to return to")
        deployment = chosen[0]
        job = deployment["deployable"]
        answer = await self.client.post(f"{project_path(project)}/jobs/{job['id']}/retry")
        new_id = answer.data.get("id") if isinstance(answer.data, dict) else "?"
        return (
            f"retried {job.get('name', 'job')} of deployment {deployment['id']} "
            f"({str(deployment.get('sha', ''))[:8]}) in {project} as job {new_id}: {answer.status}"
        )


def _names(deployment: dict[str, Any], to: str) -> bool:
    """Whether `to` is this deployment's id, iid, or a prefix of its sha."""
    ids = (str(deployment.get("id")), str(deployment.get("iid")))
    return to in ids or str(deployment.get("sha", "")).startswith(to)
