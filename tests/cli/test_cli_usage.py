"""A mistake on the command line is answered by the command it was made in."""

from __future__ import annotations

import argparse

import pytest

from console.cli.main import build_parser, main


def _usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--sandbox"])
    assert exit_info.value.code == 2
    return capsys.readouterr().err.splitlines()


def test_a_misspelt_option_shows_the_commands_usage_and_the_near_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _usage_error(capsys, "status", "--jsno")
    assert lines[0].startswith("usage: quorum status ")
    usage = " ".join(lines[:-1])  # argparse wraps a long usage over lines
    assert "--json" in usage and "COMMAND" not in usage
    assert lines[-1] == (
        "quorum status: error: unrecognized arguments: --jsno (did you mean --json?)"
    )


def test_a_nested_command_answers_for_itself(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _usage_error(capsys, "rotation", "swap", "list", "--bogus")
    assert lines[0].startswith("usage: quorum rotation swap list ")
    assert lines[-1] == "quorum rotation swap list: error: unrecognized arguments: --bogus"


def test_a_stray_word_is_named_without_a_far_fetched_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _usage_error(capsys, "audit", "tail", "--nn", "3")
    assert lines[-1] == "quorum audit tail: error: unrecognized arguments: --nn 3"


def _commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_reports_an_unknown_option_itself(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _usage_error(capsys, command, "--no-such-option")
    assert lines[-1].startswith(f"quorum {command}")


def test_a_misspelt_command_is_answered_with_the_near_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _usage_error(capsys, "stauts")
    assert lines[-1] == (
        "quorum: error: unknown command 'stauts'; did you mean 'status'? "
        "(`quorum --help` lists them)"
    )
    lines = _usage_error(capsys, "zzz")
    assert lines[-1].startswith("quorum: error: argument COMMAND: invalid choice: 'zzz'")
    assert all(f"'{command}'" in lines[-1] for command in _commands())


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["audit", "tial"], "quorum audit: error: unknown command 'tial'; did you mean 'tail'?"),
        (
            ["rotation", "overide"],
            "quorum rotation: error: unknown command 'overide'; did you mean 'override'?",
        ),
        (["ledger", "int"], "quorum ledger: error: unknown command 'int'; did you mean 'init'?"),
        (
            ["rotation", "swap", "tkae"],
            "quorum rotation swap: error: unknown command 'tkae'; did you mean 'take'?",
        ),
        (["propose", "deplyo"], "quorum propose: error: unknown command 'deplyo'; did you mean"),
    ],
)
def test_a_misspelt_nested_command_is_answered_with_the_near_one(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    lines = _usage_error(capsys, *argv)
    assert lines[0].startswith(f"usage: quorum {' '.join(argv[:-1])} ")
    assert lines[-1].startswith(said)
    assert lines[-1].endswith(f"(`quorum {' '.join(argv[:-1])} --help` lists them)")


def test_a_nested_word_near_nothing_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _usage_error(capsys, "audit", "zzz")
    assert lines[-1] == (
        "quorum audit: error: argument ACTION: invalid choice: 'zzz' "
        "(choose from 'tail', 'verify', 'export')"
    )


def test_a_bad_value_is_still_the_commands_own_error(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _usage_error(capsys, "scale", "api", "--env", "staging", "--replicas", "two")
    assert lines[-1].startswith("quorum scale: error: argument --replicas")


def test_a_misspelt_choice_is_answered_with_the_near_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _usage_error(capsys, "vote", "1", "aprove")
    assert lines[-1] == (
        "quorum vote: error: argument choice: invalid choice: 'aprove' "
        "(choose from 'approve', 'reject'); did you mean 'approve'?"
    )
    lines = _usage_error(capsys, "actions", "resolve", "k", "--outcome", "finshed")
    assert lines[-1].startswith("quorum actions resolve: error: argument --outcome: invalid")
    assert lines[-1].endswith("; did you mean 'finished'?")
