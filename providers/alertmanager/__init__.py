"""Alertmanager (API v2): active alerts matched to services by labels; silences."""

from providers.alertmanager.provider import AlertmanagerProvider

__all__ = ["AlertmanagerProvider"]
