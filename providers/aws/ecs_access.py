"""Whether the current AWS credentials may change an ECS service, asked before offering.

As the Kubernetes provider asks an access review, the ECS provider asks IAM's
policy simulator: `sts:GetCallerIdentity` names the caller, and
`iam:SimulatePrincipalPolicy` evaluates that principal's policies (identity
policies, permissions boundary, the organisation's SCPs) for `ecs:UpdateService`
on the service's ARN, the call behind deploy, rollback, restart and scale. A
denial is shown with its reason instead of the action being attempted. A deploy of
a new image also registers a task definition revision, so that deploy is checked
for `ecs:RegisterTaskDefinition` and `iam:PassRole` on the revision's roles when it
is proposed, before anyone votes.

An assumed role's session ARN cannot be simulated; its role's ARN is, and that
carries the role's path, so it is read with `iam:GetRole` (the path-less ARN when
that is not allowed). The account root and federated users cannot be simulated,
and credentials that may not call the simulator are common: in those cases the
action is offered unchecked and ECS decides when it runs. Any other failure to
ask disables the action with the reason, as an unanswerable review does.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from providers.aws.connection import DENIED_CODES, Aws, error_code
from providers.base import ProviderError

UPDATE = "ecs:UpdateService"  # deploy, rollback, restart and scale all update the service
REGISTER = "ecs:RegisterTaskDefinition"  # a deploy of a new image registers a revision
PASS_ROLE = "iam:PassRole"  # registering a revision hands ECS its task and execution roles
ACCESS_TTL = 60.0  # seconds an answer is reused; policies change rarely, actions come in bursts
UNCHECKED = object()  # the simulator may not be asked: offer, and let ECS decide


def principal_of(identity: str) -> tuple[str, str] | None:
    """What `GetCallerIdentity`'s ARN simulates as: ("user", ARN) for an IAM user,
    ("role", path-less role ARN) for an assumed role; None for the root or a
    federated user, which the simulator does not take."""
    parts = identity.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _, partition, service, _, account, resource = parts
    if service == "iam" and resource.startswith("user/"):
        return "user", identity
    if service == "sts" and resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        return "role", f"arn:{partition}:iam::{account}:role/{role}"
    return None


def reason_of(answer: Mapping[str, Any], source: str) -> str | None:
    """None when every evaluation allows the action, else why not, in one line."""
    for result in answer.get("EvaluationResults") or ():
        decision = str(result.get("EvalDecision") or "")
        if decision == "allowed":
            continue
        resource = str(result.get("EvalResourceName") or "")
        head = f"not allowed to {result.get('EvalActionName')}"
        if resource and resource != "*":
            head += f" on {_short(resource)}"
        organisation = result.get("OrganizationsDecisionDetail") or {}
        boundary = result.get("PermissionsBoundaryDecisionDetail") or {}
        policies = sorted(
            {str(s.get("SourcePolicyId")) for s in result.get("MatchedStatements") or ()
             if s.get("SourcePolicyId")}
        )  # fmt: skip
        if decision == "explicitDeny" and policies:
            why = f"explicitly denied by {', '.join(policies)}"
        elif organisation.get("AllowedByOrganizations") is False:
            why = "denied by the organisation's service control policies"
        elif boundary.get("AllowedByPermissionsBoundary") is False:
            why = "outside the permissions boundary"
        elif decision == "explicitDeny":
            why = "explicitly denied"
        else:
            why = f"no policy of {_short(source)} allows it"
        return f"{head}: {why}"
    return None


def _short(arn: str) -> str:
    """`service/prod/web` or `role/teams/deployer`: the resource part of an ARN."""
    return arn.split(":", 5)[5] if arn.count(":") >= 5 else arn


class AccessCheck:
    """The caller's principal, found once, and IAM's answers per service for a while."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self._source: str | None | object = None  # the ARN to simulate, or UNCHECKED
        self._answers: dict[tuple[str, str], tuple[float, str | None]] = {}

    async def denied(self, action: str, resource: str) -> str | None:
        """Why `action` on `resource` is not allowed; None when it is or cannot be
        checked (see the module's docstring)."""
        cached = self._answers.get((action, resource))
        if cached is not None and time.monotonic() - cached[0] < ACCESS_TTL:
            return cached[1]
        try:
            source = await self._principal()
            answer = (
                UNCHECKED
                if source is UNCHECKED
                else await self._simulate(str(source), action, resource)
            )
        except ProviderError as exc:
            return f"could not check permissions: {exc}"
        if answer is UNCHECKED:
            self._source = UNCHECKED  # not asked again: the answer would be the same
            reason = None
        else:
            reason = reason_of(answer, str(source))
        self._answers[action, resource] = (time.monotonic(), reason)
        return reason

    async def _principal(self) -> str | object:
        if self._source is not None:
            return self._source
        sts = self.aws.client("sts")
        identity = await self.aws.call("caller identity", sts.get_caller_identity)
        found = principal_of(str(identity.get("Arn") or ""))
        if found is None:
            self._source = UNCHECKED
        elif found[0] == "role":
            self._source = await self._role_arn(found[1])
        else:
            self._source = found[1]
        return self._source

    async def _role_arn(self, pathless: str) -> str:
        """The role's full ARN, path included, from `iam:GetRole` when allowed."""
        iam = self.aws.client("iam")
        name = pathless.rpartition("/")[2]

        def get() -> str:
            try:
                return str(iam.get_role(RoleName=name)["Role"]["Arn"])
            except Exception as exc:
                if error_code(exc) in DENIED_CODES:
                    return pathless
                raise

        return await self.aws.call(f"role {name}", get)

    async def _simulate(
        self, source: str, action: str, resource: str
    ) -> Mapping[str, Any] | object:
        iam = self.aws.client("iam")

        def simulate() -> Mapping[str, Any] | object:
            try:
                return iam.simulate_principal_policy(
                    PolicySourceArn=source, ActionNames=[action], ResourceArns=[resource]
                )
            except Exception as exc:
                if error_code(exc) in DENIED_CODES:
                    return UNCHECKED
                raise

        return await self.aws.call("access check", simulate)
