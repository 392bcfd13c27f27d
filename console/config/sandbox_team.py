"""The built-in sandbox team: what `quorum` shows with no config at all.

The person running Quorum is a member (so they can vote), beside three simulated
teammates; production needs two approvals; the rotation is the seeds' own monthly
schedule plus a weekly on-call.
"""

from __future__ import annotations

from datetime import date, timedelta

from console.domain.names import current_user
from console.domain.settings import (
    Config,
    Policy,
    ProviderConfig,
    RotationConfig,
    SimulatedTeammate,
)

SIMULATED_TEAMMATES: tuple[str, ...] = ("alice", "bob", "carol")

SEED_ROTATION_MEMBERS: tuple[str, ...] = (
    "go-systems-developer",
    "flask-web-developer",
    "devops-coordinator",
    "consensus-coordinator",
    "All technical agents review",
    "Collective infrastructure planning",
)


def sandbox_config() -> Config:
    me = current_user()
    members = (me, *[m for m in SIMULATED_TEAMMATES if m != me])
    return Config(
        team_name="collective",
        members=members,
        # They vote on open proposals a few seconds in (console/engine/sandbox_teammates.py):
        # alice approves, carol rejects now and then (no single veto), bob approves.
        simulated_teammates=(
            SimulatedTeammate("alice", timedelta(seconds=4), "approve"),
            SimulatedTeammate("carol", timedelta(seconds=6), "varies"),
            SimulatedTeammate("bob", timedelta(seconds=8), "approve"),
        ),
        policies={
            "production": Policy("production", min_approvals=2),
            "staging": Policy("staging", min_approvals=0),
            "dev": Policy("dev", min_approvals=0),
        },
        # One simulated world shown as three providers, as a real team's would be.
        providers=(
            ProviderConfig(name="sim-k8s", kind="sandbox", settings={"platform": "kubernetes"}),
            ProviderConfig(name="sim-ecs", kind="sandbox", settings={"platform": "ecs"}),
            ProviderConfig(name="sim-sites", kind="sandbox", settings={"platform": "static"}),
            # Its monitoring: health checks of production and the alerts its incidents fire.
            ProviderConfig(name="sim-watch", kind="sandbox-watch", settings={}),
        ),
        rotations=(
            RotationConfig(
                name="infrastructure",
                every="month",
                members=SEED_ROTATION_MEMBERS,
                start=date(2026, 1, 1),
            ),
            RotationConfig(
                name="on-call",
                every="week",
                members=members,
                start=date(2026, 1, 5),
                handoff="09:00",
                timezone="UTC",
            ),
        ),
    )
