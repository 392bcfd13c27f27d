"""ECS logs read from the CloudWatch group the task definition names.

moto implements `start_live_tail`, but a session there replays the events already
in the group and ends at once, where CloudWatch streams new events for up to three
hours. Following therefore goes through both paths here: the live session (what
it replays from before the read is dropped; a line written just before the session
opened comes through it), then polling `filter_log_events` once the session ended,
which is what sees the line written after. A session as CloudWatch holds it (open,
new events as they come) is answered by the test proxy itself, in the documented
event-stream framing (`test_follow_through_a_live_tail_session`). moto's `filter_log_events`
also ignores `logStreamNamePrefix` and does not interleave streams by time (the
service does both); the provider holds any endpoint to the prefix it asked for and
orders what it gets, so the sidecar's stream below stays out either way.
"""

from __future__ import annotations

import asyncio
import queue
import time
from datetime import timedelta
from pathlib import Path

from console.cli.main import main
from console.domain.model import TargetRef
from providers.aws.ecs import EcsProvider
from providers.base import ProviderContext
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    REGION,
    Proxy,
    client,
    cluster,
    ecs_config,
    ecs_service,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
    register,
)

GROUP = "/teams/payments/web-frontend"  # nothing like the service's name
WEB = TargetRef("aws", "web", "production", "prod/web")


def put(url: str, stream: str, *messages: str, at: int | None = None) -> None:
    logs = client(url, "logs")
    now = at or int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": now + 10 * i, "message": m} for i, m in enumerate(messages)],
    )


def seeded(url: str) -> None:
    cluster(url, "prod")
    cluster(url, "stage")
    ecs_service(url, "prod", "web", register(url, "web", "registry.example/web:1.0", GROUP))
    logs = client(url, "logs")
    logs.create_log_group(logGroupName=GROUP)
    for task in ("task-a", "task-b"):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=f"ecs/web/{task}")
    # Another container's streams in the same group are not this service's.
    logs.create_log_stream(logGroupName=GROUP, logStreamName="ecs/sidecar/task-a")
    start = int(time.time() * 1000) - 60_000
    put(url, "ecs/web/task-a", "a1", "a2", at=start)
    put(url, "ecs/web/task-b", "b1", at=start + 1)
    put(url, "ecs/sidecar/task-a", "not mine", at=start + 2)


def provider(url: str, tmp_path: Path) -> EcsProvider:
    settings = {"region": REGION, "endpoint_url": url, "log_poll_interval": 0.2,
                "environments": {"production": "prod"}}  # fmt: skip
    return EcsProvider("aws", settings, ProviderContext(tmp_path))


def test_logs_come_from_the_group_in_the_task_definition_merged_by_time(
    moto: str, tmp_path: Path
) -> None:
    seeded(moto)

    async def read():
        made = provider(moto, tmp_path)
        try:
            return [line async for line in made.logs(WEB, since=timedelta(minutes=5))]
        finally:
            await made.close()

    lines = asyncio.run(read())
    assert [(line.source, line.text) for line in lines] == [
        ("web/task-a", "a1"),
        ("web/task-b", "b1"),
        ("web/task-a", "a2"),
    ]


def test_tail_and_filter(moto: str, tmp_path: Path) -> None:
    seeded(moto)

    async def read(**options):
        made = provider(moto, tmp_path)
        try:
            return [line.text async for line in made.logs(WEB, **options)]
        finally:
            await made.close()

    assert asyncio.run(read(tail=2)) == ["b1", "a2"]
    assert asyncio.run(read(pattern="a2")) == ["a2"]


def test_follow_sees_new_events(moto: str, proxy: Proxy, tmp_path: Path) -> None:
    seeded(moto)

    async def follow():
        made = provider(proxy.url, tmp_path)
        stream = made.logs(WEB, follow=True, since=timedelta(minutes=5))
        try:
            seen = [await anext(stream) for _ in range(3)]
            put(moto, "ecs/web/task-b", "fresh line")
            seen.append(await asyncio.wait_for(anext(stream), 60))  # the live session's
            put(moto, "ecs/web/task-a", "second line")
            seen.append(await asyncio.wait_for(anext(stream), 60))  # a poll's
            return [line.text for line in seen]
        finally:
            await stream.aclose()
            await made.close()

    assert asyncio.run(follow()) == ["a1", "b1", "a2", "fresh line", "second line"]
    assert proxy.counts["StartLiveTail"] == 1
    assert proxy.counts["FilterLogEvents"] >= 2


def test_a_hostile_log_line_is_shown_inert(moto: str, tmp_path: Path, capsys) -> None:
    seeded(moto)
    put(moto, "ecs/web/task-a", "\x1b]0;pwned\x07\x1b[2J[bold red]fake[/] \x1b]52;c;ZXZpbA==\x07")
    config = ecs_config(tmp_path, moto)
    args = ["logs", "web", "--env", "production", "--tail", "1", "--config", str(config)]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "␛]0;pwned␇" in out and "[web/task-a]" in out


def test_cli_filter_is_sent_to_cloudwatch(moto: str, proxy: Proxy, tmp_path: Path, capsys) -> None:
    seeded(moto)
    config = ecs_config(tmp_path, proxy.url)
    args = ["logs", "web", "--env", "production", "--filter", "b1", "--config", str(config)]
    assert main(args) == 0, capsys.readouterr().err
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].endswith("[web/task-b] b1")


def test_follow_through_a_live_tail_session(moto: str, proxy: Proxy, tmp_path: Path) -> None:
    """A session held open, as CloudWatch holds it: new lines come through it, and
    nothing is polled meanwhile."""
    seeded(moto)
    proxy.live_tail = queue.Queue()
    arn = f"arn:aws:logs:{REGION}:123456789012:log-group:{GROUP}"

    async def follow():
        made = provider(proxy.url, tmp_path)
        stream = made.logs(WEB, follow=True, since=timedelta(minutes=5))
        try:
            seen = [await anext(stream) for _ in range(3)]
            waiting = asyncio.ensure_future(anext(stream))
            now = int(time.time() * 1000)
            proxy.live_tail.put([
                {"logStreamName": "ecs/web/task-c", "timestamp": now, "message": "live one",
                 "logGroupIdentifier": arn, "ingestionTime": now},
            ])  # fmt: skip
            seen.append(await asyncio.wait_for(waiting, 60))
            return [(line.source, line.text) for line in seen]
        finally:
            proxy.live_tail.put(None)
            await stream.aclose()
            await made.close()

    lines = asyncio.run(follow())
    assert lines[-1] == ("web/task-c", "live one")
    assert proxy.counts["StartLiveTail"] == 1
    assert proxy.counts["FilterLogEvents"] == 1  # the first read only: no polling
