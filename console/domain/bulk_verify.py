"""Checking many signatures by a team's few keys, paying per signature only for the check.

An SSHSIG blob made by one key in Quorum's namespace is the same bytes up to the
signature itself (magic, version, key, namespace, hash algorithm), and so is the
start of the data that key signed. A full `audit verify` checks one signature per
record by the same handful of keys, so those parts are parsed and checked once per
key, and each record costs a base64 decode, one hash and the ed25519 check.

Anything else (another key type, an armored signature, a blob that does not match a
known start byte for byte) goes through `AllowedSigners.valid`, so the answer is
always the one the full parse would give.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

from console.domain.signers import AllowedSigners
from console.domain.sshsig import (
    HASHES,
    NAMESPACE,
    Signature,
    SignatureError,
    ed25519_public,
    ed25519_valid,
    signed_data,
    ssh_string,
)

_ED25519 = "ssh-ed25519"
_RAW = 64  # an ed25519 signature's length


@dataclass(frozen=True)
class _Known:
    """What every signature by one ed25519 key in Quorum's namespace shares."""

    principals: frozenset[str]
    public: bytes  # the key's 32 bytes
    tail_head: bytes  # the bytes between the shared start and the 64 signature bytes
    hash_algorithm: str
    data_head: bytes  # the signed data before the message's digest


class BulkVerifier:
    """`valid(signer, message, signature)` as `AllowedSigners.valid` answers it, faster
    over many signatures by few keys. Safe to share between threads: the cache only
    grows, and a start parsed twice at once is the same either way."""

    def __init__(self, allowed: AllowedSigners) -> None:
        self.allowed = allowed
        self._known: dict[bytes, _Known] = {}
        self._lengths: tuple[int, ...] = ()

    def valid(self, signer: str, message: bytes, signature: str) -> bool:
        try:
            blob = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return self.allowed.valid(signer, message, signature)
        found = self._match(blob) or self._learn(blob)
        if found is None:
            return self.allowed.valid(signer, message, signature)
        known, raw = found
        if signer not in known.principals:
            return False
        digest = HASHES[known.hash_algorithm](message).digest()
        return ed25519_valid(known.public, raw, known.data_head + digest)

    def _match(self, blob: bytes) -> tuple[_Known, bytes] | None:
        for length in self._lengths:
            known = self._known.get(blob[:length])
            if known is None:
                continue
            tail = blob[length:]
            if len(tail) == len(known.tail_head) + _RAW and tail.startswith(known.tail_head):
                return known, tail[len(known.tail_head) :]
        return None

    def _learn(self, blob: bytes) -> tuple[_Known, bytes] | None:
        """Parses `blob` in full; an ed25519 signature in Quorum's namespace teaches its
        key's shared start. Anything else is left to the full check (None)."""
        try:
            sig = Signature.decode(blob)
        except SignatureError:
            return None
        if (
            sig.key.type != _ED25519
            or sig.algorithm != _ED25519
            or sig.namespace != NAMESPACE
            or sig.hash_algorithm not in HASHES
            or len(sig.raw) != _RAW
        ):
            return None
        inner = ssh_string(_ED25519.encode()) + ssh_string(sig.raw)
        tail_head = struct.pack(">I", len(inner)) + ssh_string(_ED25519.encode())
        tail_head += struct.pack(">I", _RAW)
        start = blob[: len(blob) - len(tail_head) - _RAW]
        digest_length = HASHES[sig.hash_algorithm]().digest_size
        known = _Known(
            self.allowed.principals_of(sig.key),
            ed25519_public(sig.key.blob),
            tail_head,
            sig.hash_algorithm,
            signed_data(b"", NAMESPACE, sig.hash_algorithm)[:-digest_length],
        )
        self._known[start] = known
        self._lengths = tuple(sorted({*self._lengths, len(start)}))
        return known, sig.raw
