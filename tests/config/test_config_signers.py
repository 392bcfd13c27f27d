"""`[team] allowed_signers`: the members' keys, read with the config and reported by check."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.main import main
from console.config.load import ConfigError, load_config
from tests.signing_support import SoftKeys

KEYS = SoftKeys(("alice", "bob"))


def write(tmp_path: Path, signers: str) -> Path:
    (tmp_path / "allowed_signers").write_text(signers)
    config = tmp_path / "quorum.toml"
    config.write_text(
        '[team]\nmembers = ["alice", "bob", "erin"]\nallowed_signers = "allowed_signers"\n'
    )
    return config


def test_the_keys_are_read_relative_to_the_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f"alice {KEYS.public('alice').openssh()}\n"))
    assert config.signers is not None
    assert config.signers.keys_for("alice") == (KEYS.public("alice"),)


def test_check_says_votes_are_signed_and_who_has_no_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = "".join(f"{n} {KEYS.public(n).openssh()}\n" for n in ("alice", "bob"))
    path = write(tmp_path, lines)
    assert main(["config", "check", "--config", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (
        f"votes are signed: 2 keys in {tmp_path / 'allowed_signers'}; "
        "no key for erin: their acts will not count"
    )


def test_unusable_lines_and_a_missing_file_are_config_problems(tmp_path: Path) -> None:
    path = write(tmp_path, f"* {KEYS.public('alice').openssh()}\n")
    with pytest.raises(ConfigError) as bad:
        load_config(path)
    assert "team.allowed_signers: " in str(bad.value)
    assert "allowed_signers:1: wildcard principals are not honoured" in str(bad.value)
    (tmp_path / "allowed_signers").unlink()
    with pytest.raises(ConfigError, match="allowed_signers: no such file"):
        load_config(path)
