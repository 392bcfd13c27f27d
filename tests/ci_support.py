"""What the CI provider tests share: loopback servers, a config, a `quorum` runner
that acts as one member with that member's own token."""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.cli.main import main
from console.engine.hub import Hub, ProviderState
from console.engine.session import open_session
from console.store.audit import AuditLog

TOKENS = {
    "alice": "ghp_aliceAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "bob": "ghp_bobBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
    "carol": "ghp_carolCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
}


def loopback_server() -> Iterator[HTTPServer]:
    """Threaded, so a connection a client opened and never used cannot hold up `stop`
    (a single-threaded server waits in that connection's read for ever)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
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


async def hang_one_provider(config: Path, fake: Any) -> tuple[str, str | None]:
    """Runs the hub on `config` while `fake` (the provider named `broken`) never answers,
    until `healthy` has polled three times and `broken` has failed; returns both errors.

    The hanging handler is released before the server stops, so no thread is left waiting.
    """
    release = threading.Event()

    def hang(request: Request) -> Response:
        release.wait(30)
        return Response("{}", 200)

    fake.fault = hang
    session = open_session(argparse.Namespace(config=str(config), sandbox=False, readonly=False))
    polls = {"healthy": 0}
    done = asyncio.Event()

    def seen(state: ProviderState) -> None:
        if state.name == "healthy" and state.error is None:
            polls["healthy"] += 1
        if polls["healthy"] >= 3 and hub.states["broken"].error:
            done.set()

    hub = Hub(session, interval=0.05, timeout=5, on_update=seen)
    hub.start()
    try:
        await asyncio.wait_for(done.wait(), 20)
    finally:
        release.set()
        await hub.stop()
        await session.close()
    return hub.states["broken"].error or "", hub.states["healthy"].error


def team_config(tmp_path: Path, body: str, approvals: int = 0) -> Path:
    """A config of alice, bob and carol whose production needs `approvals` votes."""
    config = tmp_path / "quorum.toml"
    config.write_text(
        f'[team]\nmembers = ["alice", "bob", "carol"]\n'
        f"[policy.production]\nmin_approvals = {approvals}\n" + body
    )
    return config
