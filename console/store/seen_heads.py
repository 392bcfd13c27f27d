"""The audit heads this user has seen, kept in their own state directory.

Whoever can write the shared file can rebuild a consistent chain from scratch, or
cut its newest records off with the head rewritten to match. What they cannot
reach is each member's own memory of the log: every console and command notes the
head it saw (seq and hash), and the next one checks that this record is still in
the log with that hash. A truncated or rebuilt log is then reported by everyone
who saw it before, on their next start and by `quorum audit verify`.

`signed_through` is the seq up to which this user has verified every record's
signature; the chain's hashes vouch that those records have not changed since, so
the next verification checks signatures from there on only.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SeenHead:
    seq: int
    hash: str
    signed_through: int = 0


class SeenHeads:
    """One JSON file mapping each audit file's resolved path (or PostgreSQL ledger) to the
    head last seen."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, audit_path: Path | str) -> SeenHead | None:
        entry = self._load().get(_key(audit_path))
        if not isinstance(entry, dict):
            return None
        try:
            return SeenHead(int(entry["seq"]), str(entry["hash"]), int(entry.get("signed", 0)))
        except (KeyError, TypeError, ValueError):
            return None

    def remember(self, audit_path: Path | str, head: SeenHead) -> None:
        """Notes `head` for `audit_path`; never moves backwards (a later head wins)."""
        data = self._load()
        known = self.get(audit_path)
        if known is not None and known.seq > head.seq:
            return
        signed = max(head.signed_through, known.signed_through if known else 0)
        data[_key(audit_path)] = {"seq": head.seq, "hash": head.hash, "signed": signed}
        self.file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".heads-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
            os.replace(tmp, self.file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _key(audit_path: Path | str) -> str:
    """A file by its resolved path; a PostgreSQL ledger (a `str`: its URL or service)
    as it is named in the config."""
    if isinstance(audit_path, str):
        return audit_path
    return str(Path(audit_path).expanduser().resolve())
