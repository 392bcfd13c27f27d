"""Cloudflare load balancing: pools and origins with their health, which one serves,
and failover by disabling or enabling a pool or an origin."""

from providers.cloudflare.provider import CloudflareProvider

__all__ = ["CloudflareProvider"]
