"""GitLab CI: pipelines, job traces, deployment approvals, manual jobs and re-deploys."""

from providers.gitlab.provider import GitLabProvider

__all__ = ["GitLabProvider"]
