"""The ledger's server out of reach: every change refused with the reason, exit 1,
nothing kept locally to fork the ledger later; back again, the commands carry on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli.main import main
from tests.pg_support import PgServer, initialised, running

PROVIDER = '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'


@pytest.fixture(scope="module")
def own_server() -> Iterator[PgServer]:
    """A server of this module's own: stopping it must not disturb the others' tests."""
    with running() as server:
        yield server


def test_a_stopped_server_refuses_changes_and_a_restarted_one_takes_them(
    own_server: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "3")
    database = initialised(own_server, "faults")
    url = f"postgresql://127.0.0.1:{own_server.port}/{database}"
    config = tmp_path / "quorum.toml"
    config.write_text(
        '[team]\nmembers = ["alice", "bob", "carol"]\n[policy.production]\nmin_approvals = 2\n'
        f'[ledger]\nurl = "{url}"\n\n{PROVIDER}'
    )

    def quorum(who: str, *argv: str) -> tuple[int, str, str]:
        for key, value in own_server.env(who).items():
            monkeypatch.setenv(key, value)
        code = main([*argv, "--config", str(config)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    assert quorum("alice", "propose", "deploy", "api", "--env", "production",
                  "--revision", "v3.0.0", "--reason", "release")[0] == 0  # fmt: skip
    own_server.stop()
    try:
        code, _, err = quorum("bob", "vote", "1", "approve")
        assert code == 1
        assert err.startswith(f"quorum: ledger {url}: ")
        assert len(err.splitlines()) == 1
        code, _, err = quorum("bob", "approvals")
        assert code == 1
        assert err.startswith(f"quorum: ledger {url}: ")
    finally:
        own_server.start()
    assert not (tmp_path / "quorum-data" / "audit.db").exists()  # nothing kept locally
    assert quorum("bob", "vote", "1", "approve")[0] == 0
    code, out, _ = quorum("carol", "approvals", "--json")
    (waiting,) = json.loads(out)["proposals"]
    assert (code, waiting["approvals"], waiting["needed"]) == (0, ["bob"], 1)
