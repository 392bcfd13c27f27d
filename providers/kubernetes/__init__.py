"""Kubernetes: Deployments, StatefulSets and DaemonSets of one kubeconfig context.

Only the provider class is exported; the `kubernetes` package itself is imported
when a provider first talks to its cluster, so a console without Kubernetes never
loads it.
"""

from providers.kubernetes.provider import KubernetesProvider

__all__ = ["KubernetesProvider"]
