"""Hostile and bad input on the command line: one clear line, the right exit code,
nothing hidden from the person reading, and nothing recorded that should not be."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.inert import neutralise
from console.domain.names import current_user
from console.store.audit import AuditLog

ME = current_user()
BIDI = "\u202e"
INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f"
    "\u2028\u2029\u00ad\ufeff\U000e0001\U000e0041\U000e007f"
)


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


def run(capsys: pytest.CaptureFixture[str], *argv: str, who: str | None = None):
    if who is not None:
        os.environ["QUORUM_ACT_AS"] = who
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    finally:
        os.environ.pop("QUORUM_ACT_AS", None)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    return err


def sandbox_log(data: Path) -> list[tuple[str, str, str]]:
    with AuditLog(data / "sandbox" / "audit.db") as log:
        return [(r.action, r.outcome, r.comment) for r in log.tail(1000)]


# -- inert text ------------------------------------------------------------------------


@pytest.mark.parametrize("ch", list(INVISIBLE))
def test_every_bidi_and_invisible_character_is_made_visible(ch: str) -> None:
    shown = neutralise(f"txt{ch}exe")
    assert ch not in shown
    assert f"\\u{ord(ch):04x}" in shown or f"\\U{ord(ch):08x}" in shown


def test_a_comment_with_a_right_to_left_override_is_shown_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "propose", "deploy", "api", "--env", "production",
               "--revision", "v2", "--sandbox")[0] == 0  # fmt: skip
    comment = f"fine {BIDI}exe.txt"
    code, out, _ = run(capsys, "vote", "1", "approve", "--comment", comment, "--sandbox",
                       who="alice")  # fmt: skip
    assert code == 0
    assert BIDI not in out and "fine \\u202eexe.txt" in out
    code, out, _ = run(capsys, "audit", "tail", "--sandbox")
    assert BIDI not in out and "\\u202e" in out


def test_json_escapes_c1_controls_and_invisible_characters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "propose", "deploy", "api", "--env", "production",
               "--revision", "v2", "--sandbox")[0] == 0  # fmt: skip
    comment = "ok \x9b31m \x9d0;x\x9c " + BIDI + "\U000e0041"
    assert run(capsys, "vote", "1", "approve", "--comment", comment, "--sandbox",
               who="alice")[0] == 0  # fmt: skip
    code, out, _ = run(capsys, "approvals", "--json", "--sandbox")
    assert code == 0
    for raw in ("\x9b", "\x9d", "\x9c", BIDI, "\U000e0041"):
        assert raw not in out
    assert "\\u009b" in out and "\\u202e" in out and "\\udb40\\udc41" in out
    (proposal,) = json.loads(out)["proposals"]
    assert proposal["votes"][0]["comment"] == comment  # the data itself is unchanged


@pytest.mark.parametrize("reason", ["\u200b", "\u2060\ufeff", " \u200b\u200d "])
def test_a_reason_of_only_invisible_characters_is_no_reason(
    capsys: pytest.CaptureFixture[str], isolated_quorum: Path, reason: str
) -> None:
    assert run(capsys, "propose", "deploy", "api", "--env", "production",
               "--revision", "v2", "--sandbox")[0] == 0  # fmt: skip
    code, _, err = run(capsys, "override", "1", "--reason", reason, "--sandbox", who="alice")
    assert code == 2
    assert one_line(err) == ("quorum: an override's reason (--reason) must have visible text\n")
    code, _, err = run(capsys, "vote", "1", "approve", "--comment", reason, "--sandbox",
                       who="bob")  # fmt: skip
    assert (code, err) == (2, "quorum: a vote's comment (--comment) must have visible text\n")
    assert [a for a, _, _ in sandbox_log(isolated_quorum)] == ["propose"]


# -- which config --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["status", "--config", ""], None, "quorum: --config is empty: name a config file\n"),
        (
            ["status"],
            "",
            "quorum: $QUORUM_CONFIG is set but empty: name a config file or unset it\n",
        ),
        (
            ["status", "--sandbox", "--config", "/etc/quorum.toml"],
            None,
            "quorum: --sandbox and --config exclude each other: use one of them\n",
        ),
        (
            ["config", "check", "--sandbox", "--config", "/etc/quorum.toml"],
            None,
            "quorum: --sandbox and --config exclude each other: use one of them\n",
        ),
        (
            ["config", "check"],
            " ",
            "quorum: $QUORUM_CONFIG is set but empty: name a config file or unset it\n",
        ),  # fmt: skip
        # The console itself (no command) refuses the same before it opens.
        (["--config", ""], None, "quorum: --config is empty: name a config file\n"),
        ([], "", "quorum: $QUORUM_CONFIG is set but empty: name a config file or unset it\n"),
        (
            ["--sandbox", "--config", "/etc/quorum.toml"],
            None,
            "quorum: --sandbox and --config exclude each other: use one of them\n",
        ),
    ],
)
def test_an_empty_or_ignored_config_choice_is_an_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: str | None,
    message: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("QUORUM_CONFIG", env)
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", message)


def test_the_sandbox_keeps_its_own_audit_log(
    capsys: pytest.CaptureFixture[str], isolated_quorum: Path, tmp_path: Path
) -> None:
    team = tmp_path / "team.toml"
    team.write_text(f'[team]\nmembers = ["{ME}", "alice"]\n')
    assert run(capsys, "propose", "deploy", "api", "--env", "production",
               "--revision", "v2", "--sandbox")[0] == 0  # fmt: skip
    assert (isolated_quorum / "sandbox" / "audit.db").exists()
    code, out, _ = run(capsys, "audit", "tail", "--json", "--config", str(team))
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = run(capsys, "approvals", "--json", "--config", str(team))
    assert json.loads(out)["proposals"] == []


def test_the_sandbox_keeps_its_own_rotation_overrides(
    capsys: pytest.CaptureFixture[str], isolated_quorum: Path, tmp_path: Path
) -> None:
    team = tmp_path / "team.toml"
    team.write_text(
        f'[team]\nmembers = ["{ME}", "alice", "bob"]\n\n[[rotation]]\nname = "on-call"\n'
        f'every = "week"\nmembers = ["{ME}", "alice", "bob"]\nstart = 2026-01-05\n'
    )
    span = ["--from", "2030-01-01", "--to", "2030-01-02", "--reason", "cover"]
    code, _, err = run(capsys, "rotation", "override", "on-call", "--who", "bob", *span,
                       "--sandbox")  # fmt: skip
    assert code == 0, err
    at = ["--at", "2030-01-01T12:00:00Z", "--json"]
    code, out, _ = run(capsys, "rotation", *at, "--sandbox")
    (sandboxed,) = json.loads(out)["rotations"][1:]
    assert (sandboxed["holder"], sandboxed["override"]) == ("bob", True)
    code, out, err = run(capsys, "rotation", *at, "--config", str(team))
    assert code == 0, err
    (real,) = json.loads(out)["rotations"]
    assert real["override"] is False
    code, out, _ = run(capsys, "audit", "tail", "--json", "--config", str(team))
    assert json.loads(out) == []


def test_the_sandbox_keeps_its_certificates_beside_its_audit_log(
    capsys: pytest.CaptureFixture[str], isolated_quorum: Path
) -> None:
    code, out, _ = run(capsys, "propose", "deploy", "api", "--env", "staging",
                       "--revision", "v2", "--json", "--sandbox")  # fmt: skip
    proposal = json.loads(out)
    assert (code, proposal["state"]) == (0, "executed")  # staging needs no vote: it ran
    written = isolated_quorum / "sandbox" / "certificates" / f"proposal-{proposal['id']}.json"
    assert json.loads(written.read_text())["proposal"]["id"] == proposal["id"]
    assert not (isolated_quorum / "certificates").exists()


# -- config problems ---------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "quorum.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_command_prints_config_problems_one_per_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, '[team]\nname = 3\n\n[policy.production]\nmin_approvals = "two"\n')
    code, _, err = run(capsys, "status", "--config", str(path))
    assert code == 2
    assert err == (
        f"quorum: {path}:2: team.name: expected a string, got an integer\n"
        f"quorum: {path}:5: policy.production.min_approvals: expected an integer, got a string\n"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('vote_ttl = "99999999999w"', "vote_ttl: duration too long: at most 520w"),
        (f'vote_ttl = "{"9" * 5000}s"', "vote_ttl: duration too long: at most 520w"),
        ("min_approvals = -1", "min_approvals: must be 0 or more"),
        ("min_approvals = 99999999999999999", "min_approvals: must be at most 1000"),
    ],
)
def test_policy_numbers_are_bounded_and_reported_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, problem: str
) -> None:
    path = write(
        tmp_path, f'[team]\nmembers = ["{ME}", "alice", "bob"]\n\n[policy.production]\n{text}\n'
    )
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (2, f"{path}:5: policy.production.{problem}\n")


def test_a_negative_min_approvals_is_its_only_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path, f'[team]\nmembers = ["{ME}"]\n\n[policy.production]\nmin_approvals = -1\n'
    )
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (2, f"{path}:5: policy.production.min_approvals: must be 0 or more\n")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_thresholds_must_be_finite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    path = write(tmp_path, f"[thresholds]\ncpu = [{value}, 90]\n")
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (
        2,
        f"{path}:2: thresholds.cpu: thresholds must be finite numbers (not nan or inf)\n",
    )


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "0", "31"])
def test_a_notify_timeout_is_bounded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    path = write(tmp_path, f'[[notify]]\nkind = "webhook"\nurl_env = "HOOK"\ntimeout = {value}\n')
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (
        2,
        f"{path}:4: notify[0].timeout: must be more than 0 and at most 30 seconds\n",
    )


def test_a_config_path_that_never_ends_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        code, _, err = run(capsys, "config", "check", "--config", path)
        assert (code, err) == (2, f"{path}: not a regular file\n")
        code, _, err = run(capsys, "status", "--config", path)
        assert (code, err) == (2, f"quorum: {path}: not a regular file\n")


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 50_000 + "]" * 50_000 + "\n",
        "[team]\nname = " + "{a=" * 5_000 + "1" + "}" * 5_000 + "\n",
    ],
    ids=["arrays", "inline-tables"],
)
def test_a_config_nested_beyond_reason_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str
) -> None:
    path = write(tmp_path, text)
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (2, f"{path}: nested too deeply to be a Quorum config\n")
    code, _, err = run(capsys, "status", "--config", str(path))
    assert (code, err) == (2, f"quorum: {path}: nested too deeply to be a Quorum config\n")


def test_an_allowed_signers_file_that_never_ends_is_a_config_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "signers.fifo"
    os.mkfifo(fifo)
    for signers in ("/dev/zero", str(fifo)):
        path = write(tmp_path, f'[team]\nmembers = ["{ME}"]\nallowed_signers = "{signers}"\n')
        code, _, err = run(capsys, "config", "check", "--config", str(path))
        assert (code, err) == (
            2,
            f"{path}:3: team.allowed_signers: {signers}: not a regular file\n",
        )


@pytest.mark.parametrize(
    "secret",
    [
        "https://discord.com/api/webhooks/123456/abcdefghijklmnop",
        "https://hooks.example/x?token=abc",
        "abcdefghijklmnopqrstuvwxyz0123456789",
    ],
)
def test_a_value_that_may_be_a_secret_is_never_echoed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, secret: str
) -> None:
    path = write(
        tmp_path,
        f'[policy.production]\nrequire_rotation_approval = "{secret}"\n\n'
        f'[[providers]]\nname = "x"\nkind = "{secret}"\n\n'
        f'[[notify]]\nkind = "{secret}"\nurl_env = "HOOK"\n',
    )
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert code == 2 and err.count("\n") == 3
    assert secret not in err and secret[:20] not in err
    assert "no rotation named (rotations: none is configured)" in err


def test_a_short_plain_value_is_still_echoed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, '[[notify]]\nkind = "slak"\nurl_env = "HOOK"\n')
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (2, f"{path}:2: notify[0].kind: unknown notify kind 'slak'; "
                              "did you mean 'slack'?\n")  # fmt: skip


def test_a_missing_default_kubeconfig_is_a_config_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    path = write(tmp_path, '[[providers]]\nname = "k8s"\nkind = "kubernetes"\ncontext = "prod"\n')
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (
        2,
        f"{path}:1: providers[0].kubeconfig: no kubeconfig: {tmp_path}/home/.kube/config does "
        "not exist and $KUBECONFIG is not set; set kubeconfig = PATH, or in_cluster = true "
        "inside a cluster\n",
    )


def test_a_kubeconfig_that_never_ends_is_named_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "kubeconfig.fifo"
    os.mkfifo(fifo)
    for kubeconfig in ("/dev/zero", str(fifo)):
        path = write(
            tmp_path,
            f'[[providers]]\nname = "k8s"\nkind = "kubernetes"\nkubeconfig = "{kubeconfig}"\n',
        )
        code, _, err = run(capsys, "config", "check", "--config", str(path))
        assert (code, err) == (
            2,
            f"{path}:4: providers[0].kubeconfig: not a regular file: {kubeconfig}\n",
        )


def test_a_deploy_command_that_does_not_exist_is_found_before_the_votes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(
        tmp_path,
        f'[team]\nmembers = ["{ME}", "alice", "bob"]\n\n[policy.production]\n'
        'min_approvals = 2\ndeploy_command = "./scripts/deploy.sh full production"\n\n'
        '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n',
    )
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert (code, err) == (
        2,
        f"{path}:6: policy.production.deploy_command: ./scripts/deploy.sh does not exist "
        f"(from {tmp_path})\n",
    )
    code, _, err = run(capsys, "propose", "deploy", "api", "--env", "production",
                       "--revision", "v2", "--config", str(path))  # fmt: skip
    assert (code, err) == (
        2,
        "quorum: deploy_command of [policy.production]: ./scripts/deploy.sh does not exist "
        f"(from {tmp_path})\n",
    )


@pytest.mark.parametrize(
    "command",
    ["https://hooks.example/x?token=abc --prod", "/srv/ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5/run"],
)
def test_a_deploy_command_that_may_be_a_secret_is_not_echoed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    path = write(
        tmp_path,
        f'[team]\nmembers = ["{ME}", "alice", "bob"]\n\n[policy.production]\n'
        f'deploy_command = "{command}"\n',
    )
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert code == 2
    assert err.startswith(
        f"{path}:5: policy.production.deploy_command: the program it names does not exist "
        "(not repeated here: it may be a secret)"
    )
    assert command.split()[0] not in err and "token" not in err


# -- numbers, durations and bytes on the command line ------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["logs", "api", "--env", "staging", "--since", "99999999999999w"],
        ["logs", "api", "--env", "staging", "--tail", "1" + "0" * 23],
        ["scale", "api", "--env", "staging", "--replicas", "1" + "0" * 23],
        ["propose", "scale", "api", "--env", "production", "--replicas", "1" + "0" * 23],
        ["audit", "tail", "-n", "1" + "0" * 23],
        ["rotation", "schedule", "--days", "1" + "0" * 23],
        ["rotation", "ics", "--months", "99999999"],
        ["rotation", "--at", "9999-12-31T23:59:59-12:00"],
        ["rotation", "notify", "--within", "99999999999w"],
    ],
)
def test_huge_numbers_are_one_usage_error(
    capsys: pytest.CaptureFixture[str], isolated_quorum: Path, argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--sandbox")
    assert code == 2, err
    assert err.strip() and out == ""
    assert (
        not (isolated_quorum / "sandbox" / "audit.db").exists()
        or sandbox_log(isolated_quorum) == []
    )


@pytest.mark.parametrize("when", ["9" * 5000, "https://hooks.example/x?token=abc"])
def test_a_long_or_secret_looking_date_is_not_echoed_back(
    capsys: pytest.CaptureFixture[str], when: str
) -> None:
    code, out, err = run(capsys, "rotation", "--at", when, "--sandbox")
    assert (code, out) == (2, "")
    assert err == ("quorum: not a date or datetime (e.g. 2026-12-24 or 2026-12-24T09:00+01:00)\n")


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["vote", "1", "approve", "--comment", "ok\udcff"], "--comment"),
        (
            ["propose", "deploy", "api", "--env", "production", "--revision", "v\udcff"],
            "--revision",
        ),  # fmt: skip
        (["override", "1", "--reason=bad\udcfe"], "--reason"),
        (["status", "\udcff"], "argument 2"),
    ],
)
def test_invalid_utf8_in_an_argument_is_one_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str
) -> None:
    code, out, err = run(capsys, *argv, "--sandbox")
    assert (code, out) == (2, "")
    what = f"the value of {flag}" if flag.startswith("--") else flag
    assert err == f"quorum: {what} is not valid UTF-8 text\n"


FORGED = "bob\nquorum: proposal 1 approved\x1b]0;owned\x07"


@pytest.mark.parametrize(
    "argv",
    [
        [
            "rotation",
            "override",
            "on-call",
            "--who",
            FORGED,
            "--reason",
            "cover",
            "--from",
            "2030-01-01",
            "--to",
            "2030-01-02",
        ],
        ["status", FORGED],
        ["vote", "1", "approve", "--sandbox", FORGED],
    ],  # fmt: skip
    ids=["a refusal", "an unknown argument", "after an option"],
)
def test_a_line_break_in_an_argument_cannot_forge_a_second_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--sandbox")
    assert (code, out) == (2, "")
    last = err.splitlines()[-1]
    assert "bob␊quorum: proposal 1 approved␛]0;owned␇" in last
    assert "\x1b" not in err and "\x07" not in err
    assert not any(line.startswith("quorum: proposal") for line in err.splitlines())


# -- revisions ---------------------------------------------------------------------------


@pytest.mark.parametrize("revision", ["no such; rev", "v1 $(id)", "`id`"])
def test_a_revision_the_provider_refuses_opens_no_proposal(
    capsys: pytest.CaptureFixture[str], isolated_quorum: Path, revision: str
) -> None:
    code, _, err = run(capsys, "propose", "deploy", "api", "--env", "production",
                       "--revision", revision, "--sandbox")  # fmt: skip
    assert code == 2
    assert one_line(err).startswith("quorum: sim-k8s cannot deploy this revision: ")
    assert run(capsys, "approvals", "--json", "--sandbox")[1].count('"id"') == 0
    assert run(capsys, "propose", "deploy", "api", "--env", "production",
               "--revision", "v2", "--sandbox")[0] == 0  # fmt: skip
    code, _, err = run(capsys, "propose", "amend", "1", "--revision", revision, "--sandbox")
    assert code == 2 and "cannot deploy this revision" in err
    assert (
        json.loads(run(capsys, "approvals", "--json", "--sandbox")[1])["proposals"][0]["revision"]
        == "v2"
    )


@pytest.mark.parametrize("revision", ["v1\nrm -rf /", "v1\x1b[2J", "v1\u202e", "v1\tx"])
def test_control_characters_never_reach_a_deploy_command(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    revision: str,
) -> None:
    ran = tmp_path / "ran"
    script = tmp_path / "deploy.sh"
    script.write_text(f'#!/bin/sh\necho "$QUORUM_REVISION" >> {ran}\n')
    script.chmod(0o755)
    path = write(
        tmp_path,
        f'[team]\nmembers = ["{ME}"]\n\n[policy.staging]\ndeploy_command = "{script}"\n\n'
        '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n',
    )
    for argv in (
        ["deploy", "api", "--env", "staging", "--revision", revision],
        ["rollback", "api", "--env", "staging", "--to", revision],
        ["propose", "deploy", "api", "--env", "staging", "--revision", revision],
    ):
        code, _, err = run(capsys, *argv, "--config", str(path))
        assert (code, err) == (
            2,
            "quorum: a revision cannot contain control or invisible characters\n",
        )
    assert not ran.exists()


# -- a ledger that cannot be used --------------------------------------------------------


def corrupt_schema_text(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = 'CREATE TABLE audit_log(' WHERE name = 'audit_log'"
    )
    conn.commit()
    conn.close()


def corrupt_schema_page(path: Path) -> None:
    """Garbage over the schema's page (page 1 after the 100-byte file header)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("corrupt", [corrupt_schema_text, corrupt_schema_page])
