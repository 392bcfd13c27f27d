"""CloudWatch metrics and alarms for many ECS services in few calls.

Metrics: every service's queries go into `get_metric_data` calls of up to 500
queries each (the API's limit), so 500 services with CPU and memory cost two
calls, not a thousand. Alarms: `describe_alarms` for the states that need a
person, tied to services by their dimensions (ClusterName + ServiceName, or the
TargetGroup of the service's load balancer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.domain.model import CPU, ERROR_RATE, MEMORY, P99, Alarm, utcnow
from providers.aws.connection import Aws
from providers.reads import together

MAX_QUERIES = 500
ALARM_STATES = ("ALARM", "INSUFFICIENT_DATA")
REQUESTS, ERRORS_5XX = "requests", "errors_5xx"


@dataclass(frozen=True)
class ServiceKey:
    """What names a service in CloudWatch: its cluster, its name, its target groups."""

    cluster: str
    service: str
    target_groups: tuple[str, ...] = ()  # "targetgroup/name/id" dimension values
    load_balancers: tuple[str, ...] = ()  # "app/name/id", one per target group


def dimension_of(arn: str, marker: str) -> str:
    """The CloudWatch dimension value of an ELB ARN: a target group's keeps its
    `targetgroup/` (`targetgroup/name/id`), a load balancer's drops `loadbalancer/`
    (`app/name/id`), as the AWS/ApplicationELB dimensions name them."""
    if f":{marker}/" not in arn:
        return arn
    resource = f"{marker}/" + arn.partition(f":{marker}/")[2]
    return resource.removeprefix("loadbalancer/")


def queries_for(key: ServiceKey, index: int, stat_period: int) -> list[dict[str, Any]]:
    """The metric queries of one service; ids carry the index and the metric's name."""

    def query(name: str, namespace: str, metric: str, dims: dict[str, str], stat: str) -> dict:
        return {
            "Id": f"s{index}_{name}",
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                },
                "Period": stat_period,
                "Stat": stat,
            },
            "ReturnData": True,
        }

    ecs_dims = {"ClusterName": key.cluster, "ServiceName": key.service}
    result = [
        query(CPU, "AWS/ECS", "CPUUtilization", ecs_dims, "Average"),
        query(MEMORY, "AWS/ECS", "MemoryUtilization", ecs_dims, "Average"),
    ]
    if key.target_groups and key.load_balancers:
        alb = {"TargetGroup": key.target_groups[0], "LoadBalancer": key.load_balancers[0]}
        result += [
            query(REQUESTS, "AWS/ApplicationELB", "RequestCount", alb, "Sum"),
            query(ERRORS_5XX, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, "Sum"),
            query(P99, "AWS/ApplicationELB", "TargetResponseTime", alb, "p99"),
        ]
    return result


