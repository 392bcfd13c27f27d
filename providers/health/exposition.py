"""Error rate and p99 from a service's `/metrics` page (Prometheus text format).

The page is read with prometheus_client's own parser, never by hand. Counters and
histogram buckets grow from the process's start, so two scrapes in a row give the
rates of the interval between them; the first scrape, or one after a restart (a
counter that went down), gives the figures since the start instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from console.domain.model import ERROR_RATE, P99

STATUS_LABELS = ("code", "status", "status_code")


class NotExposition(ValueError):
    """A `/metrics` answer that is not Prometheus text."""


@dataclass(frozen=True)
class Scrape:
    """What one `/metrics` page says about requests and their latency."""

    requests: float | None = None  # requests counted, all codes
    errors: float | None = None  # of which 5xx
    buckets: tuple[tuple[float, float], ...] = ()  # (upper bound, cumulative count), ascending
    unit_ms: float = 1000.0  # milliseconds per unit of the histogram's bounds


def _base(name: str) -> str:
    """A counter's family name as the parser gives it (it drops `_total`)."""
    return name.removesuffix("_total")


def read(text: str, requests_metric: str, latency_metric: str) -> Scrape:
    """The requests, 5xx and latency buckets on a page; raises NotExposition on garbage."""
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as exc:  # the parser raises ValueError, IndexError... on bad text
        raise NotExposition(f"not Prometheus text ({type(exc).__name__})") from None
    requests = errors = None
    bounds: dict[float, float] = {}
    for family in families:
        if _base(family.name) == _base(requests_metric):
            for sample in family.samples:
                if sample.name not in (requests_metric, _base(requests_metric) + "_total"):
                    continue
                requests = (requests or 0.0) + sample.value
                code = next((sample.labels[k] for k in STATUS_LABELS if k in sample.labels), "")
                if code.startswith("5"):
                    errors = (errors or 0.0) + sample.value
            if requests is not None and errors is None:
                errors = 0.0
        elif family.name == latency_metric and family.type == "histogram":
            for sample in family.samples:
                if sample.name == latency_metric + "_bucket" and "le" in sample.labels:
                    bound = float(sample.labels["le"])
                    bounds[bound] = bounds.get(bound, 0.0) + sample.value
    unit = 1.0 if latency_metric.endswith("_milliseconds") else 1000.0
    return Scrape(requests, errors, tuple(sorted(bounds.items())), unit)


def _delta(now: float | None, before: float | None) -> float | None:
    if now is None:
        return None
    if before is None or now < before:  # first scrape, or the process restarted
        return now
    return now - before


def requests_since(current: Scrape, previous: Scrape | None = None) -> float | None:
    """Requests counted since `previous` (all of them after a restart), or None."""
    restarted = previous is not None and ((current.requests or 0.0) < (previous.requests or 0.0))
    return _delta(current.requests, None if restarted or previous is None else previous.requests)


def derive(current: Scrape, previous: Scrape | None = None) -> dict[str, float]:
    """error_rate (%) and p99 (ms) over the interval since `previous`, where the page allows."""
    restarted = previous is not None and ((current.requests or 0.0) < (previous.requests or 0.0))
    before = None if restarted else previous
    out: dict[str, float] = {}
    requests = _delta(current.requests, before.requests if before else None)
    errors = _delta(current.errors, before.errors if before else None)
    if requests and errors is not None:
        out[ERROR_RATE] = round(100.0 * errors / requests, 2)
    buckets = list(current.buckets)
    if before is not None and before.buckets:
        earlier = dict(before.buckets)
        if all(count >= earlier.get(bound, 0.0) for bound, count in buckets):
            buckets = [(bound, count - earlier.get(bound, 0.0)) for bound, count in buckets]
    p99 = quantile(0.99, buckets)
    if p99 is not None:
        out[P99] = round(p99 * current.unit_ms, 1)
    return out


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile of cumulative buckets, interpolated inside its bucket as PromQL's
    histogram_quantile does; the highest finite bound when it falls in +Inf."""
    if not buckets or not math.isinf(buckets[-1][0]):
        return None
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return None