@pytest.mark.parametrize(
    "argv",
    [
        ["vote", "1", "approve"],
        ["propose", "deploy", "web", "--env", "production", "--revision", "v3"],
        ["approvals"],
        ["audit", "tail"],
        ["audit", "verify"],
        ["rotation"],
        ["deploy", "web", "--env", "staging", "--revision", "v3"],
    ],
)
def test_a_database_with_corrupt_schema_bytes_is_one_line(
    capsys: pytest.CaptureFixture[str], isolated_quorum: Path, corrupt, argv: list[str]
) -> None:
    assert run(capsys, "propose", "deploy", "api", "--env", "production",
               "--revision", "v2", "--sandbox")[0] == 0  # fmt: skip
    path = isolated_quorum / "sandbox" / "audit.db"
    corrupt(path)
    code, _, err = run(capsys, *argv, "--sandbox")
    assert code == 1, err
    assert one_line(err).startswith("quorum: ") and str(path) in err


# -- certificates handed in to verify -----------------------------------------------------


@pytest.fixture
def signers(tmp_path: Path) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text("")
    return path


def test_a_certificate_or_signers_file_that_never_ends_is_one_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, signers: Path
) -> None:
    fifo = tmp_path / "cert.fifo"
    os.mkfifo(fifo)
    for name in ("/dev/zero", str(fifo)):
        code, out, err = run(capsys, "certificate", "verify", name,
                             "--allowed-signers", str(signers), "--sandbox")  # fmt: skip
        assert (code, out, err) == (2, "", f"quorum: certificate {name}: not a regular file\n")
        code, out, err = run(capsys, "certificate", "verify", str(signers),
                             "--allowed-signers", name, "--sandbox")  # fmt: skip
        assert (code, out) == (2, "")
        assert err == f"quorum: --allowed-signers {name}: not a regular file\n"


def test_a_certificate_on_stdin_is_read_to_a_bound(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, signers: Path
) -> None:
    endless = open("/dev/zero", "rb")  # noqa: SIM115 - closed below
    try:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(endless))
        code, out, err = run(capsys, "certificate", "verify", "-",
                             "--allowed-signers", str(signers), "--sandbox")  # fmt: skip
    finally:
        endless.close()
    assert (code, out, err) == (2, "", "quorum: certificate -: larger than 1 MiB\n")


def test_a_certificate_nested_beyond_reason_is_one_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, signers: Path
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    code, out, err = run(capsys, "certificate", "verify", str(deep),
                         "--allowed-signers", str(signers), "--sandbox")  # fmt: skip
    assert (code, out, err) == (
        2,
        "",
        f"quorum: certificate {deep}: not JSON (nested too deeply)\n",
    )
