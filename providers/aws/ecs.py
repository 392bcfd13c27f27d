"""The ECS provider: the services of one account and region's clusters.

Polled, not watched (ECS has no watch): a snapshot lists and describes every
service of the configured clusters at the API's limits, at most every
`poll_interval` (faster while a deployment rolls out), and CloudWatch metrics and
alarms for all of them every `metrics_interval` in batched calls. Actions follow
the deployment they start until ECS says COMPLETED or FAILED, reporting each step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any, ClassVar

from console.domain.model import (
    Alarm,
    EventInfo,
    LogLine,
    PodInfo,
    Revision,
    RolloutStatus,
    Series,
    Snapshot,
    Target,
    TargetDetails,
    TargetRef,
    utcnow,
)
from providers.aws import cloudwatch, ecs_api, ecs_revisions
from providers.aws.cloudwatch import ServiceKey
from providers.aws.connection import Aws
from providers.aws.ecs_access import PASS_ROLE, REGISTER, UPDATE, AccessCheck
from providers.aws.ecs_logs import LogReader, sources
from providers.aws.ecs_status import (
    as_time,
    breaker,
    breaker_fired,
    name_of,
    short_task_definition,
    status_of,
    target_groups,
    updated_at,
)
from providers.aws.settings import ECS_DECLARED, check_ecs, parse_ecs
from providers.base import (
    Capability,
    NotFound,
    Provider,
    ProviderContext,
    ProviderError,
    Refused,
    report_progress,
)
from providers.reads import together

TERMINAL = ("COMPLETED", "FAILED")
CLOUDWATCH_WAIT = 5.0  # seconds a listing waits for its metrics and alarms


class RolloutFailed(ProviderError):
    kind = "rollout failed"


class EcsProvider(Provider):
    kind = "ecs"
    capabilities = (
        Capability.SNAPSHOT
        | Capability.LOGS
        | Capability.METRICS
        | Capability.REVISIONS
        | Capability.DEPLOY
        | Capability.ROLLBACK
        | Capability.RESTART
        | Capability.SCALE
    )
    declared_settings = ECS_DECLARED
    log_filter: ClassVar[bool] = True

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse_ecs(self.settings)
        self.aws = Aws(name, self.config.connection)
        self.task_definitions = ecs_api.TaskDefinitions(self.aws)
        self.log_reader = LogReader(self.aws, self.config.log_poll_interval)
        self.access = AccessCheck(self.aws)
        self._snapshot: Snapshot | None = None
        self._taken = 0.0  # monotonic time of the last listing
        self._services: dict[tuple[str, str], dict[str, Any]] = {}
        self._metrics: dict[tuple[str, str], dict[str, float]] = {}
        self._alarms: dict[tuple[str, str], tuple[Alarm, ...]] = {}
        self._balancers: dict[str, str] = {}
        self._metrics_at = float("-inf")
        self._cloudwatch: asyncio.Future[None] | None = None
        self.metrics_note = ""  # why the last metrics read failed, if it did
        self._lock = asyncio.Lock()

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check_ecs(settings)

    async def close(self) -> None:
        if self._cloudwatch is not None:
            self._cloudwatch.cancel()
        self.aws.close()

    # --- snapshot -------------------------------------------------------------------

    def _interval(self) -> float:
        rolling = self._snapshot is not None and any(
            t.status is RolloutStatus.PROGRESSING for t in self._snapshot.targets
        )
        return self.config.rollout_interval if rolling else self.config.poll_interval

    async def snapshot(self) -> Snapshot:
        """The last listing while it is younger than the poll interval, else a new one."""
        async with self._lock:
            if self._snapshot is not None and time.monotonic() - self._taken < self._interval():
                return self._snapshot
            clusters = list(dict.fromkeys(self.config.environments.values()))
            if not clusters:
                clusters = await ecs_api.clusters(self.aws)
            found = await together(*(self._list(c) for c in clusters))
            services = {
                (cluster, str(s.get("serviceName"))): s
                for cluster, listed in zip(clusters, found, strict=True)
                for s in listed
                if s.get("status") != "INACTIVE"
            }
            self._services = services
            await self._cloudwatch_due()
            now = utcnow()
            targets = tuple(self._target(key, s, now) for key, s in services.items())
            self._snapshot = Snapshot(self.name, targets, now)
            self._taken = time.monotonic()
            return self._snapshot

    async def _list(self, cluster: str) -> list[dict[str, Any]]:
        try:
            return await ecs_api.services(self.aws, cluster)
        except NotFound:
            env = self.config.environment_of(cluster)
            where = self.config.connection.region or "the default region"
            raise NotFound(
                f"cluster {cluster} (environment {env}) does not exist in {where}"
            ) from None

    def _target(self, key: tuple[str, str], service: Mapping[str, Any], now: Any) -> Target:
        cluster, name = key
        status, message = status_of(service, now, self.config.stuck_after)
        alarms = self._alarms.get(key, ())
        firing = [a for a in alarms if a.firing]
        if firing and not message:
            message = f"alarm {firing[0].name}: {firing[0].reason}"
        if self.metrics_note and not message:
            message = f"no metrics: {self.metrics_note}"
        return Target(
            ref=self._ref(cluster, name),
            revision=short_task_definition(str(service.get("taskDefinition") or "")),
            status=status,
            ready=int(service.get("runningCount") or 0),
            desired=int(service.get("desiredCount") or 0),
            updated_at=updated_at(service),
            message=message,
            metrics=dict(self._metrics.get(key, {})),
            alarms=alarms,
        )

    def _ref(self, cluster: str, name: str) -> TargetRef:
        return TargetRef(
            self.name,
            self.config.service_of(name),
            self.config.environment_of(cluster),
            f"{cluster}/{name}",
        )

    def _keys(self) -> list[ServiceKey]:
        keys = []
        for (cluster, name), service in self._services.items():
            groups = target_groups(service)
            balancers = tuple(self._balancers[g] for g in groups if g in self._balancers)
            dims = tuple(cloudwatch.dimension_of(g, "targetgroup") for g in groups)
            keys.append(ServiceKey(cluster, name, dims if balancers else (), balancers))
        return keys

    async def _cloudwatch_due(self) -> None:
        """Start a CloudWatch read when one is due, and wait for it a bounded time.

        A slow CloudWatch must not cost the listing its place on screen: after
        `CLOUDWATCH_WAIT` the rows go out with the metrics they had, and the read
        carries on for the next snapshot.
        """
        running = self._cloudwatch is not None and not self._cloudwatch.done()
        if not running and time.monotonic() - self._metrics_at >= self.config.metrics_interval:
            self._metrics_at = time.monotonic()
            self._cloudwatch = asyncio.ensure_future(self._read_cloudwatch(self._keys()))
        if self._cloudwatch is not None and not self._cloudwatch.done():
            await asyncio.wait({self._cloudwatch}, timeout=CLOUDWATCH_WAIT)

    async def _read_cloudwatch(self, keys: list[ServiceKey]) -> None:
        """Every visible service's latest metrics and its alarms, in batched calls.

        Metrics and alarms are read apart, so one failing never hides the other; a
        failure leaves those rows without fresh values (said in `metrics_note`) and
        never fails the listing.
        """
        notes = []
        try:
            groups = {g for s in self._services.values() for g in target_groups(s)}
            unknown = groups - set(self._balancers)
            if unknown:
                self._balancers.update(await cloudwatch.load_balancers(self.aws, unknown))
                keys = self._keys()
        except ProviderError as exc:
            notes.append(str(exc))
        values, found = await asyncio.gather(
            cloudwatch.latest(self.aws, keys), cloudwatch.alarms(self.aws), return_exceptions=True
        )
        if isinstance(values, ProviderError):
            notes.append(str(values))
        elif isinstance(values, BaseException):
            raise values
        else:
            self._metrics = {(k.cluster, k.service): v for k, v in zip(keys, values, strict=True)}
        if isinstance(found, ProviderError):
            notes.append(str(found))
        elif isinstance(found, BaseException):
            raise found
        else:
            tied = cloudwatch.alarms_by_service(found, keys)
            self._alarms = {(k.cluster, k.service): a for k, a in tied.items()}
        self.metrics_note = "; ".join(notes)

    # --- one service ----------------------------------------------------------------

    def _key(self, target: TargetRef) -> tuple[str, str]:
        cluster, _, name = target.target.partition("/")
        if not cluster or not name:
            raise NotFound(f"{target}: not an ECS service ({target.target!r})")
        return cluster, name

    async def _describe(self, target: TargetRef) -> tuple[str, str, dict[str, Any]]:
        cluster, name = self._key(target)
        found = await ecs_api.describe(self.aws, cluster, [name])
        if not found or found[0].get("status") == "INACTIVE":
            raise NotFound(f"{target}: no service {name} in cluster {cluster}")
        return cluster, name, found[0]

    async def details(self, target: TargetRef) -> TargetDetails:
        """Deployments, the circuit breaker, recent service events and tasks with their
        last status and stopped reason."""
        cluster, name, service = await self._describe(target)
        tasks, td = await together(
            ecs_api.tasks(self.aws, cluster, name),
            self.task_definitions.get(str(service.get("taskDefinition"))),
        )
        events = [
            EventInfo(
                at=as_time(td.get("registeredAt")),
                type="Normal",
                reason="TaskDefinition",
                message=f"{short_task_definition(str(service.get('taskDefinition')))}: "
                f"{ecs_revisions.images(td)}",
                source=f"task-definition/{td.get('family')}",
            ),
            *_deployment_events(service),
            *(
                EventInfo(
                    at=as_time(e.get("createdAt")),
                    type="Warning" if _warning(str(e.get("message"))) else "Normal",
                    reason="ServiceEvent",
                    message=str(e.get("message") or ""),
                    source=f"service/{name}",
                )
                for e in (service.get("events") or ())[:20]
            ),
        ]
        pods = sorted((_task_info(t) for t in tasks), key=lambda p: (p.phase != "RUNNING", p.name))
        key = (cluster, name)
        self._services[key] = service
        return TargetDetails(self._target(key, service, utcnow()), tuple(pods), tuple(events))

    async def revisions(self, target: TargetRef) -> list[Revision]:
        """The family's task definitions with their images, newest first."""
        _, _, service = await self._describe(target)
        current = str(service.get("taskDefinition") or "")
        arns = await self.task_definitions.family(ecs_revisions.family_of(current))
        found = await together(*(self.task_definitions.get(a) for a in arns))
        return [
            Revision(
                id=short_task_definition(arn),
                created_at=as_time(td.get("registeredAt")),
                description=ecs_revisions.images(td),
                current=arn == current,
            )
            for arn, td in zip(arns, found, strict=True)
        ]

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        cluster, name, service = await self._describe(target)
        groups = target_groups(service)
        if groups and groups[0] not in self._balancers:
            self._balancers.update(await cloudwatch.load_balancers(self.aws, groups))
        balancers = tuple(self._balancers[g] for g in groups if g in self._balancers)
        dims = tuple(cloudwatch.dimension_of(g, "targetgroup") for g in groups)
        key = ServiceKey(cluster, name, dims if balancers else (), balancers)
        period = max(60, int(window.total_seconds() / 120) // 60 * 60)
        [found] = await cloudwatch.series(self.aws, [key], window, period)
        return [Series(metric, tuple(points)) for metric, points in sorted(found.items())]

    def logs(
        self,
        target: TargetRef,
        *,
        follow: bool = False,
        since: timedelta | None = None,
        tail: int | None = None,
        container: str | None = None,
        previous: bool = False,
        pattern: str | None = None,
    ) -> AsyncIterator[LogLine]:
        """Every container's awslogs streams of the service's current task definition,
        merged by time, prefixed `container/task-id`; `pattern` is CloudWatch's filter
        syntax. ECS keeps no previous-instance logs apart, so `previous` changes nothing."""
        return self._logs(target, follow, since, tail, container, pattern)

    async def _logs(
        self,
        target: TargetRef,
        follow: bool,
        since: timedelta | None,
        tail: int | None,
        container: str | None,
        pattern: str | None,
    ) -> AsyncIterator[LogLine]:
        _, _, service = await self._describe(target)
        td = await self.task_definitions.get(str(service.get("taskDefinition")))
        found = sources(td, container)
        if container and not found:
            raise NotFound(f"{target}: no container {container!r} logging to CloudWatch")
        stream = self.log_reader.read(found, follow=follow, since=since, tail=tail, pattern=pattern)
        try:
            async for line in stream:
                yield line
        finally:
            await stream.aclose()

    # --- permissions ----------------------------------------------------------------

    async def denied(self, target: TargetRef, capability: Capability) -> str | None:
        """Why this change may not be offered, from IAM's policy simulator for the
        caller (see providers.aws.ecs_access); `access_check = false` skips it."""
        if not self.can(capability):
            return "read-only" if self.readonly else f"{self.kind} cannot do that"
        if not self.config.access_check:
            return None
        service = self._services.get(self._key(target))
        if service is None:
            _, _, service = await self._describe(target)
        arn = str(service.get("serviceArn") or "")
        return await self.access.denied(UPDATE, arn) if arn else None

    async def _may_register(self, task_definition: Mapping[str, Any]) -> str | None:
        """Why a new revision of `task_definition` may not be registered by the caller:
        `ecs:RegisterTaskDefinition`, and `iam:PassRole` on each role it names."""
        if not self.config.access_check:
            return None
        checks = [(REGISTER, "*")] + [
            (PASS_ROLE, str(task_definition[key]))
            for key in ("taskRoleArn", "executionRoleArn")
            if task_definition.get(key)
        ]
        for action, resource in checks:
            reason = await self.access.denied(action, resource)
            if reason:
                return reason
        return None

    # --- actions --------------------------------------------------------------------

    def _writable(self, capability: Capability) -> None:
        if not self.can(capability):
            raise Refused(f"provider {self.name} is read-only")

    async def _update(self, cluster: str, name: str, what: str, **change: Any) -> dict:
        ecs = self.aws.client("ecs")
        answer = await self.aws.call(
            f"{what} {name}", ecs.update_service, cluster=cluster, service=name, **change
        )
        self._taken = 0.0  # the next snapshot reads the change
        return answer.get("service") or {}

    async def check_revision(self, target: TargetRef, revision: str) -> str | None:
        """A task definition revision must be registered; an image must name a container
        the current revision has (and be a valid image), and the caller must be allowed
        to register the new revision: asked before anyone votes."""
        _, name, service = await self._describe(target)
        current = str(service.get("taskDefinition") or "")
        chosen = ecs_revisions.chosen_revision(revision, current)
        try:
            if chosen is not None:
                await self._arn(chosen)
                return None
            td = await self.task_definitions.get(current)
            ecs_revisions.with_image(td, name, revision)
        except Refused as exc:
            return str(exc.args[0]) if exc.args else str(exc)  # the reason, without "refused:"
        except ValueError as exc:
            return f"{target.target}: {exc}"
        return await self._may_register(td)

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """A chosen revision, or a new one registered from the current with a new image."""
        self._writable(Capability.DEPLOY)
        cluster, name, service = await self._describe(target)
        current = str(service.get("taskDefinition") or "")
        chosen = ecs_revisions.chosen_revision(revision, current)
        note = ""
        if chosen is None:
            td = await self.task_definitions.get(current)
            try:
                body, container, image = ecs_revisions.with_image(td, name, revision)
            except ValueError as exc:
                raise Refused(f"{target.target}: {exc}") from None
            ecs = self.aws.client("ecs")
            answer = await self.aws.call(
                f"register a revision of {td.get('family')}", ecs.register_task_definition, **body
            )
            chosen = str(answer["taskDefinition"]["taskDefinitionArn"])
            note = f" ({container}={image}, registered from {short_task_definition(current)})"
        else:
            chosen = await self._arn(chosen)
        updated = await self._update(cluster, name, "deploy", taskDefinition=chosen)
        head = f"service {name} deploying {short_task_definition(chosen)}{note}"
        return await self._follow(cluster, name, updated, head)

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        """To `to`, or to the revision being replaced: the task definition of an older
        deployment still listed, else the family's newest revision below the current."""
        self._writable(Capability.ROLLBACK)
        cluster, name, service = await self._describe(target)
        current = str(service.get("taskDefinition") or "")
        if to:
            chosen = ecs_revisions.chosen_revision(to, current)
            if chosen is None:
                raise Refused(f"{to!r} is not a revision of {ecs_revisions.family_of(current)}")
            chosen = await self._arn(chosen)
        else:
            chosen = await self._previous(service, current)
        if short_task_definition(chosen) == short_task_definition(current):
            return f"service {name} already runs {short_task_definition(current)}: skipped"
        updated = await self._update(cluster, name, "rollback", taskDefinition=chosen)
        head = f"service {name} rolling back to {short_task_definition(chosen)}"
        return await self._follow(cluster, name, updated, head)

    async def _arn(self, revision: str) -> str:
        """The full ARN of a registered revision; an unknown one is refused by name."""
        try:
            td = await self.task_definitions.get(revision)
        except (NotFound, Refused):
            raise Refused(f"unable to find task definition {revision}") from None
        return str(td.get("taskDefinitionArn") or revision)

    async def _previous(self, service: Mapping[str, Any], current: str) -> str:
        for deployment in service.get("deployments") or ():
            older = str(deployment.get("taskDefinition") or "")
            if deployment.get("status") == "ACTIVE" and older and older != current:
                return older
        number = ecs_api.revision_number(current)
        family = ecs_revisions.family_of(current)
        for arn in await self.task_definitions.family(family):
            if ecs_api.revision_number(arn) < number:
                return arn
        raise Refused(f"no earlier ACTIVE revision of {family} to roll back to")

    async def restart(self, target: TargetRef) -> str:
        """A new deployment of the same task definition: every task replaced."""
        self._writable(Capability.RESTART)
        cluster, name = self._key(target)
        updated = await self._update(cluster, name, "restart", forceNewDeployment=True)
        return await self._follow(cluster, name, updated, f"service {name} restarting")

    async def scale(self, target: TargetRef, replicas: int) -> str:
        self._writable(Capability.SCALE)
        if replicas < 0:
            raise Refused("the desired count must be zero or more")
        cluster, name = self._key(target)
        await self._update(cluster, name, "scale", desiredCount=replicas)
        return f"service {name} scaled to {replicas} tasks"

    async def _follow(self, cluster: str, name: str, service: Mapping[str, Any], head: str) -> str:
        """Follows the PRIMARY deployment `update_service` returned until ECS settles it.

        Each change of its state is reported as progress; FAILED raises with ECS's
        reason; after `rollout_timeout` the action ends saying it is still rolling out
        (the console keeps following it on its row).
        """
        deployment = next(
            (d for d in service.get("deployments") or () if d.get("status") == "PRIMARY"), {}
        )
        ident = str(deployment.get("id") or "")
        if not ident or self.config.rollout_timeout <= 0:
            return head
        deadline = time.monotonic() + self.config.rollout_timeout
        last = None
        while True:
            state = str(deployment.get("rolloutState") or "")
            running, desired = (
                int(deployment.get(k) or 0) for k in ("runningCount", "desiredCount")
            )
            reason = str(deployment.get("rolloutStateReason") or "")
            seen = (state, running, desired)
            if seen != last:
                report_progress(
                    f"{ident} {state or 'no rollout state'}: {reason}", running, desired
                )
                last = seen
            if state == "FAILED":
                raise RolloutFailed(f"{head}: deployment {ident} FAILED: {reason}")
            if state in TERMINAL or not state:
                return f"{head}; deployment {ident} {state or 'settled'}"
            if time.monotonic() >= deadline:
                return f"{head}; deployment {ident} still IN_PROGRESS (followed on its row)"
            await asyncio.sleep(self.config.rollout_interval)
            [fresh] = await ecs_api.describe(self.aws, cluster, [name]) or [{}]
            listed = {str(d.get("id")): d for d in fresh.get("deployments") or ()}
            if ident not in listed:
                return f"{head}; deployment {ident} replaced by a newer one"
            deployment = listed[ident]


def _deployment_events(service: Mapping[str, Any]) -> list[EventInfo]:
    """Each deployment with its rollout state, and the circuit breaker's settings."""
    events = []
    settings = breaker(service)
    if settings:
        fired = breaker_fired(service)
        events.append(
            EventInfo(
                at=as_time((fired or {}).get("updatedAt")),
                type="Warning" if fired else "Normal",
                reason="CircuitBreaker",
                message=f"enable={settings.get('enable', False)} "
                f"rollback={settings.get('rollback', False)}"
                + (f"; fired on {fired.get('id')}" if fired else "; not fired"),
                source="deployment-circuit-breaker",
            )
        )
    for d in service.get("deployments") or ():
        state = str(d.get("rolloutState") or "")
        events.append(
            EventInfo(
                at=as_time(d.get("updatedAt")) or as_time(d.get("createdAt")),
                type="Warning" if state == "FAILED" or d.get("failedTasks") else "Normal",
                reason=f"Deployment {d.get('status', '')} {state}".strip(),
                message=f"{short_task_definition(str(d.get('taskDefinition') or ''))} "
                f"desired {d.get('desiredCount', 0)} running {d.get('runningCount', 0)} "
                f"pending {d.get('pendingCount', 0)} failed {d.get('failedTasks', 0)}"
                + (f": {d.get('rolloutStateReason')}" if d.get("rolloutStateReason") else ""),
                source=f"deployment/{d.get('id', '')}",
            )
        )
    return events


def _warning(message: str) -> bool:
    lowered = message.lower()
    return any(w in lowered for w in ("unable", "failed", "error", "unhealthy", "stopped"))


def _task_info(task: Mapping[str, Any]) -> PodInfo:
    containers = task.get("containers") or ()
    reasons = [str(task.get("stoppedReason") or "")]
    for c in containers:
        if c.get("reason"):
            reasons.append(f"{c.get('name')}: {c.get('reason')}")
        elif c.get("exitCode") not in (None, 0):
            reasons.append(f"{c.get('name')}: exit {c.get('exitCode')}")
    return PodInfo(
        name=name_of(str(task.get("taskArn") or "")),
        phase=str(task.get("lastStatus") or ""),
        ready=task.get("lastStatus") == "RUNNING" and task.get("healthStatus") != "UNHEALTHY",
        reason="; ".join(r for r in reasons if r),
        containers=tuple(str(c.get("name")) for c in containers),
        node=str(task.get("availabilityZone") or task.get("launchType") or ""),
        started_at=as_time(task.get("startedAt")),
    )
