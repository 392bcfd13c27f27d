"""The built-in simulated world: services on Kubernetes, ECS and static hosting that
roll out, degrade, recover and log, so Quorum shows everything with no config.
"""

from providers.sandbox.provider import PAUSED_AT, SandboxProvider
from providers.sandbox.watch import SandboxWatchProvider

__all__ = ["PAUSED_AT", "SandboxProvider", "SandboxWatchProvider"]
