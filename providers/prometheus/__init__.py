"""Prometheus as a metrics source: per-service PromQL from the config, one batched
instant query per metric for the services' rows, range queries for the plots."""

from providers.prometheus.provider import PrometheusProvider

__all__ = ["PrometheusProvider"]
