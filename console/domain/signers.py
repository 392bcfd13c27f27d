"""The allowed-signers list: which SSH key speaks for which member.

The file format is OpenSSH's (`ssh-keygen -Y verify -f FILE`, git's
`gpg.ssh.allowedSignersFile`), one key a line:

    alice ssh-ed25519 AAAAC3Nza... alice@laptop
    bob,robert namespaces="quorum,git" ssh-ed25519 AAAAC3Nza...

Principals are exact names (OpenSSH's wildcard patterns are not honoured: a
pattern would let one line speak for members added later). A `namespaces` option
that does not include "quorum" keeps the line out of Quorum; lines with options
Quorum does not implement (`cert-authority`, `valid-after`, `valid-before`) grant
nothing and are reported, so a key never counts under rules it was not meant for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from console.domain.sshsig import NAMESPACE, PublicKey, Signature, SignatureError, verify


@dataclass(frozen=True)
class SignerEntry:
    principals: tuple[str, ...]
    key: PublicKey
    line: int


@dataclass(frozen=True)
class AllowedSigners:
    """The parsed list; `problems` are lines that grant nothing, as `file:line: why`."""

    entries: tuple[SignerEntry, ...] = ()
    problems: tuple[str, ...] = ()
    source: str = ""
    _by_key: dict[bytes, frozenset[str]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            known = self._by_key.get(entry.key.blob, frozenset())
            self._by_key[entry.key.blob] = known | frozenset(entry.principals)

    @property
    def principals(self) -> frozenset[str]:
        return frozenset(p for e in self.entries for p in e.principals)

    def keys_for(self, principal: str) -> tuple[PublicKey, ...]:
        return tuple(e.key for e in self.entries if principal in e.principals)

    def principals_of(self, key: PublicKey) -> frozenset[str]:
        return self._by_key.get(key.blob, frozenset())

    def check(self, signer: str, message: bytes, signature: str) -> None:
        """Raises SignatureError unless `signature` is `signer`'s, over `message`, in
        Quorum's namespace, by a key this list gives to `signer`."""
        sig = Signature.from_text(signature)
        if signer not in self.principals_of(sig.key):
            raise SignatureError(
                f"signed by key {sig.key.fingerprint}, which the allowed signers do not "
                f"give to {signer}"
            )
        verify(sig, message)

    def valid(self, signer: str, message: bytes, signature: str) -> bool:
        try:
            self.check(signer, message, signature)
        except SignatureError:
            return False
        return True


_UNSUPPORTED = ("cert-authority", "valid-after", "valid-before")


def parse_allowed_signers(text: str, source: str = "allowed_signers") -> AllowedSigners:
    entries: list[SignerEntry] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entry = _entry(line, number)
        except SignatureError as exc:
            problems.append(f"{source}:{number}: {exc}")
            continue
        if entry is not None:
            entries.append(entry)
    return AllowedSigners(tuple(entries), tuple(problems), source)


def _entry(line: str, number: int) -> SignerEntry | None:
    tokens = _tokens(line)
    if len(tokens) < 3:
        raise SignatureError("expected `PRINCIPALS [OPTIONS] KEYTYPE BASE64`")
    principals = tuple(p for p in tokens[0].strip('"').split(",") if p)
    if any(c in p for p in principals for c in "*?!"):
        raise SignatureError("wildcard principals are not honoured; name each member")
    rest = tokens[1:]
    options: dict[str, str] = {}
    if not _is_key_type(rest[0]):
        options = _options(rest[0])
        rest = rest[1:]
    if len(rest) < 2:
        raise SignatureError("the key is missing")
    for name in _UNSUPPORTED:
        if name in options:
            raise SignatureError(f"option {name} is not supported by Quorum; the line is ignored")
    namespaces = options.get("namespaces")
    if namespaces is not None and NAMESPACE not in namespaces.split(","):
        return None
    key = PublicKey.parse(f"{rest[0]} {rest[1]}")
    return SignerEntry(principals, key, number)


def _is_key_type(token: str) -> bool:
    return token.startswith(("ssh-", "ecdsa-", "sk-"))


def _tokens(line: str) -> list[str]:
    """Splits on blanks outside double quotes (options carry quoted values)."""
    out, current, quoted = [], [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if current:
                out.append("".join(current))
                current = []
            continue
        current.append(ch)
    if quoted:
        raise SignatureError("unbalanced quote")
    if current:
        out.append("".join(current))
    return out


def _options(token: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in _split_options(token):
        name, _, value = part.partition("=")
        found[name.lower()] = value.strip('"')
    return found


def _split_options(token: str) -> Iterable[str]:
    current, quoted = [], False
    for ch in token:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            yield "".join(current)
            current = []
            continue
        current.append(ch)
    if current:
        yield "".join(current)
