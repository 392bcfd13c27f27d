"""The ECS provider's access check: IAM's policy simulator decides what is offered.

moto models neither the simulator nor whose policies apply, so STS and IAM are
answered by tests.aws_wire.Iam in front of moto (which keeps the ECS side): the
caller is an assumed role with a path, whose policies the server evaluates.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.cli.main import main
from console.domain.model import TargetRef
from providers.aws.ecs import EcsProvider
from providers.aws.ecs_access import principal_of
from providers.base import Capability, ProviderContext
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    ACCOUNT,
    REGION,
    Proxy,
    client,
    ecs_config,
    iam_fixture,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
)
from tests.aws_wire import Iam

EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecs-task-execution"

WEB = TargetRef("aws", "web", "production", "prod/web")
STAGE_WEB = TargetRef("aws", "web", "staging", "stage/web")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/teams/deployer"


def ask(proxy: Proxy, tmp_path: Path, *questions: tuple[TargetRef, Capability]) -> list:
    settings = {"region": REGION, "endpoint_url": proxy.url,
                "environments": {"production": "prod", "staging": "stage"}}  # fmt: skip

    async def go():
        made = EcsProvider("aws", settings, ProviderContext(tmp_path))
        try:
            await made.snapshot()
            return [await made.denied(ref, capability) for ref, capability in questions]
        finally:
            await made.close()

    return asyncio.run(go())


def service_arn(moto: str, cluster_name: str) -> str:
    ecs = client(moto, "ecs")
    return ecs.describe_services(cluster=cluster_name, services=["web"])["services"][0][
        "serviceArn"
    ]


def test_the_simulator_allows_prod_and_denies_stage_for_the_callers_role(
    moto: str, proxy: Proxy, iam: Iam, tmp_path: Path
) -> None:
    answers = ask(
        proxy, tmp_path, (WEB, Capability.SCALE), (STAGE_WEB, Capability.DEPLOY),
        (WEB, Capability.ROLLBACK), (STAGE_WEB, Capability.RESTART),
    )  # fmt: skip
    denial = (
        "not allowed to ecs:UpdateService on service/stage/web: "
        "no policy of role/teams/deployer allows it"
    )
    assert answers == [None, denial, None, denial]
    # The role's ARN with its path (from GetRole), the service's own ARN from ECS.
    assert iam.simulations == [
        {"source": [ROLE_ARN], "actions": ["ecs:UpdateService"],
         "resources": [service_arn(moto, "prod")]},
        {"source": [ROLE_ARN], "actions": ["ecs:UpdateService"],
         "resources": [service_arn(moto, "stage")]},
    ]  # fmt: skip
    # One identity, one role lookup; each service asked once, then the answer reused.
    assert iam.counts == {"GetCallerIdentity": 1, "GetRole": 1, "SimulatePrincipalPolicy": 2}


def test_an_explicit_deny_is_named_by_its_policy(proxy: Proxy, iam: Iam, tmp_path: Path) -> None:
    iam.roles["deployer"].deny = {"ecs:UpdateService": ["*:service/prod/web"]}
    [scale] = ask(proxy, tmp_path, (WEB, Capability.SCALE))
    assert scale == (
        "not allowed to ecs:UpdateService on service/prod/web: "
        "explicitly denied by deployer-guardrail"
    )


def test_credentials_that_may_not_simulate_are_offered_unchecked(
    proxy: Proxy, iam: Iam, tmp_path: Path
) -> None:
    iam.simulate_denied = True
    answers = ask(proxy, tmp_path, (STAGE_WEB, Capability.SCALE), (WEB, Capability.SCALE))
    assert answers == [None, None]
    assert iam.counts["SimulatePrincipalPolicy"] == 1  # not asked again


def test_a_denied_scale_is_refused_before_anything_changes(
    moto: str, proxy: Proxy, iam: Iam, tmp_path: Path, capsys
) -> None:
    config = ecs_config(tmp_path, proxy.url)
    common = ["--env", "staging", "--config", str(config)]
    assert main(["scale", "web", *common, "--replicas", "5"]) == 3
    err = capsys.readouterr().err
    assert "aws does not allow this scale: not allowed to ecs:UpdateService" in err
    stage = client(moto, "ecs").describe_services(cluster="stage", services=["web"])["services"]
    assert stage[0]["desiredCount"] == 2
    assert main(["audit", "tail", "--json", "--config", str(config)]) == 0
    assert '"scale"' not in capsys.readouterr().out  # nothing attempted, nothing recorded
    # The same person may scale production.
    assert main(["scale", "web", "--env", "production", "--replicas", "3",
                 "--config", str(config)]) == 0  # fmt: skip
    prod = client(moto, "ecs").describe_services(cluster="prod", services=["web"])["services"]
    assert prod[0]["desiredCount"] == 3


def test_a_new_image_needs_leave_to_register_and_pass_the_revisions_roles(
    moto: str, proxy: Proxy, iam: Iam, tmp_path: Path, capsys
) -> None:
    ecs = client(moto, "ecs")
    current = ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    td = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])["taskDefinition"]
    with_role = ecs.register_task_definition(
        family="web", containerDefinitions=td["containerDefinitions"],
        executionRoleArn=EXECUTION_ROLE,
    )["taskDefinition"]  # fmt: skip
    config = ecs_config(tmp_path, proxy.url)
    common = ["--env", "production", "--config", str(config)]
    # A registered revision needs only UpdateService, which the role has.
    revision = f"web:{with_role['revision']}"
    assert main(["deploy", "web", *common, "--revision", revision]) == 0
    capsys.readouterr()

    def deploy_image() -> tuple[int, str]:
        code = main(["deploy", "web", *common, "--revision", "2.0"])
        return code, capsys.readouterr().err

    code, err = deploy_image()
    assert code == 2
    assert "not allowed to ecs:RegisterTaskDefinition: no policy of role/teams/deployer" in err
    iam.roles["deployer"].allow["ecs:RegisterTaskDefinition"] = ["*"]
    iam.simulations.clear()
    code, err = deploy_image()
    assert code == 2
    assert "not allowed to iam:PassRole on role/ecs-task-execution: no policy of" in err
    iam.roles["deployer"].allow["iam:PassRole"] = [EXECUTION_ROLE]
    iam.simulations.clear()
    code, err = deploy_image()
    assert code == 0, err
    service = ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    image = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    assert image["taskDefinition"]["containerDefinitions"][0]["image"] == "registry.example/web:2.0"
    assert [s["actions"] for s in iam.simulations] == [
        ["ecs:UpdateService"], ["ecs:RegisterTaskDefinition"], ["iam:PassRole"],
    ]  # fmt: skip


def test_what_the_caller_simulates_as() -> None:
    assert principal_of(f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice") == (
        "role", f"arn:aws:iam::{ACCOUNT}:role/deployer",
    )  # fmt: skip
    user = f"arn:aws:iam::{ACCOUNT}:user/ops/alice"
    assert principal_of(user) == ("user", user)
    assert principal_of(f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/r/s") == (
        "role", f"arn:aws-cn:iam::{ACCOUNT}:role/r",
    )  # fmt: skip
    # The root and federated users cannot be simulated: left to ECS.
    assert principal_of(f"arn:aws:iam::{ACCOUNT}:root") is None
    assert principal_of(f"arn:aws:sts::{ACCOUNT}:federated-user/bob") is None
