"""The sandbox world: its shape, rollouts, the changes people make, and persistence
across instances and processes.

Each test drives the world's clock itself (the provider's `clock` seam), starting at
T0, the first second of a ten-minute incident cycle: the cycle's incident begins
90 s later, so tests that stay within a minute see a quiet production.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.config.provider_settings import setting_problems
from console.domain.model import (
    CPU,
    ERROR_RATE,
    MEMORY,
    P99,
    RolloutStatus,
    Snapshot,
    Target,
    TargetRef,
)
from console.engine.session import open_session
from providers.base import Capability, NotFound, ProviderContext, Refused, Unsupported
from providers.sandbox import PAUSED_AT, SandboxProvider
from providers.sandbox.store import WorldStore

T0 = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)
ENVIRONMENTS = {"dev", "staging", "production"}
PREFIX = {"kubernetes": "deployment/", "ecs": "service/", "static": "site/"}


class Clock:
    """The world's clock, moved by hand."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def make(
    data_dir: Path,
    platform: str = "kubernetes",
    clock: Clock | None = None,
    *,
    readonly: bool = False,
    **settings: object,
) -> SandboxProvider:
    return SandboxProvider(
        f"sim-{platform}",
        {"platform": platform, **settings},
        ProviderContext(data_dir=data_dir, readonly=readonly),
        clock=clock,
    )


def snap(provider: SandboxProvider) -> Snapshot:
    return asyncio.run(provider.snapshot())


def target(provider: SandboxProvider, service: str, env: str = "production") -> Target:
    found = [
        t for t in snap(provider).targets if (t.ref.service, t.ref.environment) == (service, env)
    ]
    assert len(found) == 1, f"{service}@{env} not served by {provider.name}"
    return found[0]


def ref(provider: SandboxProvider, service: str, env: str = "production") -> TargetRef:
    return target(provider, service, env).ref


# -- shape ---------------------------------------------------------------------


def test_three_platforms_serve_nine_services_each_only_its_own(tmp_path: Path) -> None:
    clock = Clock()
    services: dict[str, set[str]] = {}
    for platform in ("kubernetes", "ecs", "static"):
        snapshot = snap(make(tmp_path, platform, clock))
        assert snapshot.provider == f"sim-{platform}"
        assert snapshot.taken_at == T0
        for t in snapshot.targets:
            assert t.ref.provider == f"sim-{platform}"
            assert t.ref.target.startswith(PREFIX[platform])
            assert t.ref.environment in ENVIRONMENTS
            assert t.revision
            services.setdefault(t.ref.service, set()).add(t.ref.environment)
    assert sorted(services) == sorted(
        ["api", "web", "worker", "auth", "billing", "search", "notifier"]
        + ["docs-site", "status-page"]
    )
    assert all("production" in envs for envs in services.values())
    assert set().union(*services.values()) == ENVIRONMENTS
    assert any(envs != ENVIRONMENTS for envs in services.values())


def test_a_quiet_production_is_ready_with_every_metric(tmp_path: Path) -> None:
    clock = Clock()
    for platform, names in (("kubernetes", {CPU, MEMORY, ERROR_RATE, P99}),
                            ("ecs", {CPU, MEMORY, ERROR_RATE, P99}),
                            ("static", {ERROR_RATE, P99})):  # fmt: skip
        for t in snap(make(tmp_path, platform, clock)).targets:
            if t.ref.environment != "production":
                continue
            assert t.status is RolloutStatus.READY, t
            assert t.ready == t.desired >= 1
            assert set(t.metrics) == names
            assert t.updated_at is not None and t.updated_at < T0


def test_revisions_are_newest_first_with_the_live_one_current(tmp_path: Path) -> None:
    provider = make(tmp_path, "ecs", Clock())
    live = target(provider, "billing")
    revisions = asyncio.run(provider.revisions(live.ref))
    assert len(revisions) >= 4
    assert revisions[0].id == live.revision and revisions[0].current
    assert not any(r.current for r in revisions[1:])
    stamps = [r.created_at for r in revisions]
    assert stamps == sorted(stamps, reverse=True)
    assert len({r.id for r in revisions}) == len(revisions)


def test_details_list_one_pod_per_replica_and_the_history(tmp_path: Path) -> None:
    provider = make(tmp_path, "kubernetes", Clock())
    api = target(provider, "api")
    details = asyncio.run(provider.details(api.ref))
    assert details.target.revision == api.revision
    assert len(details.pods) == api.desired == 3
    assert all(p.name.startswith("api-") and p.ready and p.phase == "Running" for p in details.pods)
    assert len({p.name for p in details.pods}) == 3
    assert details.events and details.events[0].message.endswith(api.revision)


