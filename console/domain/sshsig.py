"""SSH signatures (the SSHSIG format of `ssh-keygen -Y sign`), read and checked in-process.

The format is OpenSSH's PROTOCOL.sshsig: a blob of the magic `SSHSIG`, version 1,
the signer's public key, the namespace, a reserved string, the hash algorithm and
the signature, armored between `-----BEGIN SSH SIGNATURE-----` lines. What the key
signs is not the message but `SSHSIG` + namespace + reserved + hash algorithm +
H(message), so a signature made for one namespace (git's "git") never verifies in
another (Quorum's "quorum").

Verifying here rather than through `ssh-keygen -Y verify` keeps a tally of a
hundred votes, or an audit log of a hundred thousand records, free of subprocesses.
Keys: ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa (signatures rsa-sha2-256
and rsa-sha2-512; SSHSIG refuses SHA-1). Ed25519 signatures are checked by libsodium
(PyNaCl), some 1.6x faster per signature than OpenSSL's through `cryptography`, and
without holding the GIL, so checks on several threads run on several cores; the
other kinds by `cryptography`. Both are imported on first use so nothing on the
console's start-up path pays for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

NAMESPACE = "quorum"
MAGIC = b"SSHSIG"
VERSION = 1
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_ECDSA_HASH = {"nistp256": "sha256", "nistp384": "sha384", "nistp521": "sha512"}
_RSA_HASH = {"rsa-sha2-256": "sha256", "rsa-sha2-512": "sha512"}


class SignatureError(ValueError):
    """A signature that cannot be read, or does not verify; the message says which."""


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class Reader:
    """Reads the SSH wire encoding (RFC 4251 strings and integers) from a byte string."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise SignatureError("truncated SSH data")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def string(self) -> bytes:
        return self.take(self.uint32())

    def text(self) -> str:
        try:
            return self.string().decode("ascii")
        except UnicodeDecodeError:
            raise SignatureError("a name in the SSH data is not ASCII") from None

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    @property
    def done(self) -> bool:
        return self.pos == len(self.data)


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key: its type and wire blob, as in `authorized_keys` or `allowed_signers`."""

    type: str
    blob: bytes

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """`ssh-ed25519 AAAA... [comment]` (the comment is ignored)."""
        parts = text.split()
        if len(parts) < 2:
            raise SignatureError("a public key is `TYPE BASE64 [comment]`")
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except binascii.Error:
            raise SignatureError(f"the {parts[0]} key is not valid base64") from None
        key = cls.from_blob(blob)
        if key.type != parts[0]:
            raise SignatureError(f"the key says {key.type}, its line says {parts[0]}")
        return key

    @classmethod
    def from_blob(cls, blob: bytes) -> PublicKey:
        key = cls(Reader(blob).text(), blob)
        _load_key(key.blob)  # refuse what could never verify, when it is read
        return key

    def openssh(self) -> str:
        """The key as one `TYPE BASE64` line."""
        return f"{self.type} {base64.b64encode(self.blob).decode()}"

    @property
    def fingerprint(self) -> str:
        """`SHA256:...` as `ssh-keygen -l` prints it."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")
        return f"SHA256:{digest}"


@dataclass(frozen=True)
class Signature:
    """One SSHSIG blob, decoded."""

    key: PublicKey
    namespace: str
    hash_algorithm: str
    algorithm: str  # the signature's own: ssh-ed25519, rsa-sha2-512, ecdsa-sha2-nistp256...
    raw: bytes  # the signature bytes inside
    blob: bytes  # the whole SSHSIG blob, as stored

    @classmethod
    def decode(cls, blob: bytes) -> Signature:
        r = Reader(blob)
        if r.take(len(MAGIC)) != MAGIC:
            raise SignatureError("not an SSH signature (no SSHSIG magic)")
        version = r.uint32()
        if version != VERSION:
            raise SignatureError(f"SSH signature version {version} is not supported")
        key = PublicKey.from_blob(r.string())
        namespace = r.text()
        r.string()  # reserved
        hash_algorithm = r.text()
        inner = Reader(r.string())
        if not r.done:
            raise SignatureError("trailing bytes after the SSH signature")
        algorithm = inner.text()
        raw = inner.string()
        return cls(key, namespace, hash_algorithm, algorithm, raw, blob)

    @classmethod
    def from_text(cls, text: str) -> Signature:
        """An armored signature, or the bare base64 of its blob (as Quorum stores them)."""
        body = text.strip()
        if body.startswith(BEGIN):
            if not body.endswith(END):
                raise SignatureError("the SSH signature's END line is missing")
            body = body[len(BEGIN) : -len(END)]
        try:
            blob = base64.b64decode("".join(body.split()), validate=True)
        except binascii.Error:
            raise SignatureError("the SSH signature is not valid base64") from None
        return cls.decode(blob)

    def armored(self) -> str:
        """The text `ssh-keygen -Y sign` writes (lines of 70 characters)."""
        b64 = base64.b64encode(self.blob).decode()
        lines = [b64[i : i + 70] for i in range(0, len(b64), 70)]
        return "\n".join([BEGIN, *lines, END]) + "\n"

    def compact(self) -> str:
        """The bare base64 of the blob: one column value, one JSON string."""
        return base64.b64encode(self.blob).decode()


