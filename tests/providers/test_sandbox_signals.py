"""The sandbox's signals: metrics that move and cross the alert thresholds during the
periodic incident, and logs that tail, window, follow and flood as a real backend's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.model import CPU, ERROR_RATE, MEMORY, P99, Health, LogLine, RolloutStatus
from console.domain.thresholds import Thresholds
from providers.base import NotFound
from providers.sandbox import SandboxProvider
from tests.providers.test_sandbox_world import T0, Clock, make, ref, snap, target

LEVELS = {"DEBUG", "INFO", "WARN", "ERROR"}
THRESHOLDS = Thresholds()


def production_health(providers: list[SandboxProvider]) -> dict[str, tuple[Health, RolloutStatus]]:
    return {
        t.ref.service: (THRESHOLDS.health(t.metrics), t.status)
        for p in providers
        for t in snap(p).targets
        if t.ref.environment == "production"
    }


def incident_timeline(tmp_path: Path) -> list[dict[str, tuple[Health, RolloutStatus]]]:
    """Production's health every 5 s over one ten-minute cycle from T0."""
    clock = Clock()
    providers = [make(tmp_path, platform, clock) for platform in ("kubernetes", "ecs", "static")]
    out = []
    for _ in range(120):
        out.append(production_health(providers))
        clock.advance(5)
    return out


def collect(stream: AsyncIterator[LogLine], count: int | None = None) -> list[LogLine]:
    async def take() -> list[LogLine]:
        lines = []
        async for line in stream:
            lines.append(line)
            if count is not None and len(lines) == count:
                break
        return lines

    return asyncio.run(take())


# -- metrics -----------------------------------------------------------------------


def test_metrics_are_series_every_five_seconds_ending_now(tmp_path: Path) -> None:
    provider = make(tmp_path, "ecs", Clock())
    search = target(provider, "search")
    series = asyncio.run(provider.metrics(search.ref, timedelta(minutes=10)))
    assert [s.name for s in series] == [CPU, MEMORY, ERROR_RATE, P99]
    for s in series:
        assert len(s.points) == 121
        stamps = [at for at, _ in s.points]
        assert stamps[-1] == T0 and stamps[0] == T0 - timedelta(minutes=10)
        assert {b - a for a, b in zip(stamps, stamps[1:], strict=False)} == {timedelta(seconds=5)}
        assert s.latest == search.metrics[s.name]
        assert len({v for _, v in s.points}) > 10, f"{s.name} does not move"


def test_a_long_window_stays_a_bounded_number_of_points(tmp_path: Path) -> None:
    provider = make(tmp_path, "static", Clock())
    series = asyncio.run(provider.metrics(ref(provider, "docs-site"), timedelta(hours=24)))
    assert [s.name for s in series] == [ERROR_RATE, P99]
    assert all(len(s.points) == 721 for s in series)


def test_one_service_degrades_past_critical_and_recovers(tmp_path: Path) -> None:
    timeline = incident_timeline(tmp_path)
    troubled = {
        service
        for moment in timeline
        for service, (health, _) in moment.items()
        if health is not Health.OK
    }
    assert len(troubled) == 1
    (service,) = troubled
    health = [moment[service][0] for moment in timeline]
    status = [moment[service][1] for moment in timeline]
    first_bad = health.index(Health.WARNING)
    assert Health.CRITICAL in health[first_bad:]
    assert RolloutStatus.DEGRADED in status
    assert set(health[:first_bad]) == {Health.OK}, "quiet before"
    last_bad = max(i for i, h in enumerate(health) if h is not Health.OK)
    assert last_bad < len(health) - 10 and set(health[last_bad + 1 :]) == {Health.OK}, "recovers"
    assert all(s is RolloutStatus.READY for s in status[last_bad + 1 :])


def test_the_next_incidents_move_between_services(tmp_path: Path) -> None:
    clock = Clock()
    providers = [make(tmp_path, p, clock) for p in ("kubernetes", "ecs")]
    clock.advance(90 + 30 + 60)  # the height of the first incident
    hit = set()
    for _ in range(8):
        critical = [s for s, (h, _) in production_health(providers).items() if h is Health.CRITICAL]
        assert len(critical) == 1
        hit.add(critical[0])
        clock.advance(600)
    assert len(hit) >= 3


