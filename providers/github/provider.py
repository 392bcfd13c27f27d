"""The GitHub Actions provider: workflow runs as targets, environment approvals,
dispatch as deploy, and a dispatch or re-run as rollback.

Every call goes through one `HttpClient`, so a refresh over many repositories runs
in parallel, repeats only conditional GETs (a 304 costs no rate limit), and slows
down before the rate limit runs out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any, ClassVar, NoReturn

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
from providers.ci.settings import fill
from providers.ci.times import parse_time
from providers.github import runs
from providers.github.pending import approval_of
from providers.github.settings import DECLARED, check, parse
from providers.http import HttpClient
from providers.http.follow import FIRST_PAUSE, MAX_PAUSE, follow_text
from providers.http.pacing import Pacer
from providers.reads import SlowestFirst, together

HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubProvider(Provider):
    kind = "github"
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
    # The pauses of a followed log; tests shorten them.
    log_pause: float = FIRST_PAUSE
    log_max_pause: float = MAX_PAUSE

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse(self.settings)
        self.client = HttpClient(self.config.http, headers=HEADERS)
        self.pacer = Pacer(self.client)
        self._order = SlowestFirst()
        self._last: Snapshot | None = None
        self._runs: dict[str, dict[str, Any]] = {}  # target -> its latest run
        self._jobs: dict[tuple[int, int], list[dict[str, Any]]] = {}  # finished runs' jobs

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    async def close(self) -> None:
        await self.client.close()

    # --- targets ------------------------------------------------------------------

    def _refs(self) -> list[tuple[str, str, TargetRef]]:
        return [
            (
                repo,
                workflow,
                TargetRef(self.name, self.config.service_of(repo), env, f"{repo}:{workflow}"),
            )  # fmt: skip
            for repo in self.config.repos
            for workflow, env in self.config.workflows.items()
        ]

    def _split(self, ref: TargetRef) -> tuple[str, str]:
        repo, _, workflow = ref.target.partition(":")
        if repo not in self.config.repos or workflow not in self.config.workflows:
            raise NotFound(f"{ref.target or ref.key} is not a workflow of provider {self.name}")
        return repo, workflow

    async def snapshot(self) -> Snapshot:
        """The latest run of every configured workflow; between paced cycles, the last one."""
        if self._last is not None and not self.pacer.due():
            return self._last
        self.pacer.start()
        refs = self._refs()
        found = await self._order.gather(
            [(ref.target, self._target(repo, wf, ref)) for repo, wf, ref in refs]
        )
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

    def _runs_path(self, repo: str, workflow: str, params: dict[str, Any]) -> str:
        """The runs listing of a workflows key, its branch added to `params`."""
        branch = self.config.branch_of(workflow)
        if branch:
            params["branch"] = branch
        return f"repos/{repo}/actions/workflows/{self.config.workflow_file(workflow)}/runs"

    async def _latest_run(self, repo: str, workflow: str) -> dict[str, Any] | None:
        params: dict[str, Any] = {"per_page": 1}
        data = await self.client.get(self._runs_path(repo, workflow, params), params)
        found = (data or {}).get("workflow_runs") if isinstance(data, dict) else None
        if not isinstance(found, list):
            raise_bad(f"runs of {workflow} in {repo}")
        return found[0] if found else None

    async def _target(self, repo: str, workflow: str, ref: TargetRef) -> Target:
        run = await self._latest_run(repo, workflow)
        if run is None:
            return Target(ref, "", RolloutStatus.UNKNOWN, message=f"no runs of {workflow} yet")
        self._runs[ref.target] = run
        failing = ""
        if runs.status_of(run) is RolloutStatus.FAILED:
            failing = runs.failing_step(await self._jobs_of(repo, run))
        return runs.target_of(ref, run, failing)

    async def _jobs_of(self, repo: str, run: dict[str, Any]) -> list[dict[str, Any]]:
        """A run's jobs; those of a finished run attempt never change, so they are kept."""
        key = (int(run["id"]), int(run.get("run_attempt") or 1))
        if key in self._jobs:
            return self._jobs[key]
        jobs = await self.client.pages(
            f"repos/{repo}/actions/runs/{run['id']}/jobs", {"per_page": 100}, key="jobs"
        )
        if run.get("status") == "completed":
            self._jobs[key] = jobs
        return jobs

    async def details(self, target: TargetRef) -> TargetDetails:
        repo, workflow = self._split(target)
        run = await self._latest_run(repo, workflow)
        if run is None:
            raise NotFound(f"no runs of {workflow} in {repo} yet")
        jobs = await self._jobs_of(repo, run)
        failing = runs.failing_step(jobs) if runs.status_of(run) is RolloutStatus.FAILED else ""
        events = [runs.run_event(run, failing)]
        if line := self.pacer.describe():
            events.append(EventInfo(at=utcnow(), type="Normal", reason="RateLimit", message=line))
        return TargetDetails(
            target=runs.target_of(target, run, failing),
            pods=tuple(runs.job_info(j) for j in jobs),
            events=tuple(events),
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
        """The latest run's job logs, prefixed by job; `container` picks one job by name."""
        return self._logs(target, follow, since, tail, container)

    async def _logs(
        self,
        target: TargetRef,
        follow: bool,
        since: timedelta | None,
        tail: int | None,
        job_name: str | None,
    ) -> AsyncIterator[LogLine]:
        repo, workflow = self._split(target)
        run = await self._latest_run(repo, workflow)
        if run is None:
            raise NotFound(f"no runs of {workflow} in {repo} yet")
        jobs = await self._chosen_jobs(repo, run, job_name)
        past = history(
            [(job["id"], job["name"], await self._job_log(repo, job)) for job in jobs],
            since=since,
            tail=tail,
        )
        for line in past.lines:
            yield line
        if follow:
            async for line in self._follow(repo, run, job_name, past.covered):
                yield line

    async def _chosen_jobs(
        self, repo: str, run: dict[str, Any], job_name: str | None
    ) -> list[dict[str, Any]]:
        jobs = await self._jobs_of(repo, run)
        if job_name is None:
            return jobs
        chosen = [j for j in jobs if j.get("name") == job_name]
        if not chosen:
            names = ", ".join(str(j.get("name")) for j in jobs) or "none"
            raise NotFound(f"run {run['id']} has no job {job_name!r} (jobs: {names})")
        return chosen

    async def _job_log(self, repo: str, job: dict[str, Any]) -> str:
        """The log endpoint answers with a redirect to the log text, followed without the token."""
        try:
            return await self.client.text(f"repos/{repo}/actions/jobs/{job['id']}/logs")
        except NotFound:  # not written yet (a queued job)
            return ""

    async def _follow(
        self, repo: str, run: dict[str, Any], job_name: str | None, covered: dict[Any, int]
    ) -> AsyncIterator[LogLine]:
        """Each job's log in turn after the `covered` lines already shown, a running one
        polled until it completes, until the run ends."""
        shown: set[int] = set()
        while True:
            run = await self.client.get(f"repos/{repo}/actions/runs/{run['id']}")
            jobs = await self._chosen_jobs(repo, run, job_name)
            for job in (j for j in jobs if j["id"] not in shown):
                async for text in follow_text(
                    lambda job=job: self._job_log(repo, job),
                    lambda job=job: self._job_done(repo, job),
                    first_pause=self.log_pause,
                    max_pause=self.log_max_pause,
                    seen=covered.get(job["id"], 0),
                ):
                    yield lines_of([text], job["name"])[0]
                shown.add(job["id"])
            if run.get("status") == "completed":
                return
            await asyncio.sleep(self.log_pause)

    async def _job_done(self, repo: str, job: dict[str, Any]) -> bool:
        fresh = await self.client.get(f"repos/{repo}/actions/jobs/{job['id']}")
        return isinstance(fresh, dict) and fresh.get("status") == "completed"

    # --- approvals ----------------------------------------------------------------

    async def approvals(self) -> list[ProviderApproval]:
        """Every waiting run's pending deployments, one approval per run and environment."""
        found = await together(*(self._waiting(repo) for repo in self.config.repos))
        return [a for per_repo in found for a in per_repo]

    async def _waiting(self, repo: str) -> list[ProviderApproval]:
        waiting = await self.client.pages(
            f"repos/{repo}/actions/runs",
            {"status": "waiting", "per_page": 100},
            key="workflow_runs",
        )
        pending = await together(*(self._pending(repo, run["id"]) for run in waiting))
        return [
            approval_of(self.name, self.config, repo, run, item)
            for run, items in zip(waiting, pending, strict=True)
            for item in items
        ]

    async def _pending(self, repo: str, run_id: int, *, fresh: bool = False) -> list[dict]:
        path = f"repos/{repo}/actions/runs/{run_id}/pending_deployments"
        data = (
            (await self.client.request("GET", path, conditional=False)).data
            if fresh
            else (await self.client.get(path))
        )
        if not isinstance(data, list):
            raise_bad(f"pending deployments of run {run_id}")
        return data

    async def answer(self, approval: str, approve: bool, comment: str = "") -> str:
        """`POST .../runs/{run}/pending_deployments` for `RUN/ENVIRONMENT` (or every
        environment the run waits for, given `RUN` alone)."""
        run_part, _, env_name = approval.partition("/")
        if not run_part.isdigit():
            raise NotFound(f"{approval!r} is not RUN/ENVIRONMENT (e.g. 4242/production)")
        run_id = int(run_part)
        repo = await self._repo_of(run_id)
        pending = await self._pending(repo, run_id, fresh=True)
        chosen = [
            p
            for p in pending
            if not env_name or (p.get("environment") or {}).get("name") == env_name
        ]
        if not chosen:
            what = f"environment {env_name}" if env_name else "any environment"
            raise Refused(f"run {run_id} in {repo} no longer waits for {what}")
        state = "approved" if approve else "rejected"
        body = {
            "environment_ids": [p["environment"]["id"] for p in chosen],
            "state": state,
            "comment": comment,
        }
        answer = await self.client.post(
            f"repos/{repo}/actions/runs/{run_id}/pending_deployments", body
        )
        names = ", ".join(str(p["environment"].get("name")) for p in chosen)
        count = len(answer.data) if isinstance(answer.data, list) else 0
        return (
            f"GitHub {answer.status}: {state} {names} for run {run_id} in {repo} "
            f"({count} deployment(s))"
        )

    async def _repo_of(self, run_id: int) -> str:
        if len(self.config.repos) == 1:
            return self.config.repos[0]
        for repo in self.config.repos:
            try:
                await self.client.get(f"repos/{repo}/actions/runs/{run_id}")
            except NotFound:
                continue
            return repo
        raise NotFound(f"no run {run_id} in {', '.join(self.config.repos)}")

    async def revisions(self, target: TargetRef) -> list[Revision]:
        """The workflow's recent successful runs, newest first: what a rollback returns to."""
        repo, workflow = self._split(target)
        successes = await self._successes(repo, workflow)
        latest = self._runs.get(target.target) or await self._latest_run(repo, workflow)
        return [
            Revision(
                id=str(run.get("head_sha", ""))[:7],
                created_at=parse_time(run.get("created_at")),
                description=runs.describe(run),
                current=latest is not None and run["id"] == latest["id"],
            )
            for run in successes
        ]

    async def _successes(self, repo: str, workflow: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"status": "success", "per_page": 10}
        data = await self.client.get(self._runs_path(repo, workflow, params), params)
        found = (data or {}).get("workflow_runs") if isinstance(data, dict) else None
        if not isinstance(found, list):
            raise_bad(f"runs of {workflow} in {repo}")
        return found

    # --- changes ------------------------------------------------------------------

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """`workflow_dispatch` of the target's workflow with the configured inputs."""
        repo, workflow = self._split(target)
        ref = self.config.dispatch_ref_of(workflow)
        return await self._dispatch(repo, workflow, target, revision, ref)

    async def _dispatch(
        self, repo: str, workflow: str, target: TargetRef, revision: str, ref: str
    ) -> str:
        fields = {"revision": revision, "environment": target.environment,
                  "service": target.service, "ref": ref}  # fmt: skip
        ref = fill(ref, **fields)
        inputs = {k: fill(v, **fields) for k, v in self.config.dispatch_inputs.items()}
        file = self.config.workflow_file(workflow)
        answer = await self.client.post(
            f"repos/{repo}/actions/workflows/{file}/dispatches", {"ref": ref, "inputs": inputs}
        )
        shown = ", ".join(f"{k}={v}" for k, v in inputs.items())
        return f"dispatched {workflow} on {ref} in {repo} ({shown or 'no inputs'}): {answer.status}"

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        """Back to the previous successful deployment: a dispatch with its ref and sha, or a
        re-run of the workflow's previous successful run (`rollback = "rerun"`)."""
        repo, workflow = self._split(target)
        if self.config.rollback == "rerun":
            return await self._rerun(repo, workflow, to)
        deployment = await self._previous_deployment(repo, target.environment, to)
        sha = str(deployment.get("sha") or "")
        ref = str(deployment.get("ref") or self.config.dispatch_ref_of(workflow))
        done = await self._dispatch(repo, workflow, target, sha, ref)
        return f"{done}; back to deployment {deployment.get('id')} ({sha[:7]})"

    async def _previous_deployment(
        self, repo: str, environment: str, to: str | None
    ) -> dict[str, Any]:
        gh_env = self.config.github_environment(environment)
        deployments = await self.client.get(
            f"repos/{repo}/deployments", {"environment": gh_env, "per_page": 30}
        )
        if not isinstance(deployments, list):
            raise_bad(f"deployments of {gh_env}")
        if to:
            for d in deployments:
                if str(d.get("id")) == to or str(d.get("sha", "")).startswith(to):
                    return d
            raise Refused(f"no deployment {to!r} to {gh_env} in {repo}")
        for d in deployments[1:]:  # the newest is what runs now
            statuses = await self.client.get(
                f"repos/{repo}/deployments/{d['id']}/statuses", {"per_page": 1}
            )
            if isinstance(statuses, list) and statuses and statuses[0].get("state") == "success":
                return d
        raise Refused(f"no earlier successful deployment to {gh_env} in {repo} to roll back to")

    async def _rerun(self, repo: str, workflow: str, to: str | None) -> str:
        successes = await self._successes(repo, workflow)
        latest = await self._latest_run(repo, workflow)
        if to:
            chosen = [
                r
                for r in successes
                if str(r["id"]) == to or str(r.get("head_sha", "")).startswith(to)
            ]
        else:
            chosen = [r for r in successes if latest is None or r["id"] != latest["id"]]
        if not chosen:
            raise Refused(f"no earlier successful run of {workflow} in {repo} to re-run")
        run = chosen[0]
        answer = await self.client.post(f"repos/{repo}/actions/runs/{run['id']}/rerun")
        sha = str(run.get("head_sha", ""))[:7]
        return f"re-ran run {run['id']} of {workflow} ({sha}) in {repo}: {answer.status}"


def raise_bad(what: str) -> NoReturn:
    raise BadResponse(f"{what}: unexpected answer shape")
