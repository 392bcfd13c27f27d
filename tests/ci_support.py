"""What the CI provider tests share: loopback servers, a config, a `quorum` runner
that acts as one member with that member's own token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.cli.main import main
from console.store.audit import AuditLog

TOKENS = {
    "alice": "ghp_aliceAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "bob": "ghp_bobBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
    "carol": "ghp_carolCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
}


def loopback_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


class Quorum:
    """Runs `quorum` as a member, with that member's token in `token_var`."""

    def __init__(self, config: Path, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch, token_var: str) -> None:  # fmt: skip
        self.config = config
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.token_var = token_var
        self.out = self.err = ""

    def __call__(self, *argv: str, who: str = "alice") -> int:
        self.monkeypatch.setenv("QUORUM_ACT_AS", who)
        self.monkeypatch.setenv(self.token_var, TOKENS[who])
        code = main([*argv, "--config", str(self.config)])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def json(self, *argv: str, who: str = "alice") -> object:
        code = self(*argv, "--json", who=who)
        assert code == 0, self.err
        return json.loads(self.out)


def audit_records(data_dir: Path) -> list[dict[str, object]]:
    with AuditLog(data_dir / "audit.db") as log:
        return [r.to_json() for r in log.tail(500)]


def assert_no_token(*texts: object) -> None:
    for text in texts:
        for token in TOKENS.values():
            assert token not in str(text)
