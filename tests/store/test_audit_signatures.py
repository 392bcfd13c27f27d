"""Signed audit records: a hash-correct record appended as someone else, or a record cut
out and the chain re-hashed after it, is named by verification."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.signing.signer import Signer
from console.store.audit import AuditLog
from tests.paths import FORGER
from tests.signing_support import SshTeam, start_team

MEMBERS = frozenset({"alice", "bob", "carol", "mallory"})


@pytest.fixture
def team(tmp_path: Path) -> Iterator[SshTeam]:
    yield from start_team(tmp_path / "keys", ("alice", "bob", "carol", "mallory"))


def write(team: SshTeam, path: Path, *authors: str) -> None:
    for who in authors:
        signer = Signer(who, team.allowed(), team.agent())
        with AuditLog(path, signer=signer.sign) as log:
            log.append(who=who, action="vote", target="web", comment=f"by {who}")
        signer.close()


def forge(path: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(FORGER), str(path), *args], check=True)


def verify(team: SshTeam, path: Path, **kw: object):
    with AuditLog(path) as log:
        return log.verify(signers=team.allowed(), members=MEMBERS, **kw)


def test_a_log_signed_by_its_authors_verifies(team: SshTeam, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    write(team, db, "alice", "bob", "carol")
    result = verify(team, db)
    assert result.ok and result.checked == 3


def test_a_hash_correct_record_appended_as_another_member_is_named(
    team: SshTeam, tmp_path: Path
) -> None:
    db = tmp_path / "audit.db"
    write(team, db, "alice", "bob")
    forge(db, "append-audit", "carol", "vote", "approve, says carol")
    with AuditLog(db) as log:
        assert log.verify().ok  # the chain alone cannot tell
    result = verify(team, db)
    assert not result.ok
    assert result.reason == "record 3: not signed (written as carol)"


def test_a_record_signed_by_the_wrong_member_is_named(team: SshTeam, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    write(team, db, "alice")
    mallory = Signer("mallory", team.allowed(), team.agent())
    with AuditLog(db, signer=mallory.sign) as log:
        log.append(who="bob", action="vote", comment="as bob, signed by mallory")
    mallory.close()
    result = verify(team, db)
    assert result.reason == "record 2: the signature is not bob's (inserted or rewritten as bob)"


def test_a_record_removed_and_the_chain_re_hashed_breaks_the_next_authors_signature(
    team: SshTeam, tmp_path: Path
) -> None:
    db = tmp_path / "audit.db"
    write(team, db, "alice", "bob", "carol", "alice")
    forge(db, "delete-audit", "2")  # bob's record goes; carol's now follows alice's
    with AuditLog(db) as log:
        assert log.verify().ok  # a consistent chain again
    result = verify(team, db)
    assert not result.ok and result.bad_seq == 2
    assert "not carol's" in result.reason


def test_a_head_seen_earlier_catches_a_rebuilt_log(team: SshTeam, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    write(team, db, "alice", "bob", "carol")
    with AuditLog(db) as log:
        seen = log.head()
    forge(db, "delete-audit", "3")
    result = verify(team, db, pinned=seen)
    assert result.bad_seq == 3 and "truncated or rebuilt" in result.reason


def test_signatures_checked_before_are_not_checked_again(team: SshTeam, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    write(team, db, "alice", "bob")
    forge(db, "append-audit", "carol", "vote")
    with AuditLog(db) as log:
        head = log.head()
    assert not verify(team, db).ok
    # Only what follows the checked part is checked: a later run that had verified
    # through record 3 (a head whose hashes still hold) does not look at it again.
    write(team, db, "bob")
    assert verify(team, db, pinned=head, signed_through=3).ok
    assert verify(team, db, pinned=head, signed_through=2).reason.startswith("record 3")
