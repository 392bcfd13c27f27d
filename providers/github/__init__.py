"""GitHub Actions: workflow runs, job logs, environment approvals, dispatch and re-run."""

from providers.github.provider import GitHubProvider

__all__ = ["GitHubProvider"]
