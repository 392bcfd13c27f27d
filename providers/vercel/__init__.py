"""Vercel: deployments per project and target, promote, roll back, build logs."""

from providers.vercel.provider import VercelProvider

__all__ = ["VercelProvider"]
