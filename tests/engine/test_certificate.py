"""`quorum certificate verify`: signed acts checked with only the allowed-signers file."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain import certificate
from console.domain.acts import Content, OverrideAct, ProposalAct, VoteAct
from console.domain.consensus import Kind, State
from console.domain.derive import Facts, Signed, derive
from console.domain.model import TargetRef
from console.domain.settings import Policy
from tests.signing_support import SshTeam, start_team

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = Policy("production", min_approvals=2)
CONTENT = Content(12, 1, Kind.DEPLOY, TargetRef("main", "web", "production", "dep/web"), "v2", None)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTeam]:
    root = tmp_path_factory.mktemp("team")
    yield from start_team(root, ("alice", "bob", "carol"), outsiders=("mallory",))


def _signed_vote(team: SshTeam, voter: str, minutes: int, signer: str = "") -> Signed[VoteAct]:
    act = VoteAct(12, 1, voter, True, T0 + timedelta(minutes=minutes), "looks good")
    return Signed(act, team.sign_as(signer or voter, act.message(CONTENT)))


def _vote_entry(signed: Signed[VoteAct]) -> dict[str, object]:
    act = signed.act
    return {
        "version": act.version,
        "voter": act.voter,
        "vote": "approve",
        "comment": act.comment,
        "at": act.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "signature": signed.signature,
    }


@pytest.fixture(scope="module")
def document(team: SshTeam) -> dict[str, object]:
    proposal = ProposalAct(CONTENT, "alice", "release 2", T0)
    facts = Facts(
        Signed(proposal, team.sign_as("alice", proposal.message())),
        votes=(_signed_vote(team, "bob", 5), _signed_vote(team, "carol", 7)),
    )
    derived = derive(
        facts,
        POLICY,
        T0 + timedelta(minutes=8),
        verify=team.allowed().valid,
        members=frozenset(team.members),
    )
    assert derived.proposal.state is State.APPROVED
    return certificate.build(derived)


def verify_cli(tmp_path: Path, team: SshTeam, doc: object, *extra: str) -> tuple[int, str]:
    """Runs the command in a clean environment: no config, no data, no agent."""
    cert = tmp_path / "cert.json"
    cert.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-m", "console", "certificate", "verify", str(cert)]
        + ["--allowed-signers", str(team.allowed_path), *extra],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_certificate_verifies_with_only_the_allowed_signers(
    tmp_path: Path, team: SshTeam, document: dict
) -> None:
    code, out = verify_cli(tmp_path, team, document, "--policy", "production")
    assert code == 0, out
    assert out.splitlines()[0] == (
        "ok: proposal 12 (deploy web@production to v2), approved by bob, carol; production policy"
    )


def test_a_certificate_with_a_vote_removed_fails(
    tmp_path: Path, team: SshTeam, document: dict
) -> None:
    doc = copy.deepcopy(document)
    doc["votes"].pop()
    code, out = verify_cli(tmp_path, team, doc)
    assert code == 1
    assert "the verified acts leave the proposal open" in out


def test_a_vote_re_signed_by_a_non_member_fails(
    tmp_path: Path, team: SshTeam, document: dict
) -> None:
    doc = copy.deepcopy(document)
    doc["votes"][1] = _vote_entry(_signed_vote(team, "carol", 7, signer="mallory"))
    code, out = verify_cli(tmp_path, team, doc)
    assert code == 1
    assert "vote by carol does not count: the signature is not carol's" in out
    doc["votes"][1] = _vote_entry(_signed_vote(team, "mallory", 7))
    code, out = verify_cli(tmp_path, team, doc)
    assert code == 1
    assert "vote by mallory does not count: mallory is not a member of the team" in out


def test_an_edited_revision_fails(tmp_path: Path, team: SshTeam, document: dict) -> None:
    doc = copy.deepcopy(document)
    doc["proposal"]["revision"] = "v2-evil"
    code, out = verify_cli(tmp_path, team, doc)
    assert code == 1
    assert "proposal by alice does not count: the signature is not alice's" in out
    assert "leave the proposal invalid" in out


def test_a_certificate_short_of_a_stricter_policy_or_for_other_things_fails(
    tmp_path: Path, team: SshTeam, document: dict
) -> None:
    code, out = verify_cli(tmp_path, team, document, "--min-approvals", "3")
    assert code == 1 and "leave the proposal open" in out
    code, out = verify_cli(tmp_path, team, document, "--revision", "v3", "--service", "api")
    assert code == 1
    assert "approves revision v2, not v3" in out and "for service web, not api" in out
    code, out = verify_cli(tmp_path, team, document, "--policy", "staging")
    assert code == 1 and "the certificate is for production, the policy for staging" in out


def test_an_override_certificate_verifies_unless_overrides_are_refused(
    tmp_path: Path, team: SshTeam
) -> None:
    proposal = ProposalAct(CONTENT, "alice", "hotfix", T0)
    override = OverrideAct(12, 1, "bob", "site down", T0 + timedelta(minutes=1))
    facts = Facts(
        Signed(proposal, team.sign_as("alice", proposal.message())),
        overrides=(Signed(override, team.sign_as("bob", override.message(CONTENT))),),
    )
    derived = derive(
        facts,
        POLICY,
        T0 + timedelta(minutes=2),
        verify=team.allowed().valid,
        members=frozenset(team.members),
    )
    doc = certificate.build(derived)
    code, out = verify_cli(tmp_path, team, doc, "--json")
    assert code == 0, out
    assert json.loads(out)["override"] == "bob"
    code, out = verify_cli(tmp_path, team, doc, "--no-override")
    assert code == 1 and "approved by an override (bob), which this check refuses" in out


def test_a_file_that_is_no_certificate_is_one_line_exit_2(tmp_path: Path, team: SshTeam) -> None:
    code, out = verify_cli(tmp_path, team, "{not json")
    assert code == 2 and out.startswith("quorum: certificate ") and len(out.splitlines()) == 1
    code, out = verify_cli(tmp_path, team, {"format": "quorum-certificate/1", "proposal": {}})
    assert code == 2 and out == "quorum: malformed certificate: field 'id' is missing\n"
