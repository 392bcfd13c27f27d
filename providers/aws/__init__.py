"""AWS: ECS/Fargate services and S3 + CloudFront static sites, one account and region
per provider block.

Only the provider classes are exported; boto3 is imported when a provider first
makes a client, so a console without AWS never loads it.
"""

from providers.aws.ecs import EcsProvider
from providers.aws.site import StaticSiteProvider

__all__ = ["EcsProvider", "StaticSiteProvider"]
