"""`quorum deploy --reason`: the why of a change is kept, wherever the change goes."""

from __future__ import annotations

import json

import pytest

from console.cli.main import main


def _audit(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert main(["audit", "tail", "--json", "--sandbox"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_direct_deploy_keeps_its_reason_in_the_audit_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = "hotfix: the cart drops items"
    assert main(["deploy", "api", "--env", "staging", "--revision", "v3.1.0",
                 "--reason", reason, "--sandbox"]) == 0  # fmt: skip
    capsys.readouterr()
    started = [r for r in _audit(capsys) if r["outcome"] == "started"]
    assert [(r["action"], r["revision"]) for r in started] == [("deploy", "v3.1.0")]
    assert started[0]["comment"] == f"direct; {reason}"


def test_a_gated_deploy_makes_its_reason_the_proposals(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    reason = "release 3.1"
    code = main(["deploy", "api", "--env", "production", "--revision", "v3.1.0",
                 "--reason", reason, "--json", "--sandbox"])  # fmt: skip
    out, err = capsys.readouterr()
    proposal = json.loads(out)
    assert (code, proposal["reason"]) == (3, reason)
    # Told to the proposer, who may not approve their own change here.
    assert err.rstrip().endswith(
        f"; the other members vote with `quorum vote {proposal['id']} approve|reject`"
    )


def test_a_reason_with_nothing_visible_is_refused_and_nothing_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["deploy", "api", "--env", "staging", "--revision", "v3.1.0",
                 "--reason", "\u200b\u2060", "--sandbox"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err == "quorum: a change's reason (--reason) must have visible text\n"
    assert _audit(capsys) == []
