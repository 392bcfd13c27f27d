"""Netlify: a site's production deploys, restore an earlier one, lock auto-publishing."""

from providers.netlify.provider import NetlifyProvider

__all__ = ["NetlifyProvider"]
