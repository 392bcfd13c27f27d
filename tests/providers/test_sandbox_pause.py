"""Pausing and resuming a rollout in the sandbox, as `kubectl rollout pause` does.

The world's clock is moved by hand (see test_sandbox_world): a paused rollout stands
still, goes on where it stopped once resumed, and a paused target takes no new one.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.model import RolloutStatus, Target
from providers.base import Capability, Refused, Unsupported
from providers.sandbox import SandboxProvider
from tests.providers.test_sandbox_world import Clock, make, ref, target


def _watch(
    provider: SandboxProvider, clock: Clock, service: str, env: str, seconds: int
) -> list[Target]:
    seen = []
    for _ in range(seconds):
        seen.append(target(provider, service, env))
        clock.advance(1)
    return seen


def test_a_paused_rollout_stands_still_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    api = ref(provider, "api")
    asyncio.run(provider.deploy(api, "v9.0.0"))
    before = _watch(provider, clock, "api", "production", 6)
    assert all(t.status is RolloutStatus.PROGRESSING for t in before)
    said = asyncio.run(provider.pause(api))
    stood = target(provider, "api")
    assert f"rollout paused with {stood.ready} of {stood.desired} pods updated" in said
    held = _watch(provider, clock, "api", "production", 120)
    assert {(t.status, t.ready, t.revision) for t in held} == {
        (RolloutStatus.PAUSED, stood.ready, "v9.0.0")
    }
    assert "resume" in held[-1].message
    asyncio.run(provider.resume(api))
    after = _watch(provider, clock, "api", "production", 25)
    rolling = [t for t in after if t.status is RolloutStatus.PROGRESSING]
    assert after[: len(rolling)] == rolling and rolling[0].ready >= stood.ready
    assert after[-1].status is RolloutStatus.READY and after[-1].ready == after[-1].desired
    # The whole rollout took as long as an unpaused one: 10 to 20 seconds of progress.
    assert 10 <= len(before) + len(rolling) <= 21


def test_a_paused_target_takes_no_new_rollout_and_says_how_to_go_on(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    api = ref(provider, "api")
    asyncio.run(provider.pause(api))
    calm = target(provider, "api")
    assert calm.status is RolloutStatus.PAUSED and calm.ready == calm.desired
    for attempt in (provider.deploy(api, "v9"), provider.rollback(api), provider.restart(api)):
        with pytest.raises(Refused, match=r"api@production: its rollout is paused .*"
                           r"quorum resume api --env production"):  # fmt: skip
            asyncio.run(attempt)
    with pytest.raises(Refused, match="api@production is already paused"):
        asyncio.run(provider.pause(api))
    clock.advance(1)
    asyncio.run(provider.resume(api))
    with pytest.raises(Refused, match="api@production is not paused"):
        asyncio.run(provider.resume(api))
    clock.advance(1)
    asyncio.run(provider.restart(api))
    assert target(provider, "api").status is RolloutStatus.PROGRESSING
    events = asyncio.run(provider.details(api)).events
    assert [e.reason for e in events[:3]] == ["Restarted", "Resumed", "Paused"]


def test_staging_builds_wait_for_the_resume_and_the_newest_goes_out(tmp_path: Path) -> None:
    clock = Clock()
    provider = make(tmp_path, "kubernetes", clock)
    api = ref(provider, "api", "staging")
    while target(provider, "api", "staging").status is not RolloutStatus.READY:
        clock.advance(1)  # past any build rolling out at T0
    asyncio.run(provider.pause(api))
    paused = target(provider, "api", "staging")
    clock.advance(15 * 60)  # at least two builds are pushed meanwhile
    held = target(provider, "api", "staging")
    assert (held.revision, held.status, held.ready) == (
        paused.revision, RolloutStatus.PAUSED, held.desired
    )  # fmt: skip
    asyncio.run(provider.resume(api))
    resumed = target(provider, "api", "staging")
    assert resumed.revision != paused.revision and resumed.status is RolloutStatus.PROGRESSING
    taken = [r.id for r in asyncio.run(provider.revisions(api))]
    unpaused = make(tmp_path / "unpaused", "kubernetes", clock)
    pushed = [r.id for r in asyncio.run(unpaused.revisions(ref(unpaused, "api", "staging")))]
    assert taken[:2] == [pushed[0], paused.revision], "the newest build, straight after"


@pytest.mark.parametrize("platform", ["ecs", "static"])
def test_only_kubernetes_pauses(tmp_path: Path, platform: str) -> None:
    provider = make(tmp_path, platform, Clock())
    assert not provider.effective_capabilities & Capability.PAUSE
    first = next(iter(asyncio.run(provider.snapshot()).targets))
    with pytest.raises(Unsupported, match="cannot pause"):
        asyncio.run(provider.pause(first.ref))


def test_pause_and_resume_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    def status() -> str:
        assert main(["status", "--json", "--sandbox"]) == 0
        rows = json.loads(capsys.readouterr().out)
        return next(r for r in rows if (r["service"], r["environment"]) == ("web", "dev"))["status"]

    assert main(["pause", "web", "--env", "dev", "--sandbox"]) == 0
    assert capsys.readouterr().out.startswith("pause finished: deployment/web (dev): ")
    assert status() == "paused"
    assert main(["resume", "web", "--env", "dev", "--sandbox"]) == 0
    assert "rollout resumed" in capsys.readouterr().out
    assert status() != "paused"
