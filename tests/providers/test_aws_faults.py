"""Credentials, a hanging endpoint and throttling: one line naming the provider, and
every other provider carries on."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli.main import main
from console.engine.hub import Hub
from console.engine.session import open_session
from providers.aws.ecs import EcsProvider
from providers.base import ProviderContext, ProviderTimeout
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    REGION,
    Hanging,
    Proxy,
    aws_env,
    cluster,
    ecs_service,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
    register,
)

SECRET = "quorum-test-secret-value"


def config(tmp_path: Path, url: str, **extra: object) -> Path:
    lines = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in extra.items())
    path = tmp_path / "quorum.toml"
    path.write_text(
        f"""
[team]
name = "collective"

[[providers]]
name = "demo"
kind = "sandbox"
platform = "kubernetes"

[[providers]]
name = "aws-prod"
kind = "ecs"
region = "{REGION}"
endpoint_url = "{url}"
environments = {{ production = "prod" }}
{lines}
"""
    )
    return path


def status(path: Path, capsys) -> tuple[int, str, str]:
    code = main(["status", "--config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_no_credentials_is_one_line_and_the_sandbox_still_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    aws_env(monkeypatch, tmp_path)
    code, out, err = status(config(tmp_path, "http://127.0.0.1:9"), capsys)
    assert code == 1
    assert "demo" in out  # the sandbox's rows
    [line] = err.splitlines()
    assert line == (
        "quorum: provider aws-prod (ecs) failing: auth: AWS provider aws-prod (the default "
        "credential chain): no credentials found; run `aws sso login (or set AWS_PROFILE / "
        "AWS_ACCESS_KEY_ID)`"
    )


def test_a_profile_that_does_not_exist_names_the_login_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    aws_env(monkeypatch, tmp_path)
    code, _, err = status(config(tmp_path, "http://127.0.0.1:9", profile="ops"), capsys)
    assert code == 1
    assert err.strip().endswith(
        "AWS provider aws-prod (profile ops): profile not found in the AWS config; "
        "run `aws sso login --profile ops`"
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [("UnrecognizedClientException", "credentials rejected"),
     ("ExpiredTokenException", "credentials expired")],
)  # fmt: skip
def test_rejected_or_expired_credentials(
    moto: str, proxy: Proxy, tmp_path: Path, capsys, code: str, words: str
) -> None:
    proxy.credentials_error = code
    (tmp_path / "aws-credentials").write_text(
        f"[ops]\naws_access_key_id = AKIDQUORUMTEST\naws_secret_access_key = {SECRET}\n"
    )
    exit_code, out, err = status(config(tmp_path, proxy.url, profile="ops"), capsys)
    assert exit_code == 1 and "demo" in out
    [line] = err.splitlines()
    assert f"AWS provider aws-prod (profile ops): {words} ({code})" in line
    assert "run `aws sso login --profile ops`" in line
    assert "AKIDQUORUMTEST" not in err + out and SECRET not in err + out


def test_throttling_is_retried_with_backoff(moto: str, proxy: Proxy, tmp_path: Path, capsys):
    cluster(moto, "prod")
    ecs_service(moto, "prod", "web", register(moto, "web", "registry.example/web:1.0"))
    proxy.throttle["ListServices"] = 2
    code, out, err = status(config(tmp_path, proxy.url), capsys)
    assert code == 0, err
    assert "web" in out
    assert proxy.counts["ListServices"] == 3


def test_throttling_that_never_ends_is_one_line(moto: str, proxy: Proxy, tmp_path: Path):
    """Read without the hub's time limit, which would otherwise end the backoff first."""
    cluster(moto, "prod")
    proxy.throttle["ListServices"] = None
    settings = {"region": REGION, "endpoint_url": proxy.url, "environments": {"p": "prod"}}

    async def take() -> None:
        made = EcsProvider("aws-prod", settings, ProviderContext(tmp_path))
        try:
            await made.snapshot()
        finally:
            await made.close()

    with pytest.raises(ProviderTimeout) as caught:
        asyncio.run(take())
    assert str(caught.value) == (
        "timeout: list services of prod: throttled by AWS (ThrottlingException) after retries"
    )
    assert proxy.counts["ListServices"] > 3  # retried by botocore's adaptive mode first


def test_a_hanging_endpoint_leaves_the_other_providers_updating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDQUORUMTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    hanging = Hanging()
    path = config(tmp_path, hanging.url, call_timeout=1)
    args = argparse.Namespace(config=str(path), sandbox=False, readonly=True)

    async def run() -> tuple[int, str | None]:
        session = open_session(args)
        polls: dict[str, int] = {"demo": 0, "aws-prod": 0}
        failed = asyncio.Event()

        def seen(state) -> None:
            polls[state.name] += 1
            if state.name == "aws-prod" and state.error:
                failed.set()

        hub = Hub(session, interval=0.05, timeout=0.5, on_update=seen)
        hub.start()
        try:
            await asyncio.wait_for(failed.wait(), 60)
            baseline = polls["demo"]
            while polls["demo"] < baseline + 3:  # still updating while AWS hangs
                await asyncio.sleep(0.01)
            return polls["demo"], hub.states["aws-prod"].error
        finally:
            await hub.stop()
            await session.close()

    try:
        demo_polls, error = asyncio.run(run())
    finally:
        hanging.close()
    assert demo_polls >= 3
    assert error == "timeout: no answer in time"


def test_status_against_a_hanging_endpoint_says_so_and_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The call's own timeout is far longer than the hub's: the command answers at the
    hub's limit and exits then, not after the abandoned call's retries."""
    aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDQUORUMTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    hanging = Hanging()
    path = config(tmp_path, hanging.url, call_timeout=300)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "console", "status", "--config", str(path)],
            capture_output=True, text=True, timeout=200,
        )  # fmt: skip
    finally:
        hanging.close()
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "quorum: provider aws-prod (ecs) failing: timeout: no answer in time"
    ]
    assert "demo" in result.stdout


def test_an_sso_profile_without_a_session_says_to_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """botocore reads the SSO token cache before any call: no network is involved."""
    aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.aws/sso/cache
    (tmp_path / "aws-config").write_text(
        "[profile ops]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = Ops\nregion = eu-west-1\n\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.example/start\n"
        "sso_region = eu-west-1\n"
    )
    code, out, err = status(config(tmp_path, "http://127.0.0.1:9", profile="ops"), capsys)
    assert code == 1 and "demo" in out
    assert err.splitlines() == [
        "quorum: provider aws-prod (ecs) failing: auth: AWS provider aws-prod (profile ops): "
        "the SSO session has expired; run `aws sso login --profile ops`"
    ]
