"""ECS reads at the API's own limits: 100 ARNs per `list_services` page, 10 services
per `describe_services`, 100 tasks per `describe_tasks`.

Pages are read one after another (each needs the previous token), and every page's
describe batches are started as soon as the page arrives, so describing overlaps
listing; the provider's thread pool bounds how many calls are in flight.
"""

from __future__ import annotations

import asyncio
from typing import Any

from providers.aws.connection import Aws
from providers.base import BadResponse

LIST_PAGE = 100
DESCRIBE_BATCH = 10
TASK_BATCH = 100


def _batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def clusters(aws: Aws) -> list[str]:
    """Every cluster's name in the account and region (when no environments are set)."""
    ecs = aws.client("ecs")
    names: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"maxResults": 100}
        if token:
            kwargs["nextToken"] = token
        page = await aws.call("list clusters", ecs.list_clusters, **kwargs)
        names += [arn.rpartition("/")[2] for arn in page.get("clusterArns") or ()]
        token = page.get("nextToken")
        if not token:
            return names


async def services(aws: Aws, cluster: str) -> list[dict[str, Any]]:
    """Every service of `cluster`, described, in listing order."""
    ecs = aws.client("ecs")
    describing: list[asyncio.Task[list[dict[str, Any]]]] = []
    token: str | None = None
    try:
        while True:
            kwargs: dict[str, Any] = {"cluster": cluster, "maxResults": LIST_PAGE}
            if token:
                kwargs["nextToken"] = token
            page = await aws.call(f"list services of {cluster}", ecs.list_services, **kwargs)
            arns = list(page.get("serviceArns") or ())
            for batch in _batches(arns, DESCRIBE_BATCH):
                describing.append(asyncio.ensure_future(describe(aws, cluster, batch)))
            token = page.get("nextToken")
            if not token:
                break
        results = await asyncio.gather(*describing)
    except BaseException:
        for task in describing:
            task.cancel()
        await asyncio.gather(*describing, return_exceptions=True)
        raise
    return [service for batch in results for service in batch]


async def describe(aws: Aws, cluster: str, names: list[str]) -> list[dict[str, Any]]:
    """Up to ten services by name or ARN; a name ECS reports missing is left out."""
    if len(names) > DESCRIBE_BATCH:
        raise ValueError(f"describe_services takes at most {DESCRIBE_BATCH} services")
    ecs = aws.client("ecs")
    answer = await aws.call(
        f"describe services of {cluster}", ecs.describe_services, cluster=cluster, services=names
    )
    found = answer.get("services")
    if not isinstance(found, list):
        raise BadResponse(f"describe services of {cluster}: no services in the answer")
    return found


async def tasks(aws: Aws, cluster: str, service: str) -> list[dict[str, Any]]:
    """The service's running and recently stopped tasks, described."""
    ecs = aws.client("ecs")
    arns: list[str] = []
    for desired in ("RUNNING", "STOPPED"):
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "cluster": cluster,
                "serviceName": service,
                "desiredStatus": desired,
                "maxResults": 100,
            }
            if token:
                kwargs["nextToken"] = token
            page = await aws.call(f"tasks of {service}", ecs.list_tasks, **kwargs)
            arns += page.get("taskArns") or []
            token = page.get("nextToken")
            if not token or len(arns) >= 2 * TASK_BATCH:
                break
    found = await asyncio.gather(
        *(
            aws.call(f"tasks of {service}", ecs.describe_tasks, cluster=cluster, tasks=batch)
            for batch in _batches(arns, TASK_BATCH)
        )
    )
    return [task for answer in found for task in answer.get("tasks") or ()]


class TaskDefinitions:
    """Task definitions by ARN. A registered revision never changes, so each is read once."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self._known: dict[str, dict[str, Any]] = {}

    async def get(self, arn: str) -> dict[str, Any]:
        if arn not in self._known:
            ecs = self.aws.client("ecs")
            answer = await self.aws.call(
                f"task definition {arn.rpartition('/')[2]}",
                ecs.describe_task_definition,
                taskDefinition=arn,
            )
            td = answer.get("taskDefinition")
            if not isinstance(td, dict):
                raise BadResponse("describe task definition: no taskDefinition in the answer")
            self._known[td.get("taskDefinitionArn", arn)] = td
            self._known[arn] = td
        return self._known[arn]

    async def family(self, family: str, limit: int = 25) -> list[str]:
        """The family's ACTIVE revisions' ARNs, newest first."""
        ecs = self.aws.client("ecs")
        answer = await self.aws.call(
            f"revisions of {family}",
            ecs.list_task_definitions,
            familyPrefix=family,
            status="ACTIVE",
            sort="DESC",
            maxResults=limit,
        )
        arns = [
            arn
            for arn in answer.get("taskDefinitionArns") or ()
            if arn.rpartition("/")[2].rpartition(":")[0] == family
        ]
        return sorted(arns, key=revision_number, reverse=True)


def revision_number(arn: str) -> int:
    tail = arn.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0
