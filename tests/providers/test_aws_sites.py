"""Static sites on S3 + CloudFront: upload of changed files, invalidation, rollback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.model import RolloutStatus, Target, TargetRef
from providers.aws.site import StaticSiteProvider
from providers.base import ProviderContext
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    REGION,
    Proxy,
    client,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
)
from tests.aws_wire import CloudFront

BUCKET = "collective-docs"


def distribution(url: str) -> str:
    answer = client(url, "cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "docs",
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "s3", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0},
            "Comment": "docs", "Enabled": True,
        }
    )  # fmt: skip
    return answer["Distribution"]["Id"]


def site_config(
    tmp_path: Path, url: str, dist: str, min_approvals: int = 0, extra: str = ""
) -> Path:
    path = tmp_path / "quorum.toml"
    path.write_text(
        f"""
[team]
name = "collective"

[policy.production]
min_approvals = {min_approvals}

[[providers]]
name = "sites"
kind = "static-site"
region = "{REGION}"
endpoint_url = "{url}"
sites = {{ docs = {{ bucket = "{BUCKET}", distribution = "{dist}" }} }}
{extra}
"""
    )
    return path


def build(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def world(moto: str, tmp_path: Path) -> tuple[str, Path]:
    client(moto, "s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return distribution(moto), tmp_path


def deploy(config: Path, folder: Path) -> list[str]:
    return ["deploy", "docs", "--env", "production", "--revision", str(folder),
            "--config", str(config)]  # fmt: skip


async def revisions(url: str, dist: str, tmp_path: Path) -> list:
    settings = {"region": REGION, "endpoint_url": url,
                "sites": {"docs": {"bucket": BUCKET, "distribution": dist}}}  # fmt: skip
    made = StaticSiteProvider("sites", settings, ProviderContext(tmp_path))
    try:
        return await made.revisions(TargetRef("sites", "docs", "production", "docs"))
    finally:
        await made.close()


def body(url: str, key: str) -> str:
    return client(url, "s3").get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def test_deploy_uploads_only_changed_files_then_invalidates(
    moto: str, proxy: Proxy, world: tuple[str, Path], capsys
) -> None:
    dist, tmp_path = world
    config = site_config(tmp_path, proxy.url, dist)
    one = build(tmp_path / "v1", {"index.html": "<h1>v1</h1>", "app.js": "1", "img/a.svg": "a"})
    assert main(deploy(config, one)) == 0, capsys.readouterr().err
    assert proxy.counts[f"PUT /{BUCKET}/index.html"] == 1
    two = build(tmp_path / "v2", {"index.html": "<h1>v2</h1>", "app.js": "1", "img/a.svg": "a"})
    proxy.counts.clear()
    assert main(deploy(config, two)) == 0
    captured = capsys.readouterr()
    puts = sorted(op for op, n in proxy.counts.items() for _ in range(n) if op.startswith("PUT "))
    # One changed file and the manifest; the unchanged files are not sent again.
    assert puts == [f"PUT /{BUCKET}/.quorum/deploy.json", f"PUT /{BUCKET}/index.html"]
    assert "1 uploaded, 2 unchanged, 0 removed" in captured.out
    assert "1/1 docs: uploaded index.html" in captured.err  # the progress on stderr
    assert body(moto, "index.html") == "<h1>v2</h1>"
    invalidations = client(moto, "cloudfront").list_invalidations(DistributionId=dist)
    assert invalidations["InvalidationList"]["Quantity"] == 2
    manifest = json.loads(body(moto, ".quorum/deploy.json"))
    assert set(manifest["files"]) == {"index.html", "app.js", "img/a.svg"}
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(config)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["revision"] == manifest["version"] and row["status"] == "ready"


def test_rollback_restores_the_previous_deploy_on_a_versioned_bucket(
    moto: str, world: tuple[str, Path], capsys
) -> None:
    dist, tmp_path = world
    client(moto, "s3").put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    config = site_config(tmp_path, moto, dist)
    one = build(tmp_path / "v1", {"index.html": "v1", "old.css": "x"})
    two = build(tmp_path / "v2", {"index.html": "v2", "new.css": "y"})
    assert main(deploy(config, one)) == 0, capsys.readouterr().err
    first = json.loads(body(moto, ".quorum/deploy.json"))["version"]
    assert main(deploy(config, two)) == 0
    second = json.loads(body(moto, ".quorum/deploy.json"))["version"]
    keys = {o["Key"] for o in client(moto, "s3").list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "old.css" not in keys and "new.css" in keys
    capsys.readouterr()
    rollback = ["rollback", "docs", "--env", "production", "--config", str(config)]
    assert main(rollback) == 0, capsys.readouterr().err
    assert f"rolled back to {first}" in capsys.readouterr().out
    assert body(moto, "index.html") == "v1" and body(moto, "old.css") == "x"
    keys = {o["Key"] for o in client(moto, "s3").list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "new.css" not in keys
    assert json.loads(body(moto, ".quorum/deploy.json"))["version"] == first
    history = asyncio.run(revisions(moto, dist, tmp_path))
    assert [(r.id, r.current) for r in history] == [(first, True), (second, False), (first, False)]


def test_rollback_on_an_unversioned_bucket_is_refused_plainly(
    moto: str, world: tuple[str, Path], capsys
) -> None:
    dist, tmp_path = world
    config = site_config(tmp_path, moto, dist)
    assert main(deploy(config, build(tmp_path / "v1", {"index.html": "v1"}))) == 0
    assert main(deploy(config, build(tmp_path / "v2", {"index.html": "v2"}))) == 0
    capsys.readouterr()
    assert main(["rollback", "docs", "--env", "production", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"bucket {BUCKET} is not versioned" in out
    assert body(moto, "index.html") == "v2"


def test_a_production_site_deploy_waits_for_consensus(
    moto: str, world: tuple[str, Path], capsys
) -> None:
    dist, tmp_path = world
    config = site_config(tmp_path, moto, dist, min_approvals=2)
    assert main(deploy(config, build(tmp_path / "v1", {"index.html": "v1"}))) == 3
    assert "needs consensus" in capsys.readouterr().err
    assert "Contents" not in client(moto, "s3").list_objects_v2(Bucket=BUCKET)


# --- CloudFront rollouts: moto reports every distribution and invalidation done at once,
# so these run against tests.aws_wire.CloudFront, which keeps them InProgress until told.

DIST = "E2QUORUMDOCS"


@pytest.fixture
def cloudfront(moto: str, proxy: Proxy) -> CloudFront:
    client(moto, "s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    front = CloudFront()
    proxy.fronts.append(front)
    return front


def test_a_site_is_progressing_until_cloudfront_has_deployed_and_invalidated(
    proxy: Proxy, cloudfront: CloudFront, tmp_path: Path
) -> None:
    dist = cloudfront.add(DIST, status="InProgress")
    # An hour between reads: only `rollout_interval`, used while a row is progressing,
    # can bring the later states in.
    settings = {"region": REGION, "endpoint_url": proxy.url, "poll_interval": 3600,
                "rollout_interval": 0.1,
                "sites": {"docs": {"bucket": BUCKET, "distribution": DIST}}}  # fmt: skip

    async def until(made: StaticSiteProvider, done) -> Target:
        for _ in range(200):
            [row] = (await made.snapshot()).targets
            if done(row):
                return row
            await asyncio.sleep(0.05)
        return row

    async def go() -> list[Target]:
        made = StaticSiteProvider("sites", settings, ProviderContext(tmp_path))
        try:
            [deploying] = (await made.snapshot()).targets
            dist.status = "Deployed"
            ident = cloudfront.invalidate(DIST, ["/*"])
            invalidating = await until(made, lambda t: ident in t.message)
            dist.invalidations[0].status = "Completed"
            done = await until(made, lambda t: t.status is RolloutStatus.READY)
            return [deploying, invalidating, done]
        finally:
            await made.close()

    deploying, invalidating, done = asyncio.run(go())
    assert (deploying.status, deploying.ready) == (RolloutStatus.PROGRESSING, 0)
    assert deploying.message.startswith("distribution InProgress")
    ident = dist.invalidations[0].ident
    assert (invalidating.status, invalidating.ready) == (RolloutStatus.PROGRESSING, 1)
    assert f"distribution Deployed; last invalidation {ident} InProgress" in invalidating.message
    assert (done.status, done.ready) == (RolloutStatus.READY, 1)
    assert f"last invalidation {ident} Completed" in done.message


def test_a_deploy_follows_its_invalidation_until_completed(
    moto: str, proxy: Proxy, cloudfront: CloudFront, tmp_path: Path, capsys
) -> None:
    cloudfront.add(DIST).completes_after = 2  # InProgress for two reads, then Completed
    config = site_config(tmp_path, proxy.url, DIST, extra="rollout_interval = 0.1")
    assert main(deploy(config, build(tmp_path / "v1", {"index.html": "v1"}))) == 0
    captured = capsys.readouterr()
    [made] = cloudfront.distributions[DIST].invalidations
    assert made.paths == ["/index.html"]
    assert f"invalidation {made.ident} Completed" in captured.out
    assert f"0/1 docs: invalidation {made.ident} of 1 paths InProgress" in captured.err
    assert f"1/1 docs: invalidation {made.ident} Completed" in captured.err
    assert cloudfront.counts["GetInvalidation"] == 3
    assert main(["status", "--json", "--config", str(config)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "ready"


def test_a_deploy_that_stops_following_leaves_the_row_progressing(
    moto: str, proxy: Proxy, cloudfront: CloudFront, tmp_path: Path, capsys
) -> None:
    cloudfront.add(DIST)  # its invalidations stay InProgress until told
    config = site_config(tmp_path, proxy.url, DIST, extra="rollout_timeout = 0")
    assert main(deploy(config, build(tmp_path / "v1", {"index.html": "v1"}))) == 0
    [made] = cloudfront.distributions[DIST].invalidations
    assert f"invalidation {made.ident} still InProgress (followed on its row)" in (
        capsys.readouterr().out
    )
    assert cloudfront.counts["GetInvalidation"] == 0
    assert main(["status", "--json", "--config", str(config)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "progressing"


def test_an_invalidation_that_cannot_be_read_ends_the_deploy_saying_so(
    moto: str, proxy: Proxy, cloudfront: CloudFront, tmp_path: Path, capsys
) -> None:
    cloudfront.add(DIST)
    cloudfront.invalidation_denied = True
    config = site_config(tmp_path, proxy.url, DIST, extra="rollout_interval = 0.1")
    assert main(deploy(config, build(tmp_path / "v1", {"index.html": "v1"}))) == 0
    [made] = cloudfront.distributions[DIST].invalidations
    out = capsys.readouterr().out
    assert f"invalidation {made.ident} InProgress (no longer followed: auth: " in out
    assert "access denied: not authorized to perform: cloudfront:GetInvalidation" in out
    assert body(moto, "index.html") == "v1"  # the deploy itself stands