# -- rollouts --------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "service"), [("kubernetes", "api"), ("ecs", "search")])
def test_a_deploy_rolls_out_over_ten_to_twenty_seconds(
    tmp_path: Path, platform: str, service: str
) -> None:
    clock = Clock()
    provider = make(tmp_path, platform, clock)
    before = target(provider, service)
    message = asyncio.run(provider.deploy(before.ref, "v9.0.0"))
    assert "v9.0.0" in message and before.ref.target in message
    seen: list[Target] = []
    for _ in range(25):
        seen.append(target(provider, service))
        clock.advance(1)
    assert all(t.revision == "v9.0.0" for t in seen)
    rolling = [t for t in seen if t.status is RolloutStatus.PROGRESSING]
    assert 10 <= len(rolling) <= 20
    assert seen[: len(rolling)] == rolling, "the rollout is one stretch from the deploy on"
    assert rolling[0].ready == 0 and rolling[0].updated_at == T0
    assert [t.ready for t in rolling] == sorted(t.ready for t in rolling)
    assert all(t.ready < t.desired for t in rolling)
    assert "v9.0.0" in rolling[0].message
    done = seen[len(rolling) :]
    assert all(t.status is RolloutStatus.READY and t.ready == t.desired == 3 for t in done)


def test_staging_gets_new_builds_from_the_clock_alone(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    revisions, rolling = set(), 0
    for _ in range(6 * 60 // 2):  # six minutes, every two seconds
        api = target(provider, "api", "staging")
        revisions.add(api.revision)
        rolling += api.status is RolloutStatus.PROGRESSING
        clock.advance(2)
    assert len(revisions) >= 2
    assert all(r.startswith("sha-") for r in revisions)
    assert rolling >= 3  # each build rolls out like a deploy
    history = asyncio.run(provider.revisions(api.ref))
    assert history[0].description == "built from main by CI"
    assert WorldStore(tmp_path).changes(provider.name) == {}, "nothing was stored"


# -- changes ---------------------------------------------------------------------


def test_rollback_goes_to_the_previous_revision_then_back(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    api = ref(provider, "api")
    released = target(provider, "api").revision
    asyncio.run(provider.deploy(api, "v9.0.0"))
    clock.advance(30)
    message = asyncio.run(provider.rollback(api))
    assert f"from v9.0.0 to {released}" in message
    rolled = target(provider, "api")
    assert rolled.revision == released
    assert rolled.status is RolloutStatus.PROGRESSING and "rolling back" in rolled.message
    clock.advance(30)
    asyncio.run(provider.rollback(api))
    assert target(provider, "api").revision == "v9.0.0"


def test_rollback_to_a_named_revision_and_refusals(tmp_path: Path) -> None:
    provider = make(tmp_path, "ecs", Clock())
    billing = ref(provider, "billing")
    history = asyncio.run(provider.revisions(billing))
    oldest = history[-1].id
    asyncio.run(provider.rollback(billing, to=oldest))
    after = asyncio.run(provider.revisions(billing))
    assert after[0].id == oldest and after[0].current
    assert after[0].description == "rolled back to"
    with pytest.raises(Refused, match=r"never ran 'v0\.0\.0-nope'"):
        asyncio.run(provider.rollback(billing, to="v0.0.0-nope"))
    with pytest.raises(Refused, match="already runs"):
        asyncio.run(provider.rollback(billing, to=oldest))
    assert target(provider, "billing").revision == oldest


def test_scale_up_climbs_scale_down_is_at_once(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    api = ref(provider, "api")
    assert "from 3 to 5 pods" in asyncio.run(provider.scale(api, 5))
    climbing = []
    for _ in range(6):
        t = target(provider, "api")
        climbing.append((t.status, t.ready, t.desired))
        clock.advance(1)
    assert climbing[0] == (RolloutStatus.PROGRESSING, 3, 5)
    assert climbing[-1] == (RolloutStatus.READY, 5, 5)
    assert [r for _, r, _ in climbing] == sorted(r for _, r, _ in climbing)
    asyncio.run(provider.scale(api, 1))
    t = target(provider, "api")
    assert (t.status, t.ready, t.desired) == (RolloutStatus.READY, 1, 1)


def test_fewer_replicas_carry_more_cpu_each(tmp_path: Path) -> None:
    clock = Clock()
    scaled = make(tmp_path / "a", "kubernetes", clock)
    untouched = make(tmp_path / "b", "kubernetes", clock)
    asyncio.run(scaled.scale(ref(scaled, "api"), 1))
    clock.advance(30)
    one, three = target(scaled, "api").metrics[CPU], target(untouched, "api").metrics[CPU]
    assert one == pytest.approx(min(100.0, three * 3), rel=0.02)


@pytest.mark.parametrize("bad", [-1, 51, True, 2.5, "3"])
def test_scale_refuses_what_no_platform_would_take(tmp_path: Path, bad: object) -> None:
    provider = make(tmp_path, "kubernetes", Clock())
    with pytest.raises(Refused, match="replicas must be a whole number from 0 to 50"):
        asyncio.run(provider.scale(ref(provider, "api"), bad))  # type: ignore[arg-type]
    assert target(provider, "api").desired == 3


def test_a_static_site_cannot_scale(tmp_path: Path) -> None:
    provider = make(tmp_path, "static", Clock())
    assert not provider.can(Capability.SCALE) and provider.can(Capability.RESTART)
    with pytest.raises(Unsupported, match="cannot scale"):
        asyncio.run(provider.scale(ref(provider, "docs-site"), 2))


def test_restart_keeps_the_revision_and_replaces_every_pod(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    api = target(provider, "api")
    pods_before = {p.name for p in asyncio.run(provider.details(api.ref)).pods}
    assert "restarting 3 pods" in asyncio.run(provider.restart(api.ref))
    clock.advance(1)
    during = target(provider, "api")
    assert during.revision == api.revision
    assert during.status is RolloutStatus.PROGRESSING and "restarting" in during.message
    assert during.updated_at == T0
    clock.advance(30)
    after = target(provider, "api")
    assert after.status is RolloutStatus.READY and after.revision == api.revision
    pods_after = {p.name for p in asyncio.run(provider.details(api.ref)).pods}
    assert len(pods_after) == 3 and not pods_after & pods_before


def test_any_tag_deploys_but_not_garbage(tmp_path: Path) -> None:
    provider = make(tmp_path, "static", Clock())
    docs = ref(provider, "docs-site")
    for tag in ("3f9a2c1", "release-2026.05.04+build.7", "sha256:abc"):
        asyncio.run(provider.deploy(docs, tag))
        assert target(provider, "docs-site").revision == tag
    for bad in ("", "two words", "-leading-dash", "x" * 129, "tab\there"):
        with pytest.raises(Refused, match="is not a tag"):
            asyncio.run(provider.deploy(docs, bad))
    assert target(provider, "docs-site").revision == "sha256:abc"


def test_a_target_the_provider_does_not_serve_is_not_found(tmp_path: Path) -> None:
    provider = make(tmp_path, "kubernetes", Clock())
    for service, env in (("billing", "production"), ("worker", "dev"), ("nope", "staging")):
        with pytest.raises(NotFound, match=f"{service}@{env} is not served by sim-kubernetes"):
            asyncio.run(provider.deploy(TargetRef("sim-kubernetes", service, env), "v1"))


def test_readonly_refuses_every_change(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock, readonly=True)
    api = ref(provider, "api")
    assert not provider.effective_capabilities & Capability.mutating()
    attempts = (
        provider.deploy(api, "v9"),
        provider.rollback(api),
        provider.restart(api),
        provider.scale(api, 4),
    )
    for attempt in attempts:
        with pytest.raises(Refused, match="sim-kubernetes is read-only"):
            asyncio.run(attempt)
    assert WorldStore(tmp_path).changes("sim-kubernetes") == {}


# -- persistence -------------------------------------------------------------------


def test_a_change_by_one_instance_is_in_the_next_snapshot_of_another(tmp_path: Path) -> None:
    clock = Clock()
    first, second = make(tmp_path, "ecs", clock), make(tmp_path, "ecs", clock)
    billing = ref(first, "billing")
    asyncio.run(first.deploy(billing, "v5.0.0"))
    asyncio.run(first.scale(billing, 4))
    seen = target(second, "billing")
    assert (seen.revision, seen.desired) == ("v5.0.0", 4)


def test_a_deploy_in_another_process_is_seen_here(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from console.domain.model import TargetRef\n"
        "from providers.base import ProviderContext\n"
        "from providers.sandbox import SandboxProvider\n"
        "p = SandboxProvider('sim-ecs', {'platform': 'ecs'}, ProviderContext(Path(sys.argv[1])))\n"
        "print(asyncio.run(p.deploy(TargetRef('sim-ecs', 'search', 'staging'), 'v7.7.7')))\n"
    )
    here = make(tmp_path, "ecs")  # both on the real clock
    assert target(here, "search", "staging").revision != "v7.7.7"
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert "rolling out v7.7.7" in done.stdout
    assert target(here, "search", "staging").revision == "v7.7.7"


def test_concurrent_writers_lose_no_change(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from console.domain.model import TargetRef\n"
        "from providers.base import ProviderContext\n"
        "from providers.sandbox import SandboxProvider\n"
        "p = SandboxProvider('sim-k8s', {'platform': 'kubernetes'}, "
        "ProviderContext(Path(sys.argv[1])))\n"
        "api = TargetRef('sim-k8s', 'api', 'production')\n"
        "async def main():\n"
        "    for i in range(20):\n"
        "        await p.deploy(api, f'w{sys.argv[2]}-{i}')\n"
        "        await p.rollback(api)\n"
        "asyncio.run(main())\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(n)]) for n in range(4)
    ]
    assert [w.wait() for w in workers] == [0, 0, 0, 0]
    changes = WorldStore(tmp_path).changes("sim-k8s")[("api", "production")]
    assert len(changes) == 160
    deployed = {c.revision for c in changes if c.kind == "deploy"}
    assert deployed == {f"w{n}-{i}" for n in range(4) for i in range(20)}


# -- a paused world ------------------------------------------------------------------


def test_a_paused_world_stands_still_at_a_fixed_instant(tmp_path: Path) -> None:
    clock = Clock()
    paused = make(tmp_path, "kubernetes", clock, paused=True)
    first = snap(paused)
    clock.advance(3600)
    again = snap(make(tmp_path, "kubernetes", paused=True))  # another instance, real clock
    assert first.taken_at == again.taken_at == PAUSED_AT
    assert first.targets == again.targets
    statuses = {t.status for t in first.targets}
    assert {RolloutStatus.DEGRADED, RolloutStatus.PROGRESSING} <= statuses


def test_a_paused_deploy_is_recorded_but_never_progresses(tmp_path: Path) -> None:
    provider = make(tmp_path, "kubernetes", Clock(), paused=True)
    api = ref(provider, "api")
    asyncio.run(provider.deploy(api, "v9.0.0"))
    first = target(provider, "api")
    assert (first.revision, first.status, first.ready) == ("v9.0.0", RolloutStatus.PROGRESSING, 0)
    assert target(make(tmp_path, "kubernetes", paused=True), "api") == first


# -- settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "problems"),
    [
        ({}, [("platform", "required: one of kubernetes, ecs, static")]),
        (
            {"platform": "nomad"},
            [("platform", "must be one of kubernetes, ecs, static, not 'nomad'")],
        ),
        (
            {"platform": "ecs", "log_rate": 0},
            [("log_rate", "must be a number of lines a second, above 0 and at most 100,000")],
        ),
        (
            {"platform": "ecs", "log_rate": "fast"},
            [("log_rate", "expected a number, got a string")],
        ),
        (
            {"platform": "ecs", "paused": "yes"},
            [("paused", "expected true or false, got a string")],
        ),
        ({"platform": "ecs", "seed": 1.5}, [("seed", "expected an integer, got a float")]),
        ({"platform": "ecs", "seed": True}, [("seed", "expected an integer, got a boolean")]),
        (
            {"platform": "ecs", "action_delay": -1},
            [("action_delay", "must be seconds from 0 to 300")],
        ),
        (
            {"log_rate": -2, "paused": 1},
            [
                ("platform", "required: one of kubernetes, ecs, static"),
                ("paused", "expected true or false, got an integer"),
                ("log_rate", "must be a number of lines a second, above 0 and at most 100,000"),
            ],
        ),
    ],
)
def test_bad_settings_are_each_named(settings: dict, problems: list[tuple[str, str]]) -> None:
    """The declared types by Quorum's checker, the ranges by the sandbox's own rules."""
    assert setting_problems(SandboxProvider, settings) == problems


def test_good_settings_have_no_problems() -> None:
    good = {"platform": "static", "log_rate": 20000, "paused": True, "seed": 7, "action_delay": 0.5}
    assert setting_problems(SandboxProvider, good) == []
    assert setting_problems(SandboxProvider, {"platform": "kubernetes"}) == []


def test_a_misconfigured_sandbox_is_a_broken_provider(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "mainframe"\n')
    session = open_session(argparse.Namespace(config=str(config), sandbox=False, readonly=False))
    [broken] = session.broken
    assert not session.providers and broken.name == "sim"
    assert broken.reason == (
        f"{config}:4: providers[0].platform: must be one of kubernetes, ecs, static,"
        " not 'mainframe'"
    )


def test_the_seed_changes_the_world_and_the_same_seed_repeats_it(tmp_path: Path) -> None:
    clock = Clock()
    one = [t.revision for t in snap(make(tmp_path / "a", "ecs", clock, seed=1)).targets]
    same = [t.revision for t in snap(make(tmp_path / "b", "ecs", clock, seed=1)).targets]
    other = [t.revision for t in snap(make(tmp_path / "c", "ecs", clock, seed=2)).targets]
    assert one == same != other


def test_a_change_cut_off_while_the_backend_is_slow_records_nothing(tmp_path: Path) -> None:
    provider = make(tmp_path, "kubernetes", Clock(), action_delay=60)
    api = ref(provider, "api")
    with pytest.raises(TimeoutError):
        asyncio.run(asyncio.wait_for(provider.deploy(api, "v9.0.0"), timeout=0.2))
    assert WorldStore(tmp_path).changes("sim-kubernetes") == {}
    assert target(provider, "api").revision != "v9.0.0"
