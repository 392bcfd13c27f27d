"""`quorum status` and `quorum describe` show a site served by Vercel and Netlify
behind one Cloudflare load balancer as the console does, one row naming the platform
that serves; where every platform calls the site by one name, a change two of them
could make asks which provider to act on instead of taking whichever answered first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ci_support import Quorum, team_config
from tests.cloudflare_fake import FakeCloudflare
from tests.netlify_fake import SITE_ID, FakeNetlify, deploy
from tests.site_support import (
    NETLIFY_HOST,
    VERCEL_CNAME,
    blocks,
    cf_api,
    cf_fixture,
    netlify_api,
    netlify_fixture,
    site_tokens_fixture,
    vercel_api,
    vercel_fixture,
)
from tests.vercel_fake import PROJECT_ID, PROJECT_NAME, FakeVercel, event

__all__ = ["cf_api", "cf_fixture", "netlify_api", "netlify_fixture", "site_tokens_fixture",
           "vercel_api", "vercel_fixture"]  # fmt: skip
pytestmark = pytest.mark.usefixtures("site_tokens")


def quorum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, service: str = "",
) -> Quorum:  # fmt: skip
    config = team_config(tmp_path, blocks(cf, vercel, netlify, service=service))
    return Quorum(config, capsys, monkeypatch, "CLOUDFLARE_API_TOKEN")


def test_status_shows_the_site_as_one_row_naming_the_serving_platform(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    q = quorum(tmp_path, capsys, monkeypatch, cf, vercel, netlify)
    assert q("status") == 0, q.err
    table = q.out.splitlines()
    rows = [line.split() for line in table[1:] if line.startswith("site ")]
    assert [r[:6] for r in rows] == [["site", "production", "vercel+1", "dpl_2", "ready", "1/2"]]
    assert not any(PROJECT_NAME in line or SITE_ID in line for line in table)
    (line,) = [x for x in table if x.startswith("site@production: ")]
    assert line.startswith("site@production: serving vercel ready dpl_2")
    assert "standby netlify failed 66500001" in line

    (row,) = q.json("status")
    assert (row["provider"], row["service"], row["serving"]) == ("edge", "site", "vercel")
    assert (row["revision"], row["ready"], row["desired"]) == ("dpl_2", 1, 2)
    got = [(p["provider"], p["revision"], p["status"], p["serving"], p["enabled"], p["origin"])
           for p in row["platforms"]]  # fmt: skip
    assert got == [
        ("vercel", "dpl_2", "ready", True, True, f"{PROJECT_NAME}.vercel.app"),
        ("netlify", "66500001", "failed", False, True, NETLIFY_HOST),
    ]


def test_after_a_failover_status_names_the_platform_that_serves_now(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    q = quorum(tmp_path, capsys, monkeypatch, cf, vercel, netlify)
    assert q("deploy", "site", "--env", "production", "--revision", "disable:primary") == 0, q.err
    (row,) = q.json("status")
    assert (row["serving"], row["revision"]) == ("netlify", "66500001")
    assert [(p["provider"], p["serving"], p["enabled"]) for p in row["platforms"]] == [
        ("netlify", True, True),
        ("vercel", False, False),
    ]


def test_describe_heads_with_the_site_then_its_platforms_and_origins(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    q = quorum(tmp_path, capsys, monkeypatch, cf, vercel, netlify)
    assert q("describe", "site", "--env", "production") == 0, q.err
    lines = q.out.splitlines()
    assert lines[0].startswith("site@production  edge  ")
    assert "serving vercel ready dpl_2 · standby netlify failed 66500001" in lines[0]
    platforms = lines[lines.index("") + 1 :]
    assert platforms[0].split()[:1] == ["PLATFORM"]
    assert platforms[1].split()[:5] == ["vercel", PROJECT_NAME, "dpl_2", "ready", "serving"]
    assert platforms[2].split()[:5] == ["netlify", SITE_ID, "66500001", "failed", "standby"]
    assert any(VERCEL_CNAME in line for line in lines[4:])  # the front's origins follow

    document = q.json("describe", "site", "--env", "production")
    assert document["target"]["serving"] == "vercel"
    assert [p["provider"] for p in document["target"]["platforms"]] == ["vercel", "netlify"]
    assert VERCEL_CNAME in [pod["node"] for pod in document["pods"]]


def test_one_name_for_every_platform_a_change_asks_for_the_provider(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    netlify.deploys.append(deploy(0, "ready"))  # what a Netlify rollback restores
    q = quorum(tmp_path, capsys, monkeypatch, cf, vercel, netlify, service="site")
    for argv, able in (
        (["deploy", "site", "--revision", "dpl_1"], "edge, netlify, vercel"),
        (["rollback", "site"], "netlify, vercel"),  # a load balancer has no rollback
        (["propose", "deploy", "site", "--revision", "disable:primary"], "edge, netlify, vercel"),
    ):
        assert q(*argv, "--env", "production") == 2
        assert q.err.count("\n") == 1, q.err
        assert f"site@production runs on several providers ({able})" in q.err
        assert "--provider" in q.err
    assert cf.requests("PATCH") == []
    assert vercel.requests("POST") == []
    assert netlify.requests("POST") == []

    assert q("deploy", "site", "--env", "production", "--revision", "dpl_1",
             "--provider", "gitlab") == 2  # fmt: skip
    assert "provider 'gitlab' does not serve site@production" in q.err
    assert "edge, netlify, vercel" in q.err

    assert q("deploy", "site", "--env", "production", "--revision", "dpl_1",
             "--provider", "vercel") == 0, q.err  # fmt: skip
    promote = f"/v10/projects/{PROJECT_ID}/promote/dpl_1"
    assert [r.path for r in vercel.requests("POST")] == [promote]
    assert q("rollback", "site", "--env", "production", "--provider", "netlify") == 0, q.err
    restore = f"/api/v1/sites/{SITE_ID}/deploys/66500000/restore"
    assert [r.path for r in netlify.requests("POST")] == [restore]
    assert cf.requests("PATCH") == []

    # Where one provider alone can do it, that one is meant: only Vercel has build logs,
    # only Netlify a brake.
    vercel.events["dpl_2"] = [event(1, "Build completed")]
    assert q("logs", "site", "--env", "production") == 0, q.err
    assert "Build completed" in q.out
    assert q("pause", "site", "--env", "production") == 0, q.err
    assert len(netlify.requests("POST", "/lock")) == 1
    assert [r.path for r in vercel.requests("POST")] == [promote]

    # Reading is not a change: the one name is the site, as the console shows it.
    (row,) = q.json("status")
    assert (row["provider"], row["serving"]) == ("edge", "vercel")
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert "serving vercel" in q.out.splitlines()[0]