def _chunks(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _metric_data(
    aws: Aws, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Every result of the queries, in calls of at most 500, run concurrently."""
    cloudwatch = aws.client("cloudwatch")

    async def one(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": chunk,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampDescending",
            }
            if token:
                kwargs["NextToken"] = token
            page = await aws.call("CloudWatch metrics", cloudwatch.get_metric_data, **kwargs)
            results += page.get("MetricDataResults") or []
            token = page.get("NextToken")
            if not token:
                return results

    pages = await together(*(one(c) for c in _chunks(queries, MAX_QUERIES)))
    return [r for page in pages for r in page]


def _derived(values: dict[str, list[tuple[datetime, float]]]) -> dict[str, list]:
    """Error rate in percent of requests and p99 in milliseconds, from the ALB's numbers."""
    out = {name: points for name, points in values.items() if name in (CPU, MEMORY)}
    if P99 in values:
        out[P99] = [(at, v * 1000.0) for at, v in values[P99]]
    if REQUESTS in values and ERRORS_5XX in values:
        errors = dict(values[ERRORS_5XX])
        out[ERROR_RATE] = [
            (at, 100.0 * errors.get(at, 0.0) / total) for at, total in values[REQUESTS] if total
        ]
    return out


async def series(
    aws: Aws, keys: list[ServiceKey], window: timedelta, period: int = 60
) -> list[dict[str, list[tuple[datetime, float]]]]:
    """Per service (in `keys` order): metric name -> points, oldest first."""
    queries: list[dict[str, Any]] = []
    for index, key in enumerate(keys):
        queries += queries_for(key, index, period)
    if not queries:
        return []
    end = utcnow()
    results = await _metric_data(aws, queries, end - window, end)
    raw: list[dict[str, list[tuple[datetime, float]]]] = [{} for _ in keys]
    for result in results:
        ident = str(result.get("Id") or "")
        head, _, name = ident.partition("_")
        if not head.startswith("s") or not head[1:].isdigit() or int(head[1:]) >= len(keys):
            continue
        points = sorted(
            zip(result.get("Timestamps") or (), result.get("Values") or (), strict=False)
        )
        raw[int(head[1:])].setdefault(name, []).extend(points)
    return [_derived(values) for values in raw]


async def latest(aws: Aws, keys: list[ServiceKey]) -> list[dict[str, float]]:
    """The newest value of each metric per service, over the last ten minutes."""
    found = await series(aws, keys, timedelta(minutes=10))
    return [{name: points[-1][1] for name, points in s.items() if points} for s in found]


async def load_balancers(aws: Aws, target_group_arns: Iterable[str]) -> dict[str, str]:
    """Target group ARN -> its load balancer's dimension value, 20 groups per call."""
    arns = sorted(set(target_group_arns))
    if not arns:
        return {}
    elbv2 = aws.client("elbv2")
    pages = await together(
        *(
            aws.call(
                "target groups", elbv2.describe_target_groups, TargetGroupArns=arns[i : i + 20]
            )
            for i in range(0, len(arns), 20)
        )
    )
    found: dict[str, str] = {}
    for page in pages:
        for group in page.get("TargetGroups") or ():
            balancers = group.get("LoadBalancerArns") or ()
            if balancers:
                found[group["TargetGroupArn"]] = dimension_of(balancers[0], "loadbalancer")
    return found


async def alarms(aws: Aws) -> list[dict[str, Any]]:
    """Metric alarms in ALARM or INSUFFICIENT_DATA, every page."""
    cloudwatch = aws.client("cloudwatch")

    async def state(value: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StateValue": value, "MaxRecords": 100}
            if token:
                kwargs["NextToken"] = token
            page = await aws.call("CloudWatch alarms", cloudwatch.describe_alarms, **kwargs)
            found += page.get("MetricAlarms") or []
            token = page.get("NextToken")
            if not token:
                return found

    pages = await together(*(state(s) for s in ALARM_STATES))
    return [a for page in pages for a in page]


def _dimensions(alarm: Mapping[str, Any]) -> list[dict[str, str]]:
    """The dimension sets an alarm watches: its own, or those of its metric math's inputs."""
    sets = []
    if alarm.get("Dimensions"):
        sets.append({d["Name"]: d["Value"] for d in alarm["Dimensions"]})
    for metric in alarm.get("Metrics") or ():
        dims = ((metric.get("MetricStat") or {}).get("Metric") or {}).get("Dimensions")
        if dims:
            sets.append({d["Name"]: d["Value"] for d in dims})
    return sets


def alarms_by_service(
    found: list[dict[str, Any]], keys: list[ServiceKey]
) -> dict[ServiceKey, tuple[Alarm, ...]]:
    """Each alarm on the services it watches, by ClusterName + ServiceName or TargetGroup."""
    by_name = {(k.cluster, k.service): k for k in keys}
    by_group: dict[str, list[ServiceKey]] = {}
    for key in keys:
        for group in key.target_groups:
            by_group.setdefault(group, []).append(key)
    tied: dict[ServiceKey, list[Alarm]] = {}
    for alarm in found:
        hits: set[ServiceKey] = set()
        for dims in _dimensions(alarm):
            pair = (dims.get("ClusterName"), dims.get("ServiceName"))
            if pair in by_name:
                hits.add(by_name[pair])
            hits.update(by_group.get(dims.get("TargetGroup", ""), ()))
        entry = Alarm(
            name=str(alarm.get("AlarmName") or ""),
            state=str(alarm.get("StateValue") or ""),
            reason=str(alarm.get("StateReason") or ""),
        )
        for key in hits:
            tied.setdefault(key, []).append(entry)
    return {key: tuple(sorted(found, key=lambda a: (a.state != "ALARM", a.name)))
            for key, found in tied.items()}  # fmt: skip