def signed_data(
    message: bytes, namespace: str = NAMESPACE, hash_algorithm: str = "sha512"
) -> bytes:
    """What the key itself signs for `message` (PROTOCOL.sshsig's signed data)."""
    if hash_algorithm not in HASHES:
        raise SignatureError(f"hash algorithm {hash_algorithm} is not allowed in SSH signatures")
    return (
        MAGIC
        + ssh_string(namespace.encode())
        + ssh_string(b"")
        + ssh_string(hash_algorithm.encode())
        + ssh_string(HASHES[hash_algorithm](message).digest())
    )


def assemble(key: PublicKey, agent_signature: bytes, namespace: str = NAMESPACE) -> Signature:
    """The SSHSIG blob for a signature an agent returned over `signed_data(..., "sha512")`."""
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + ssh_string(key.blob)
        + ssh_string(namespace.encode())
        + ssh_string(b"")
        + ssh_string(b"sha512")
        + ssh_string(agent_signature)
    )
    return Signature.decode(blob)


def verify(signature: Signature, message: bytes, namespace: str = NAMESPACE) -> None:
    """Raises SignatureError unless `signature` is its key's signature of `message`."""
    if signature.namespace != namespace:
        raise SignatureError(
            f"signature made for namespace {signature.namespace!r}, not {namespace!r}"
        )
    data = signed_data(message, namespace, signature.hash_algorithm)
    if not _check(signature.key.blob, signature.algorithm, signature.raw, data):
        raise SignatureError("the signature does not match the signed content")


@lru_cache(maxsize=1)
def _crypto() -> Any:
    """`cryptography`'s modules, imported once, on the first verification."""
    from types import SimpleNamespace

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return SimpleNamespace(
        InvalidSignature=InvalidSignature,
        hashes=hashes,
        ec=ec,
        ed25519=ed25519,
        padding=padding,
        rsa=rsa,
        encode_dss_signature=encode_dss_signature,
    )


def _check(key_blob: bytes, algorithm: str, raw: bytes, data: bytes) -> bool:
    c = _crypto()
    InvalidSignature, hashes, ec, ed25519 = c.InvalidSignature, c.hashes, c.ec, c.ed25519
    padding, rsa, encode_dss_signature = c.padding, c.rsa, c.encode_dss_signature
    key = _load_key(key_blob)
    key_type = Reader(key_blob).text()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            return algorithm == "ssh-ed25519" and ed25519_valid(ed25519_public(key_blob), raw, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if algorithm != key_type:
                return False
            r = Reader(raw)
            der = encode_dss_signature(r.mpint(), r.mpint())
            digest = getattr(hashes, _ECDSA_HASH[key_type.rsplit("-", 1)[1]].upper())()
            key.verify(der, data, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey):
            if algorithm not in _RSA_HASH:
                return False
            digest = getattr(hashes, _RSA_HASH[algorithm].upper())()
            key.verify(raw, data, padding.PKCS1v15(), digest)
        else:  # pragma: no cover - _load_key returns only the three kinds
            return False
    except (InvalidSignature, SignatureError, ValueError):
        return False
    return True


def ed25519_valid(public: bytes, signature: bytes, data: bytes) -> bool:
    """Whether `signature` (64 bytes) is the ed25519 key `public`'s (32 bytes) over `data`."""
    if len(signature) != 64:
        return False
    sodium = _sodium()
    try:
        sodium.open(signature + data, public)
    except (sodium.BadSignature, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _sodium() -> Any:
    """PyNaCl's binding of libsodium's ed25519 check, imported once, on first use."""
    from types import SimpleNamespace

    from nacl.bindings import crypto_sign_open
    from nacl.exceptions import BadSignatureError

    return SimpleNamespace(open=crypto_sign_open, BadSignature=BadSignatureError)


def ed25519_public(key_blob: bytes) -> bytes:
    """The 32 bytes of an `ssh-ed25519` key blob (as `_load_key` read and checked them)."""
    r = Reader(key_blob)
    r.text()
    return r.string()


@lru_cache(maxsize=256)
def _load_key(blob: bytes) -> Any:
    """The `cryptography` key of an SSH key blob (cached: a team has few keys)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    r = Reader(blob)
    key_type = r.text()
    try:
        if key_type == "ssh-ed25519":
            raw = r.string()
            if len(raw) != 32:
                raise SignatureError("an ed25519 key is 32 bytes")
            return ed25519.Ed25519PublicKey.from_public_bytes(raw)
        if key_type.startswith("ecdsa-sha2-"):
            curve_name = r.text()
            curves = {"nistp256": ec.SECP256R1, "nistp384": ec.SECP384R1, "nistp521": ec.SECP521R1}
            if curve_name not in curves or key_type != f"ecdsa-sha2-{curve_name}":
                raise SignatureError(f"unsupported ECDSA curve {curve_name}")
            return ec.EllipticCurvePublicKey.from_encoded_point(curves[curve_name](), r.string())
        if key_type == "ssh-rsa":
            e = r.mpint()
            n = r.mpint()
            return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise SignatureError(f"unreadable {key_type} key: {exc}") from None
    raise SignatureError(f"unsupported key type {key_type} (use ed25519, ecdsa or rsa)")
