"""The HTTP layer every HTTP provider (GitHub, GitLab, and the sites and metrics kinds
after them) is built on: one client per block, tokens from the environment or a
command, retries, rate limits, ETags and pagination."""

from providers.http.client import Answer, HttpClient, RateLimited, bearer
from providers.http.ratelimit import RateLimit
from providers.http.settings import HttpSettings

__all__ = ["Answer", "HttpClient", "HttpSettings", "RateLimit", "RateLimited", "bearer"]