def test_a_rollback_during_the_incident_clears_it(tmp_path: Path) -> None:
    clock = Clock()
    fixed = {p: make(tmp_path / "fixed", p, clock) for p in ("kubernetes", "ecs")}
    left = {p: make(tmp_path / "left", p, clock) for p in ("kubernetes", "ecs")}
    clock.advance(90 + 30 + 20)  # the incident at full strength
    (service,) = [
        s for s, (h, _) in production_health(list(fixed.values())).items() if h is Health.CRITICAL
    ]
    provider = next(p for p in fixed.values() if service in p.specs)
    asyncio.run(provider.rollback(ref(provider, service)))
    clock.advance(25)  # longer than any rollout, shorter than the incident
    assert production_health(list(fixed.values()))[service] == (Health.OK, RolloutStatus.READY)
    assert production_health(list(left.values()))[service][0] is Health.CRITICAL


# -- logs --------------------------------------------------------------------------


def test_tail_gives_the_last_lines_from_the_running_pods(tmp_path: Path) -> None:
    provider = make(tmp_path, "kubernetes", Clock())
    api = ref(provider, "api")
    lines = collect(provider.logs(api, tail=50))
    assert len(lines) == 50
    stamps = [line.ts for line in lines]
    assert stamps == sorted(stamps) and stamps[-1] <= T0 and stamps[0] > T0 - timedelta(minutes=1)
    assert {line.level for line in lines} <= LEVELS and "INFO" in {line.level for line in lines}
    pods = {p.name for p in asyncio.run(provider.details(api)).pods}
    assert {line.source for line in lines} <= pods
    assert len({line.source for line in lines}) == 3
    assert any('"GET /' in line.text and " HTTP/1.1" in line.text for line in lines)


def test_job_and_cdn_logs_read_like_their_platforms(tmp_path: Path) -> None:
    clock = Clock()
    ecs, static = make(tmp_path, "ecs", clock), make(tmp_path, "static", clock)
    jobs = collect(ecs.logs(ref(ecs, "notifier"), tail=200))
    assert sum(" done in " in line.text for line in jobs) > 100
    assert all(line.source.startswith("notifier/") for line in jobs)
    edge = collect(static.logs(ref(static, "status-page"), tail=200))
    assert all(line.text.startswith("GET /") and " cache=" in line.text for line in edge)
    assert all(line.source.startswith("edge-") for line in edge)
    assert "DEBUG" not in {line.level for line in edge}


def test_since_gives_the_lines_of_that_window(tmp_path: Path) -> None:
    provider = make(tmp_path, "ecs", Clock(), log_rate=3)
    lines = collect(provider.logs(ref(provider, "billing"), since=timedelta(seconds=60)))
    assert len(lines) == 180
    assert all(T0 - timedelta(seconds=60) <= line.ts <= T0 for line in lines)
    assert len(collect(provider.logs(ref(provider, "billing")))) == 3 * 3600, "an hour by default"


def test_two_processes_see_the_same_lines(tmp_path: Path) -> None:
    clock = Clock()
    one, two = make(tmp_path, "kubernetes", clock), make(tmp_path, "kubernetes", clock)
    first = collect(one.logs(ref(one, "worker"), since=timedelta(minutes=5)))
    assert first == collect(two.logs(ref(two, "worker"), since=timedelta(minutes=5)))
    tail = collect(two.logs(ref(two, "worker"), tail=40))
    assert tail == first[-40:]


def test_follow_yields_new_lines_as_the_clock_moves(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock, log_rate=4)
    web = ref(provider, "web")

    async def follow() -> tuple[list[LogLine], list[LogLine]]:
        stream = provider.logs(web, follow=True, tail=5)
        backlog = [await anext(stream) for _ in range(5)]
        clock.advance(10)
        fresh = [await anext(stream) for _ in range(40)]
        await stream.aclose()
        return backlog, fresh

    backlog, fresh = asyncio.run(follow())
    assert all(line.ts <= T0 for line in backlog)
    assert all(T0 < line.ts <= T0 + timedelta(seconds=10) for line in fresh)
    stamps = [line.ts for line in backlog + fresh]
    assert stamps == sorted(stamps)


