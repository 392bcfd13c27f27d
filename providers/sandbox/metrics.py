"""The sandbox's metrics: resting values per service that drift with an hourly load
wave and smooth noise, react to what happened (fewer replicas carry more CPU each,
memory creeps up until a restart, a rollout costs a little CPU), and climb past the
critical thresholds during the incident.
"""

from __future__ import annotations

import math

from console.domain.model import CPU, ERROR_RATE, MEMORY, P99
from providers.sandbox.catalog import CDN, ENV_LOAD
from providers.sandbox.noise import smooth, unit
from providers.sandbox.timeline import HOUR, TargetState, Timeline

# How far the incident pushes each metric at full strength: well past critical.
INCIDENT_ERRORS = 7.5  # percentage points
INCIDENT_P99 = 1100.0  # milliseconds
INCIDENT_CPU = 94.0  # percent, reached at full strength


def metric_names(timeline: Timeline) -> tuple[str, ...]:
    """A static site behind a CDN has no CPU or memory of its own."""
    if timeline.spec.style == CDN:
        return (ERROR_RATE, P99)
    return (CPU, MEMORY, ERROR_RATE, P99)


def values(timeline: Timeline, state: TargetState, t: float) -> dict[str, float]:
    """Every metric of one target at `t`, given its state at `t`."""
    spec = timeline.spec
    k = timeline.key
    level = state.incident
    wave = 1.0 + 0.2 * math.sin(2 * math.pi * (t / HOUR + unit(k)))
    load = ENV_LOAD[timeline.environment]
    errors = max(0.0, spec.error_rate * (1 + 0.6 * smooth(k + 3, t, 30))) + level * INCIDENT_ERRORS
    p99 = spec.p99 * (0.8 + 0.2 * load) * wave * (1 + 0.12 * smooth(k + 4, t, 20))
    p99 += level * INCIDENT_P99
    if spec.style == CDN:
        return {ERROR_RATE: round(errors, 2), P99: float(round(p99))}
    if state.desired == 0:
        return {CPU: 0.0, MEMORY: 0.0, ERROR_RATE: 0.0, P99: 0.0}
    share = timeline.base_replicas / state.desired
    cpu = spec.cpu * max(load, 0.3) * wave * (1 + 0.08 * smooth(k + 1, t, 45)) * share
    if state.rolling:
        cpu += 8.0
    cpu = min(100.0, cpu + level * max(0.0, INCIDENT_CPU - cpu))
    since_restart = max(0.0, t - state.rollout_at)
    memory = spec.memory + 2.5 * smooth(k + 2, t, 120) + min(12.0, 1.5 * since_restart / HOUR)
    memory = min(100.0, memory + level * 6.0)
    return {
        CPU: round(cpu, 1),
        MEMORY: round(memory, 1),
        ERROR_RATE: round(errors, 2),
        P99: float(round(p99)),
    }
