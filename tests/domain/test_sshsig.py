"""SSH signatures through a real ssh-agent, checked in-process and by OpenSSH itself."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.domain.signers import parse_allowed_signers
from console.domain.sshsig import Signature, SignatureError, verify
from console.signing.agent import Agent, AgentError
from console.signing.signer import Signer
from tests.signing_support import SshTeam, start_team


@pytest.fixture
def team(tmp_path: Path) -> Iterator[SshTeam]:
    yield from start_team(tmp_path, ("alice", "bob"), outsiders=("mallory",))


def test_the_agent_signs_what_ssh_keygen_verifies(team: SshTeam, tmp_path: Path) -> None:
    message = "vote: deploy web@production to v2 ✓".encode()
    signature = Signature.from_text(team.sign_as("alice", message))
    verify(signature, message)
    (tmp_path / "sig").write_text(signature.armored())
    result = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(team.allowed_path), "-I", "alice"]
        + ["-n", "quorum", "-s", str(tmp_path / "sig")],
        input=message,
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr
    assert b'Good "quorum" signature for alice' in result.stdout


def test_what_ssh_keygen_signs_through_the_agent_verifies_here(
    team: SshTeam, tmp_path: Path
) -> None:
    message = tmp_path / "act"
    message.write_bytes(b"an act")
    public = tmp_path / "bob.pub"
    public.write_text(team.public["bob"] + "\n")
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(public), "-n", "quorum", str(message)],
        env={**os.environ, "SSH_AUTH_SOCK": str(team.socket)},
        check=True,
        capture_output=True,
    )
    armored = (tmp_path / "act.sig").read_text()
    allowed = team.allowed()
    allowed.check("bob", b"an act", armored)
    assert not allowed.valid("bob", b"an act, edited", armored)
    assert not allowed.valid("alice", b"an act", armored)  # bob's key does not speak for alice


def test_a_signature_for_another_namespace_does_not_verify(team: SshTeam, tmp_path: Path) -> None:
    (tmp_path / "m").write_bytes(b"m")
    (tmp_path / "alice.pub").write_text(team.public["alice"] + "\n")
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(tmp_path / "alice.pub"), "-n", "git"]
        + [str(tmp_path / "m")],
        env={**os.environ, "SSH_AUTH_SOCK": str(team.socket)},
        check=True,
        capture_output=True,
    )
    with pytest.raises(SignatureError, match="namespace 'git'"):
        verify(Signature.from_text((tmp_path / "m.sig").read_text()), b"m")


def test_a_key_outside_the_allowed_signers_is_refused(team: SshTeam) -> None:
    forged = team.sign_as("mallory", b"approve")
    with pytest.raises(SignatureError, match="do not give to alice"):
        team.allowed().check("alice", b"approve", forged)


def test_the_signer_uses_the_members_key_and_refuses_without_one(team: SshTeam) -> None:
    allowed = team.allowed()
    alice = Signer("alice", allowed, team.agent())
    assert alice.key() == team.key_of("alice")
    assert allowed.valid("alice", b"x", alice.sign(b"x"))
    alice.close()
    with pytest.raises(AgentError, match="mallory has no key"):
        Signer("mallory", allowed, team.agent()).sign(b"x")


def test_a_member_whose_key_the_agent_lacks_is_told_so(team: SshTeam, tmp_path: Path) -> None:
    other = SshTeam(tmp_path / "other", ("alice",))
    try:
        with pytest.raises(AgentError, match="holds none of alice's keys"):
            Signer("alice", team.allowed(), other.agent()).sign(b"x")
    finally:
        other.stop()


def test_no_agent_is_a_clear_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(AgentError, match="SSH_AUTH_SOCK is not set"):
        Agent()
    with pytest.raises(AgentError, match="ssh-agent at"):
        Agent(str(tmp_path / "nothing.sock")).identities()


@pytest.mark.parametrize(("kind", "bits"), [("ecdsa", "256"), ("ecdsa", "521"), ("rsa", "2048")])
def test_ecdsa_and_rsa_keys_sign_and_verify(
    team: SshTeam, tmp_path: Path, kind: str, bits: str
) -> None:
    key = tmp_path / f"id_{kind}"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-b", bits, "-N", "", "-f", str(key)], check=True
    )
    subprocess.run(
        ["ssh-add", "-q", str(key)],
        env={**os.environ, "SSH_AUTH_SOCK": str(team.socket)},
        check=True,
        capture_output=True,
    )
    line = (tmp_path / f"id_{kind}.pub").read_text()
    allowed = parse_allowed_signers(f"carol {line}")
    signer = Signer("carol", allowed, team.agent())
    signature = signer.sign(b"scale web to 3")
    assert allowed.valid("carol", b"scale web to 3", signature)
    assert not allowed.valid("carol", b"scale web to 4", signature)
    if kind == "rsa":
        assert Signature.from_text(signature).algorithm == "rsa-sha2-512"
    signer.close()


def test_allowed_signers_lines_that_grant_nothing_are_reported(team: SshTeam) -> None:
    key = team.public["alice"]
    text = (
        "# the team's keys\n"
        f"alice {key}\n"
        f'bob namespaces="git" {team.public["bob"]}\n'
        f"*@example.org {key}\n"
        f'carol valid-after="20260101" {key}\n'
        "dave ssh-ed25519 not-base64!\n"
    )
    allowed = parse_allowed_signers(text, "signers")
    assert allowed.principals == {"alice"}  # bob's line is for git only
    assert [p.split(":")[1] for p in allowed.problems] == ["4", "5", "6"]
    assert "wildcard" in allowed.problems[0] and "valid-after" in allowed.problems[1]
