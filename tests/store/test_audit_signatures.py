"""Signed audit records: a hash-correct record appended as someone else, or a record cut
out and the chain re-hashed after it, is named by verification, on the SQLite file and
on a PostgreSQL ledger (forged there by the owner role behind disabled triggers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.signing.signer import Signer
from tests.pg_support import Ledgers
from tests.signing_support import SshTeam, start_team

MEMBERS = frozenset({"alice", "bob", "carol", "mallory"})


@pytest.fixture
def team(tmp_path: Path) -> Iterator[SshTeam]:
    yield from start_team(tmp_path / "keys", ("alice", "bob", "carol", "mallory"))


def write(team: SshTeam, ledger: Ledgers, *authors: str) -> None:
    for who in authors:
        signer = Signer(who, team.allowed(), team.agent())
        with ledger.log(who, signer=signer.sign) as log:
            log.append(who=who, action="vote", target="web", comment=f"by {who}")
        signer.close()


def verify(team: SshTeam, ledger: Ledgers, **kw: object):
    with ledger.log("alice") as log:
        return log.verify(signers=team.allowed(), members=MEMBERS, **kw)


def test_a_log_signed_by_its_authors_verifies(team: SshTeam, ledgers: Ledgers) -> None:
    write(team, ledgers, "alice", "bob", "carol")
    result = verify(team, ledgers)
    assert result.ok and result.checked == 3


def test_a_hash_correct_record_appended_as_another_member_is_named(
    team: SshTeam, ledgers: Ledgers
) -> None:
    write(team, ledgers, "alice", "bob")
    ledgers.forge_append("carol", "vote", "approve, says carol")
    with ledgers.log() as log:
        assert log.verify().ok  # the chain alone cannot tell
    result = verify(team, ledgers)
    assert not result.ok
    assert result.reason == "record 3: not signed (written as carol)"


def test_a_record_signed_by_the_wrong_member_is_named(team: SshTeam, ledgers: Ledgers) -> None:
    write(team, ledgers, "alice")
    mallory = Signer("mallory", team.allowed(), team.agent())
    with ledgers.log("bob", signer=mallory.sign) as log:  # bob's login, mallory's key
        log.append(who="bob", action="vote", comment="as bob, signed by mallory")
    mallory.close()
    result = verify(team, ledgers)
    assert result.reason == "record 2: the signature is not bob's (inserted or rewritten as bob)"


def test_a_record_removed_and_the_chain_re_hashed_breaks_the_next_authors_signature(
    team: SshTeam, ledgers: Ledgers
) -> None:
    write(team, ledgers, "alice", "bob", "carol", "alice")
    ledgers.forge_delete(2)  # bob's record goes; carol's now follows alice's
    with ledgers.log() as log:
        assert log.verify().ok  # a consistent chain again
    result = verify(team, ledgers)
    assert not result.ok and result.bad_seq == 2
    assert "not carol's" in result.reason


def test_a_head_seen_earlier_catches_a_rebuilt_log(team: SshTeam, ledgers: Ledgers) -> None:
    write(team, ledgers, "alice", "bob", "carol")
    with ledgers.log() as log:
        seen = log.head()
    ledgers.forge_delete(3)
    result = verify(team, ledgers, pinned=seen)
    assert result.bad_seq == 3 and "truncated or rebuilt" in result.reason


def test_signatures_checked_before_are_not_checked_again(team: SshTeam, ledgers: Ledgers) -> None:
    write(team, ledgers, "alice", "bob")
    ledgers.forge_append("carol", "vote")
    with ledgers.log() as log:
        head = log.head()
    assert not verify(team, ledgers).ok
    # Only what follows the checked part is checked: a later run that had verified
    # through record 3 (a head whose hashes still hold) does not look at it again.
    write(team, ledgers, "bob")
    assert verify(team, ledgers, pinned=head, signed_through=3).ok
    assert verify(team, ledgers, pinned=head, signed_through=2).reason.startswith("record 3")
