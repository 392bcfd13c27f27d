"""The bulk verifier answers exactly as the full parse does, for signatures good and bad."""

from __future__ import annotations

import base64
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.domain.bulk_verify import BulkVerifier
from console.domain.signers import parse_allowed_signers
from console.domain.sshsig import MAGIC, PublicKey, Signature, signed_data, ssh_string
from tests.signing_support import SoftKeys

MESSAGE = b'["quorum-audit/1",7,"2026-03-01T12:00:00.000000Z","alice","vote"]'


def sshsig(
    private: Ed25519PrivateKey,
    public: PublicKey,
    message: bytes,
    namespace: str = "quorum",
    hash_algorithm: str = "sha512",
    labelled: str = "",
) -> bytes:
    """An SSHSIG blob built field by field, so namespace and hash can be any, and the
    hash named in it (`labelled`) another than the one signed."""
    raw = private.sign(signed_data(message, namespace, hash_algorithm))
    inner = ssh_string(b"ssh-ed25519") + ssh_string(raw)
    return (
        MAGIC
        + struct.pack(">I", 1)
        + ssh_string(public.blob)
        + ssh_string(namespace.encode())
        + ssh_string(b"")
        + ssh_string((labelled or hash_algorithm).encode())
        + ssh_string(inner)
    )


def text(blob: bytes) -> str:
    return base64.b64encode(blob).decode()


def test_every_variant_of_a_signature_gets_the_full_parses_answer() -> None:
    keys = SoftKeys(("alice", "bob", "mallory"))
    lines = f"alice,carol {keys.public('alice').openssh()}\nbob {keys.public('bob').openssh()}\n"
    allowed = parse_allowed_signers(lines)

    def signed(name: str, *args: str) -> str:
        return text(sshsig(keys.private[name], keys.public(name), MESSAGE, *args))

    good = sshsig(keys.private["alice"], keys.public("alice"), MESSAGE)
    variants: list[tuple[str, bytes, str]] = [
        ("alice", MESSAGE, text(good)),
        ("carol", MESSAGE, text(good)),  # the same key speaks for carol too
        ("bob", MESSAGE, text(good)),  # not bob's key
        ("alice", MESSAGE + b" ", text(good)),
        ("alice", MESSAGE, Signature.decode(good).armored()),
        ("alice", MESSAGE, text(good[:-1])),
        ("alice", MESSAGE, text(good + b"\0")),
        ("alice", MESSAGE, "not base64!"),
        ("alice", MESSAGE, ""),
        ("mallory", MESSAGE, signed("mallory")),  # a key the list does not hold
        ("alice", MESSAGE, signed("alice", "git")),  # another namespace
        ("bob", MESSAGE, signed("bob", "quorum", "sha256")),
        ("bob", MESSAGE, signed("bob", "quorum", "sha512", "sha1")),  # SHA-1 is refused
    ]  # fmt: skip
    for at in range(len(good)):  # every byte of the blob changed in turn
        flipped = bytearray(good)
        flipped[at] ^= 0x01
        variants.append(("alice", MESSAGE, text(bytes(flipped))))
    bulk = BulkVerifier(allowed)
    answers = []
    for signer, message, signature in variants * 2:  # the second round hits what it learnt
        expected = allowed.valid(signer, message, signature)
        assert bulk.valid(signer, message, signature) is expected, (signer, signature)
        answers.append(expected)
    assert answers[:13] == [True, True, False, False, True, False, False, False, False, False,
                            False, True, False]  # fmt: skip
    assert not any(answers[13 : len(variants)])  # no flipped byte verifies
