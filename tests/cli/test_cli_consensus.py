"""The consensus commands end to end against the built-in sandbox, through `quorum`'s `main`."""

from __future__ import annotations

import json

import pytest

from console.cli.main import main
from console.domain.names import current_user

ME = current_user()


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated teammates act on wall-clock time; these flows cast every vote themselves."""
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


class Quorum:
    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.out = self.err = ""

    def __call__(self, *argv: str, who: str | None = None) -> int:
        if who is None:
            self.monkeypatch.delenv("QUORUM_ACT_AS", raising=False)
        else:
            self.monkeypatch.setenv("QUORUM_ACT_AS", who)
        code = main(["--sandbox", *argv])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def json(self, *argv: str, who: str | None = None) -> object:
        assert self(*argv, "--json", who=who) == 0, self.err
        return json.loads(self.out)

    def revision(self, service: str, env: str) -> str:
        rows = self.json("status")
        assert isinstance(rows, list)
        # the platform's row (sim-watch's health row of the pair only watches it)
        (row,) = [
            r
            for r in rows
            if (r["service"], r["environment"]) == (service, env) and r["provider"] != "sim-watch"
        ]
        return row["revision"]


@pytest.fixture
def q(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Quorum:
    return Quorum(capsys, monkeypatch)


def test_staging_deploys_directly(q: Quorum) -> None:
    assert q("deploy", "web", "--env", "staging", "--revision", "v8.1.0") == 0
    assert q.out.startswith("deploy finished: ")
    assert q.revision("web", "staging") == "v8.1.0"


def test_production_deploy_opens_a_proposal_and_two_approvals_execute_it(q: Quorum) -> None:
    before = q.revision("api", "production")
    assert q("deploy", "api", "--env", "production", "--revision", "v3.0.0") == 3
    assert "production needs consensus: opened proposal 1" in q.err
    assert q.err.count("\n") == 1

    waiting = q.json("approvals")
    assert isinstance(waiting, dict)
    (proposal,) = waiting["proposals"]
    assert (proposal["id"], proposal["state"], proposal["needed"]) == (1, "open", 2)
    assert proposal["summary"] == "needs 2 more approvals; rejections 0 of 2 to block"

    assert q("vote", "1", "approve") == 3  # the proposer's own approval
    assert "self-approval" in q.err
    assert q("vote", "#1", "approve", "--comment", "ok", who="alice") == 0
    assert q.out.startswith("1  open  deploy api@production to v3.0.0")
    assert q.revision("api", "production") == before

    voted = q.json("vote", "1", "approve", who="bob")
    assert isinstance(voted, dict)
    assert (voted["state"], voted["approvals"], voted["needed"]) == (
        "executed",
        ["alice", "bob"],
        0,
    )
    assert voted["execution"]["ok"] is True and voted["execution"]["key"] == "proposal-1"
    assert q.revision("api", "production") == "v3.0.0"
    assert q.json("approvals") == {
        "proposals": [],
        "provider_approvals": [],
        "awaiting_review": [],
        "incomplete_actions": [],
        "provider_errors": [],
    }


def test_propose_json_shape_and_rollback_proposal(q: Quorum) -> None:
    made = q.json("propose", "rollback", "auth", "--env", "production", "--reason", "5xx")
    assert isinstance(made, dict)
    assert {"id", "state", "approvals", "rejections", "needed"} <= made.keys()
    assert (made["kind"], made["revision"], made["reason"], made["proposer"]) == (
        "rollback",
        "",
        "5xx",
        ME,
    )
    assert q("propose", "deploy", "auth", "--env", "production", "--revision", "v9") == 0
    assert q.out.startswith("2  open  deploy auth@production to v9")


def test_anyone_rolls_back_at_once(q: Quorum) -> None:
    before = q.revision("billing", "production")
    assert q("rollback", "billing", "--env", "production", who="carol") == 0
    assert q.out.startswith("rollback finished: ")
    after = q.revision("billing", "production")
    assert after != before
    assert q("rollback", "billing", "--env", "production", "--to", "no-such-rev") == 1
    assert q.revision("billing", "production") == after


def test_override_then_review_by_someone_else(q: Quorum) -> None:
    assert q("propose", "deploy", "search", "--env", "production", "--revision", "v2.8.0") == 0
    assert q("override", "1", "--reason", "  ") == 2
    overridden = q.json("override", "1", "--reason", "index corrupt", who="alice")
    assert isinstance(overridden, dict)
    assert overridden["state"] == "executed"
    assert overridden["override"]["by"] == "alice"
    assert overridden["override"]["reviewed_by"] is None
    assert q.revision("search", "production") == "v2.8.0"
    waiting = q.json("approvals")
    assert isinstance(waiting, dict)
    assert [p["id"] for p in waiting["awaiting_review"]] == [1]

    assert q("review", "1", who="alice") == 3
    assert "cannot review" in q.err
    assert q("review", "1", "--comment", "agreed", who="bob") == 0
    waiting = q.json("approvals")
    assert isinstance(waiting, dict) and waiting["awaiting_review"] == []
    assert q("review", "1", who="carol") == 3  # reviewed once


@pytest.mark.parametrize(
    "argv",
    [
        ["vote", "1", "approve"],
        ["deploy", "api", "--env", "staging", "--revision", "v1"],
        ["rollback", "api", "--env", "production"],
        ["override", "1", "--reason", "x"],
        ["review", "1"],
        ["propose", "deploy", "api", "--env", "production", "--revision", "v1"],
        ["actions", "resolve", "k", "--outcome", "failed"],
    ],
)
def test_readonly_refuses_every_mutating_command(q: Quorum, argv: list[str]) -> None:
    assert q("--readonly", *argv) == 3
    assert "read-only console (--readonly)" in q.err
    assert q.err.count("\n") == 1


def test_non_members_cannot_vote_and_bad_ids_are_usage_errors(q: Quorum) -> None:
    assert q("propose", "deploy", "api", "--env", "production", "--revision", "v2") == 0
    assert q("vote", "1", "approve", who="mallory") == 3
    assert "mallory is not in [team] members" in q.err
    assert q("vote", "abc", "approve") == 2
    assert q("vote", "99", "approve", who="alice") == 2
    assert q.err.endswith(
        "no proposal 99 (there is only proposal 1; `quorum approvals` lists the open ones)\n"
    )
    assert q("propose", "deploy", "web", "--env", "production", "--revision", "v2") == 0
    assert q("review", "7", who="alice") == 2
    assert q.err.endswith(
        "no proposal 7 (ids run from 1 to 2; `quorum approvals` lists the open ones)\n"
    )
    assert q("deploy", "nosuch", "--env", "production", "--revision", "v1") == 2


def test_an_id_before_any_proposal_says_none_was_made(q: Quorum) -> None:
    assert q("vote", "1", "approve", who="alice") == 2
    assert q.err.endswith("no proposal 1 (none has been made yet)\n")


def test_amend_dismisses_stale_votes_and_withdraw_closes(q: Quorum) -> None:
    assert q("propose", "deploy", "worker", "--env", "production", "--revision", "v1") == 0
    assert q("vote", "1", "approve", who="alice") == 0
    amended = q.json("propose", "amend", "1", "--revision", "v2")
    assert isinstance(amended, dict)
    assert (amended["revision"], amended["approvals"], amended["needed"]) == ("v2", [], 2)
    assert [v["counts"] for v in amended["votes"]] == [False]
    assert q("propose", "withdraw", "1", who="alice") == 3
    withdrawn = q.json("propose", "withdraw", "1")
    assert isinstance(withdrawn, dict) and withdrawn["state"] == "withdrawn"


def test_a_proposal_where_no_votes_are_needed_runs_at_once(q: Quorum) -> None:
    made = q.json("propose", "deploy", "web", "--env", "staging", "--revision", "v8.2.0")
    assert isinstance(made, dict)
    assert (made["state"], made["needed"], made["execution"]["ok"]) == ("executed", 0, True)
    assert q.revision("web", "staging") == "v8.2.0"


def test_the_same_change_proposed_twice_points_to_the_open_proposal(q: Quorum) -> None:
    assert q("deploy", "api", "--env", "production", "--revision", "v3.0.0") == 3
    assert "opened proposal 1" in q.err
    assert q("deploy", "api", "--env", "production", "--revision", "v3.0.0", who="alice") == 3
    assert "not proposed again: proposal 1 already proposes deploy api@production to v3.0.0" in (
        q.err
    )
    assert q.err.count("\n") == 1
    again = q("propose", "deploy", "api", "--env", "production", "--revision", "v3.0.0", "--json")
    assert again == 3
    shown = json.loads(q.out)
    assert (shown["id"], shown["already_open"], shown["state"]) == (1, True, "open")
    waiting = q.json("approvals")
    assert isinstance(waiting, dict)
    assert [p["id"] for p in waiting["proposals"]] == [1]
    # Another revision is another change; once withdrawn, the same one may be proposed again.
    made = q.json("propose", "deploy", "api", "--env", "production", "--revision", "v3.0.1")
    assert isinstance(made, dict) and made["id"] == 2
    assert q("propose", "withdraw", "1") == 0
    reopened = q.json("propose", "deploy", "api", "--env", "production", "--revision", "v3.0.0")
    assert isinstance(reopened, dict) and reopened["id"] == 3


def test_approvals_lists_in_the_consoles_order_newest_first(q: Quorum) -> None:
    """What waits reads as in the console's Approvals pane (console.engine.waiting):
    the newest proposal first, and the newest override awaiting review first."""
    for service, revision in [("api", "v2.9.0"), ("web", "v4.0.1"), ("auth", "v3.13.0")]:
        argv = ["propose", "deploy", service, "--env", "production", "--revision", revision]
        assert q(*argv) == 0, q.err
    assert q("vote", "1", "reject", "--comment", "not yet", who="alice") == 0
    for pid in ("4", "5"):
        argv = ["propose", "restart", ["search", "billing"][int(pid) - 4], "--env", "production"]
        assert q(*argv) == 0, q.err
        assert q("override", pid, "--reason", "down", who="alice") == 0, q.err
    assert q("approvals") == 0, q.err
    text, _, reviews = q.out.partition("overrides awaiting review:")
    heads = [line.split()[0] for line in text.splitlines() if line[:1].isdigit()]
    assert heads == ["3", "2", "1"]
    assert [line.split()[0] for line in reviews.splitlines() if line[:1].isdigit()] == ["5", "4"]
    waiting = q.json("approvals")
    assert isinstance(waiting, dict)
    assert [p["id"] for p in waiting["proposals"]] == [1, 2, 3]  # --json keeps id order
