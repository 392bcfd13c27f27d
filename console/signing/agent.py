"""Signs Quorum's acts through the user's ssh-agent, speaking the agent protocol.

On a bastion the private key stays on the engineer's laptop: `ssh -A` forwards the
agent, and `SSH_AUTH_SOCK` reaches it. Quorum asks the agent for the identities it
holds, picks the one the allowed-signers list gives to the acting member, and asks
it to sign PROTOCOL.sshsig's signed data; the result is byte for byte what
`ssh-keygen -Y sign -n quorum` writes, so `ssh-keygen -Y verify` accepts it too.

Talking to the socket directly (draft-miller-ssh-agent) instead of running
`ssh-keygen` costs one round trip per act, not a process.
"""

from __future__ import annotations

import os
import socket
import struct
import threading

from console.domain.errors import PolicyRefused
from console.domain.sshsig import (
    PublicKey,
    Reader,
    Signature,
    SignatureError,
    assemble,
    signed_data,
    ssh_string,
)

_FAILURE = 5
_REQUEST_IDENTITIES = 11
_IDENTITIES_ANSWER = 12
_SIGN_REQUEST = 13
_SIGN_RESPONSE = 14
_RSA_SHA2_512 = 4
_TIMEOUT = 30.0  # an agent may ask its user to confirm (ssh-add -c)


class AgentError(PolicyRefused):
    """No agent, or no usable key in it: the act cannot be signed, so it is not made."""


class Agent:
    """One connection to the agent at `path` (default `$SSH_AUTH_SOCK`), kept open."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.environ.get("SSH_AUTH_SOCK", "")
        if not self.path:
            raise AgentError(
                "signed votes need an ssh-agent: SSH_AUTH_SOCK is not set "
                "(start one with `eval $(ssh-agent)` and `ssh-add`, or connect with `ssh -A`)"
            )
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(_TIMEOUT)
            try:
                sock.connect(self.path)
            except OSError as exc:
                sock.close()
                raise AgentError(f"ssh-agent at {self.path}: {exc.strerror or exc}") from None
            self._sock = sock
        return self._sock

    def _request(self, kind: int, payload: bytes) -> tuple[int, Reader]:
        with self._lock:
            sock = self._connect()
            try:
                sock.sendall(struct.pack(">IB", len(payload) + 1, kind) + payload)
                length = struct.unpack(">I", _recv(sock, 4))[0]
                body = _recv(sock, length)
            except OSError as exc:
                self.close()
                raise AgentError(f"ssh-agent at {self.path}: {exc.strerror or exc}") from None
        if not body:
            raise AgentError("ssh-agent sent an empty reply")
        return body[0], Reader(body[1:])

    def identities(self) -> list[PublicKey]:
        """The keys the agent holds that Quorum can verify (others are skipped)."""
        kind, reply = self._request(_REQUEST_IDENTITIES, b"")
        if kind != _IDENTITIES_ANSWER:
            raise AgentError("ssh-agent refused to list its keys")
        keys = []
        for _ in range(reply.uint32()):
            blob, _comment = reply.string(), reply.string()
            try:
                keys.append(PublicKey.from_blob(blob))
            except SignatureError:
                continue  # a security-key or certificate identity Quorum cannot check
        return keys

    def sign(self, key: PublicKey, message: bytes) -> Signature:
        """`message` signed by `key` in Quorum's namespace, as an SSHSIG."""
        flags = _RSA_SHA2_512 if key.type == "ssh-rsa" else 0
        payload = ssh_string(key.blob) + ssh_string(signed_data(message)) + struct.pack(">I", flags)
        kind, reply = self._request(_SIGN_REQUEST, payload)
        if kind == _FAILURE:
            raise AgentError(f"ssh-agent refused to sign with {key.fingerprint}")
        if kind != _SIGN_RESPONSE:
            raise AgentError(f"ssh-agent sent an unexpected reply ({kind})")
        return assemble(key, reply.string())

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _recv(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise OSError("the agent closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
