"""What a deploy or rollback of an ECS service means, decided from task definitions.

A deploy names either a registered revision (`family:N`, `N`, or a task definition
ARN) or an image: a tag for the main container's repository, a full image, or
`container=image-or-tag` for another container. An image becomes a new revision,
registered from the current one with only that image changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The fields register_task_definition accepts, as describe_task_definition returns them.
REGISTRABLE = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
)
_REVISION = re.compile(r"^(?P<family>[A-Za-z0-9_-]{1,255}):(?P<number>\d+)$")


def family_of(task_definition_arn: str) -> str:
    return task_definition_arn.rpartition("/")[2].rpartition(":")[0]


def chosen_revision(wanted: str, current_arn: str) -> str | None:
    """The task definition `wanted` names (for update_service), or None for an image.

    A bare number is a revision of the current family; `family:N` is a revision of
    the current family only (any other `name:tag` is an image); an ARN is itself.
    """
    family = family_of(current_arn)
    if wanted.startswith("arn:") and ":task-definition/" in wanted:
        return wanted
    if wanted.isdigit():
        return f"{family}:{wanted}"
    match = _REVISION.match(wanted)
    if match and match["family"] == family:
        return wanted
    return None


def main_container(task_definition: Mapping[str, Any], service: str) -> dict[str, Any] | None:
    """The container named like the service or family, else the first essential one."""
    containers = list(task_definition.get("containerDefinitions") or ())
    names = (service, str(task_definition.get("family") or ""))
    for container in containers:
        if container.get("name") in names:
            return container
    essential = [c for c in containers if c.get("essential", True)]
    return (essential or containers or [None])[0]


def resolve_image(current: str, wanted: str) -> str:
    """A tag keeps the current repository; anything with `/` or `:` or `@` is a full image."""
    if any(ch in wanted for ch in "/:@"):
        return wanted
    repository = current.split("@", 1)[0]
    slash = repository.rfind("/")
    colon = repository.rfind(":")
    if colon > slash:
        repository = repository[:colon]
    return f"{repository}:{wanted}"


def with_image(
    task_definition: Mapping[str, Any], service: str, wanted: str
) -> tuple[dict[str, Any], str, str]:
    """The registration of a new revision with one container's image changed; with it
    the container's name and the new image. Raises ValueError with the reason."""
    chosen, _, image_spec = wanted.rpartition("=")
    containers = list(task_definition.get("containerDefinitions") or ())
    if chosen:
        target = next((c for c in containers if c.get("name") == chosen), None)
        if target is None:
            names = ", ".join(str(c.get("name")) for c in containers)
            raise ValueError(f"the task definition has no container {chosen!r} ({names})")
    else:
        target = main_container(task_definition, service)
    if target is None:
        raise ValueError("the task definition has no containers")
    image = resolve_image(str(target.get("image") or ""), image_spec)
    updated = [
        dict(c, image=image) if c.get("name") == target.get("name") else dict(c) for c in containers
    ]
    body = {key: task_definition[key] for key in REGISTRABLE if task_definition.get(key)}
    body["containerDefinitions"] = updated
    return body, str(target.get("name")), image


def images(task_definition: Mapping[str, Any]) -> str:
    """`name=image` of each container, for revision lists and details."""
    return ", ".join(
        f"{c.get('name')}={c.get('image')}"
        for c in task_definition.get("containerDefinitions") or ()
    )
