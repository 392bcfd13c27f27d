"""Signs as one member: the agent key that the allowed-signers list gives them.

A member may hold several keys in the agent (work, personal, a security key);
only one the team's list names for them can sign Quorum's acts, and the first
such key the agent offers is used.
"""

from __future__ import annotations

from console.domain.signers import AllowedSigners
from console.domain.sshsig import PublicKey
from console.signing.agent import Agent, AgentError


class Signer:
    def __init__(self, member: str, allowed: AllowedSigners, agent: Agent | None = None) -> None:
        self.member = member
        self.allowed = allowed
        self.agent = agent
        self._key: PublicKey | None = None

    def key(self) -> PublicKey:
        """The agent key that speaks for this member (looked up once)."""
        if self._key is None:
            mine = {k.blob for k in self.allowed.keys_for(self.member)}
            if not mine:
                raise AgentError(
                    f"{self.member} has no key in the allowed signers ({self.allowed.source}); "
                    "ask the team to add yours before you vote"
                )
            if self.agent is None:
                self.agent = Agent()
            held = [k for k in self.agent.identities() if k.blob in mine]
            if not held:
                raise AgentError(
                    f"the ssh-agent holds none of {self.member}'s keys listed in "
                    f"{self.allowed.source}; add yours with `ssh-add`"
                )
            self._key = held[0]
        return self._key

    def sign(self, message: bytes) -> str:
        """`message` signed as this member: the SSHSIG blob's base64, as stored."""
        key = self.key()
        assert self.agent is not None  # connected by key()
        return self.agent.sign(key, message).compact()

    def close(self) -> None:
        if self.agent is not None:
            self.agent.close()
