"""Real SSH keys for the signing tests: an ssh-agent started here, keys made by ssh-keygen.

`SshTeam` starts `ssh-agent` on a socket in a temporary directory, makes one ed25519
key per member with `ssh-keygen`, loads the members' keys into the agent with
`ssh-add` and writes the allowed-signers file a team would keep. Outsiders get keys
too (in the agent, not in the file), to sign as someone the team never listed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.domain.signers import AllowedSigners, parse_allowed_signers
from console.domain.sshsig import PublicKey, Signature, assemble, signed_data, ssh_string
from console.signing.agent import Agent

TOOLS = ("ssh-agent", "ssh-keygen", "ssh-add")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class SshTeam:
    def __init__(self, root: Path, members: tuple[str, ...], outsiders: tuple[str, ...] = ()):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.members = members
        # A socket path must stay under ~100 bytes; pytest's own directories may not.
        self.socket = Path(tempfile.mkdtemp(prefix="qagent")) / "agent.sock"
        out = subprocess.run(
            ["ssh-agent", "-s", "-a", str(self.socket)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.agent_pid = int(out.split("SSH_AGENT_PID=")[1].split(";")[0])
        self.public: dict[str, str] = {}
        for name in (*members, *outsiders):
            self.add_key(name)
        self.allowed_path = root / "allowed_signers"
        self.write_allowed(members)

    def add_key(self, name: str, suffix: str = "") -> str:
        """A new ed25519 key for `name`, loaded into the agent; returns its public line."""
        key = self.root / f"id_{name}{suffix}"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
            check=True,
        )
        subprocess.run(
            ["ssh-add", "-q", str(key)],
            env={**os.environ, "SSH_AUTH_SOCK": str(self.socket)},
            check=True,
            capture_output=True,
        )
        self.public[name] = (key.parent / f"{key.name}.pub").read_text().strip()
        return self.public[name]

    def write_allowed(self, names: tuple[str, ...]) -> AllowedSigners:
        text = "".join(f'{n} namespaces="quorum" {self.public[n]}\n' for n in names)
        self.allowed_path.write_text(text)
        return self.allowed()

    def allowed(self) -> AllowedSigners:
        return parse_allowed_signers(self.allowed_path.read_text(), str(self.allowed_path))

    def agent(self) -> Agent:
        return Agent(str(self.socket))

    def key_of(self, name: str) -> PublicKey:
        return PublicKey.parse(self.public[name])

    def sign_as(self, name: str, message: bytes) -> str:
        agent = self.agent()
        try:
            return agent.sign(self.key_of(name), message).compact()
        finally:
            agent.close()

    def stop(self) -> None:
        os.kill(self.agent_pid, signal.SIGTERM)
        shutil.rmtree(self.socket.parent, ignore_errors=True)


def start_team(
    root: Path, members: tuple[str, ...], outsiders: tuple[str, ...] = ()
) -> Iterator[SshTeam]:
    """The body of a fixture: a team with a running agent, stopped afterwards."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"OpenSSH client tools missing: {', '.join(missing)} (.ci/run installs them)")
    team = SshTeam(root, members, outsiders)
    try:
        yield team
    finally:
        team.stop()


class SoftKeys:
    """Ed25519 keys held in memory, for property tests that sign thousands of acts.

    Their signatures are SSHSIG blobs built the way the agent's are (`assemble`), so
    they verify through exactly the code that checks the agent's.
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        self.private = {name: Ed25519PrivateKey.generate() for name in names}

    def public(self, name: str) -> PublicKey:
        from cryptography.hazmat.primitives import serialization

        raw = (
            self.private[name]
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return PublicKey.from_blob(ssh_string(b"ssh-ed25519") + ssh_string(raw))

    def allowed(self, names: tuple[str, ...]) -> AllowedSigners:
        text = "".join(f"{n} {self.public(n).openssh()}\n" for n in names)
        return parse_allowed_signers(text)

    def sign(self, name: str, message: bytes) -> str:
        raw = self.private[name].sign(signed_data(message))
        inner = ssh_string(b"ssh-ed25519") + ssh_string(raw)
        signature: Signature = assemble(self.public(name), inner)
        return signature.compact()
