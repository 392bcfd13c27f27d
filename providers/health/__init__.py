"""Health endpoints: each service's `/health`, `/ready` and `/metrics`, probed on an
interval, as targets with their latency, status, error rate and p99."""

from providers.health.provider import HealthProvider

__all__ = ["HealthProvider"]
