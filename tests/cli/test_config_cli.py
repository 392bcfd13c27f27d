"""`quorum config check`: exit 0 with a summary, or every problem on stderr and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.identity import current_identity
from tests.config.test_config_load import MALFORMED
from tests.paths import CONFIGS, ROOT

PLUGINS = CONFIGS / "plugins"
ME = current_identity().name

VALID = """
[team]
name = "collective"
members = ["alice", "bob", "carol"]

[policy.production]
min_approvals = 2

[[providers]]
name = "api"
kind = "picky"
api_url = "http://127.0.0.1:9"

[[services]]
name = "billing"
thresholds = { p99 = [800, 2000] }

[[notify]]
kind = "webhook"
url_env = "QUORUM_WEBHOOK_URL"

[[rotation]]
name = "infrastructure"
every = "month"
members = ["alice", "bob"]
start = 2026-01-01
"""


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_is_ok_with_a_summary(tmp_path, plugins, capsys):
    path = write(tmp_path, VALID.replace('"alice", "bob", "carol"', f'"alice", "bob", "{ME}"'))
    assert main(["config", "check", "--config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == (
        f"ok: {path} (1 provider, 1 service, 1 policy, 1 rotation, 1 notify sink, 3 members)\n"
        "votes are unsigned: [team] allowed_signers is not set, so anyone who can write the "
        "shared file can add votes or change a proposal's state; set it to sign every act "
        "with the members' SSH keys\n"
    )
    assert err == ""


def test_config_from_the_environment_and_the_option_before_the_command(
    tmp_path, plugins, capsys, monkeypatch
):
    path = write(tmp_path, VALID)
    monkeypatch.setenv("QUORUM_CONFIG", str(path))
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {path} (")
    monkeypatch.delenv("QUORUM_CONFIG")
    assert main(["--config", str(path), "config", "check"]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {path} (")


def test_xdg_config_is_found(tmp_path, plugins, capsys, monkeypatch):
    home = tmp_path / "xdg"
    (home / "quorum").mkdir(parents=True)
    (home / "quorum" / "config.toml").write_text(VALID, encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {home / 'quorum' / 'config.toml'} (")


def test_every_problem_is_printed_one_per_line_and_exit_2(capsys):
    path = CONFIGS / "policy_types.toml"
    assert main(["config", "check", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    expected = dict(MALFORMED)["policy_types.toml"]
    assert err == "".join(f"{path}:{line}: {key}: {message}\n" for line, key, message in expected)


def test_no_config_anywhere_means_the_sandbox(capsys, tmp_path):
    assert main(["config", "check"]) == 0
    expected = tmp_path / "xdg-config" / "quorum" / "config.toml"
    assert capsys.readouterr().out == (
        f"ok: no config at {expected}; quorum would open the built-in sandbox\n"
    )


def test_a_named_config_that_does_not_exist_is_an_error(tmp_path, capsys):
    missing = tmp_path / "missing.toml"
    assert main(["config", "check", "--config", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}: no such file\n"


def test_sandbox_flag_reads_no_file(capsys):
    assert main(["config", "check", "--sandbox"]) == 0
    assert "built-in sandbox" in capsys.readouterr().out


def test_provider_broken_at_build_time_is_a_problem_on_its_line(tmp_path, plugins, capsys):
    text = VALID.replace(
        "[[services]]", '[[providers]]\nname = "legacy"\nkind = "broken-sdk"\n\n[[services]]'
    )
    path = write(tmp_path, text)
    line = text.splitlines().index('name = "legacy"')  # the header is the line before it
    assert main(["config", "check", "--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}:{line}: providers[1]: provider kind 'broken-sdk' failed to import: "
        "the broken-sdk client library is not installed\n"
    )


def test_config_without_an_action_is_a_usage_error(capsys):
    assert main(["config"]) == 2
    assert "quorum config check" in capsys.readouterr().err


def test_problems_are_neutralised_on_the_terminal(tmp_path, capsys):
    path = write(tmp_path, '[policy."prod\\u001b]0;pwned\\u0007"]\nmin_approvals = -1\n')
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert err.endswith("must be 0 or more\n")


def test_the_example_config_checks_ok_end_to_end_from_anywhere(capsys, tmp_path, monkeypatch):
    example = ROOT / "config.example.toml"
    monkeypatch.chdir(tmp_path)  # nothing it names lives beside it
    assert main(["config", "check", "--config", str(example)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == (
        f"ok: {example} (4 providers, 1 service, 3 policies, 2 rotations, 0 notify sinks, "
        "3 members)"
    )
    # Until its one edit is made, it says so: the person checking is not a member.
    assert err == (
        f"warning: [team] members does not list {ME}: you ({ME}) can read, but not vote, "
        "override, review or make changes with this config\n"
    )


def test_the_example_config_with_its_one_edit_lets_its_reader_change_things(
    capsys, tmp_path, monkeypatch
):
    example = ROOT / "config.example.toml"
    edited = tmp_path / "quorum.toml"
    text = example.read_text()
    assert text.count('members = ["alice", "bob", "carol"]        # EDIT') == 1
    edited.write_text(
        text.replace(
            'members = ["alice", "bob", "carol"]', f'members = ["{ME}", "alice", "bob", "carol"]'
        )
    )
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    assert main(["config", "check", "--config", str(edited)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["rollback", "api", "--env", "production", "--config", str(edited)]) == 0
    assert capsys.readouterr().out.startswith("rollback finished: ")
    assert main(["deploy", "api", "--env", "staging", "--revision", "v9.9.9",
                 "--config", str(edited)]) == 0  # fmt: skip
    assert capsys.readouterr().out.startswith("deploy finished: deployment/api (staging)")
    # Production waits for two of the others: a proposal, not a refusal.
    assert main(["deploy", "api", "--env", "production", "--revision", "v9.9.9",
                 "--config", str(edited)]) == 3  # fmt: skip
    assert "opened proposal 1" in capsys.readouterr().err
