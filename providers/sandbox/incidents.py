"""The periodic incident: one production service degrades past the alert thresholds
for a few minutes of every ten, then recovers.

Which service, and how badly at any instant, is a function of the clock and the
seed alone, so every process sees the same incident at the same moment.
"""

from __future__ import annotations

import math

from providers.sandbox.catalog import INCIDENT_SERVICES, PRODUCTION
from providers.sandbox.noise import key, mix

CYCLE = 600.0  # one incident per ten minutes
START = 90.0  # seconds into the cycle the trouble begins
RAMP = 30.0  # ... grows to full strength over this long
HOLD = 150.0  # ... stays at full strength this long
RECOVER = 60.0  # ... and fades over this long


def incident_service(seed: int, t: float) -> str:
    """The production service that has (or will have) this cycle's incident."""
    cycle = math.floor(t / CYCLE)
    return INCIDENT_SERVICES[mix(key(seed, "incident") + cycle) % len(INCIDENT_SERVICES)]


def incident_start(t: float) -> float:
    """When the trouble of the cycle containing `t` begins."""
    return math.floor(t / CYCLE) * CYCLE + START


def intensity(seed: int, service: str, environment: str, t: float) -> float:
    """How degraded `service` is at `t`: 0 healthy, 1 at the height of the incident."""
    if environment != PRODUCTION or incident_service(seed, t) != service:
        return 0.0
    x = t - incident_start(t)
    if x < 0:
        return 0.0
    if x < RAMP:
        return x / RAMP
    if x < RAMP + HOLD:
        return 1.0
    return max(0.0, 1.0 - (x - RAMP - HOLD) / RECOVER)