def test_errors_rise_while_degraded(tmp_path: Path) -> None:
    clock = Clock()
    providers = {p: make(tmp_path, p, clock, log_rate=20) for p in ("kubernetes", "ecs")}
    clock.advance(90 + 30 + 120)  # two minutes into the incident at full strength
    (service,) = [
        s
        for s, (h, _) in production_health(list(providers.values())).items()
        if h is Health.CRITICAL
    ]
    provider = next(p for p in providers.values() if service in p.specs)
    window = timedelta(seconds=110)
    during = Counter(
        line.level for line in collect(provider.logs(ref(provider, service), since=window))
    )
    clock.advance(400)  # the quiet start of the next cycle
    calm = Counter(
        line.level for line in collect(provider.logs(ref(provider, service), since=window))
    )
    assert during["ERROR"] > 8 * calm["ERROR"] > 0
    assert during.total() == calm.total() == 2200


def test_a_flood_is_followed_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock, log_rate=20000)
    sleeps = []
    real_sleep = asyncio.sleep

    async def counted(delay: float, *args: object) -> object:
        sleeps.append(delay)
        return await real_sleep(delay, *args)

    monkeypatch.setattr(asyncio, "sleep", counted)
    api = ref(provider, "api")

    async def follow() -> list[LogLine]:
        stream = provider.logs(api, follow=True, tail=1)
        assert (await anext(stream)).ts <= T0  # the stream has started at T0
        clock.advance(1)
        lines = [await anext(stream) for _ in range(20000)]
        await stream.aclose()
        return lines

    lines = asyncio.run(follow())
    assert lines[0].ts > T0 and lines[-1].ts <= T0 + timedelta(seconds=1)
    assert len(sleeps) < 30, "one sleep per batch, not per line"


def test_previous_logs_are_those_of_the_pods_before_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    api = ref(provider, "api")
    old_pods = {p.name for p in asyncio.run(provider.details(api)).pods}
    clock.advance(5)
    asyncio.run(provider.restart(api))
    restarted_at = clock.at
    clock.advance(60)
    previous = collect(provider.logs(api, previous=True, tail=30))
    assert len(previous) == 30 and all(line.ts < restarted_at for line in previous)
    assert {line.source for line in previous} <= old_pods
    current = collect(provider.logs(api, tail=30))
    assert not {line.source for line in current} & old_pods


def test_a_container_the_target_lacks_is_not_found(tmp_path: Path) -> None:
    provider = make(tmp_path, "kubernetes", Clock())
    with pytest.raises(NotFound, match="deployment/api has no container 'sidecar'"):
        provider.logs(ref(provider, "api"), container="sidecar")
    assert len(collect(provider.logs(ref(provider, "api"), container="api", tail=3))) == 3


def test_a_paused_world_logs_nothing_new(tmp_path: Path) -> None:
    provider = make(tmp_path, "kubernetes", Clock(), paused=True)
    api = ref(provider, "api")

    async def follow() -> list[LogLine]:
        stream = provider.logs(api, follow=True, tail=3)
        backlog = [await anext(stream) for _ in range(3)]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(stream), timeout=2.5)
        return backlog

    assert len(asyncio.run(follow())) == 3


def test_details_of_a_degraded_target_show_the_failing_replica(tmp_path: Path) -> None:
    clock = Clock()
    providers = [make(tmp_path, p, clock) for p in ("kubernetes", "ecs")]
    clock.advance(90 + 30 + 60)  # the incident at full strength
    (service,) = [
        s for s, (_, st) in production_health(providers).items() if st is RolloutStatus.DEGRADED
    ]
    provider = next(p for p in providers if service in p.specs)
    details = asyncio.run(provider.details(ref(provider, service)))
    failing = [p for p in details.pods if not p.ready]
    assert len(failing) == 1 and failing[0].reason == "Unhealthy"
    assert len(details.pods) == details.target.desired == details.target.ready + 1
    assert details.events[0].type == "Warning"
    assert details.events[0].message == details.target.message
