"""The console on a PostgreSQL ledger: what another member does from their own process
reaches it through LISTEN, and a server out of reach makes the ledger stale, not the
console dead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.app import QuorumApp
from console.config.load import load_config
from console.domain.identity import Identity
from console.store.backends import starting_identity
from console.store.postgres.connect import LedgerUnreachable
from tests.app_support import (
    FakeProvider,
    make_session,
    move_cursor,
    open_by_command,
    screen_lines,
    settle,
    standard_targets,
)
from tests.paths import ROOT
from tests.pg_support import PgServer, initialised, running
from widgets.base.chrome import ProviderStatus, TopBar
from widgets.dialogs.modals import FormScreen
from widgets.panes.approvals import ApprovalsPane
from widgets.panes.audit import AuditPane
from widgets.panes.rotation import RotationPane

PROVIDER = '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'
ROTATION = """
[[rotation]]
name = "primary"
every = "week"
members = ["alice"]
start = 2026-01-05
handoff = "09:00"
timezone = "UTC"
"""


class Team:
    """The team's config on `database`, and `quorum` run as a member in a process of
    their own (libpq's variables name the role, as on that member's laptop)."""

    def __init__(self, server: PgServer, database: str, folder: Path) -> None:
        self.server, self.folder = server, folder
        self.url = f"postgresql://127.0.0.1:{server.port}/{database}"
        self.config = folder / "quorum.toml"
        self.config.write_text(
            '[team]\nmembers = ["alice", "bob", "carol"]\n[policy.production]\n'
            f'min_approvals = 2\n[ledger]\nurl = "{self.url}"\n\n{PROVIDER}{ROTATION}'
        )

    def quorum(self, who: str, *argv: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            **self.server.env(who),
            "QUORUM_DATA_DIR": str(self.folder / who),
            "QUORUM_SANDBOX_TEAMMATES": "off",
            "PGCONNECT_TIMEOUT": "3",
        }
        argv = (sys.executable, "-m", "console", *argv, "--config", str(self.config))
        return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)

    def console(self, who: str, monkeypatch: pytest.MonkeyPatch) -> QuorumApp:
        """`who`'s console in this process, on the same config."""
        for key, value in self.server.env(who).items():
            monkeypatch.setenv(key, value)
        config = load_config(self.config)
        fake = FakeProvider("alpha", standard_targets(), self.folder)
        session = make_session(self.folder / "console", [fake], config=config)
        return QuorumApp(session, identity=Identity(who, who), poll_interval=0.2, side_interval=0.2)


def _pane(app: QuorumApp) -> ApprovalsPane:
    return app.screen_stack[0].query_one(ApprovalsPane)


def _audit(app: QuorumApp) -> AuditPane:
    return app.screen_stack[0].query_one(AuditPane)


def _status(app: QuorumApp) -> str:
    return str(app.screen_stack[0].query_one(ProviderStatus).render())


def _voters(app: QuorumApp) -> list[str]:
    item = _pane(app).items.get("proposal-1")
    return [v.voter for v in item.votes] if item is not None else []


async def test_a_vote_cast_from_another_process_shows_in_the_running_console(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = Team(pg_server, initialised(pg_server, "console_live"), tmp_path)
    proposed = team.quorum("alice", "propose", "deploy", "api", "--env", "production",
                           "--revision", "v3.0.0", "--reason", "release")  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    app = team.console("carol", monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: "proposal-1" in _pane(app).items)
        item = _pane(app).items["proposal-1"]
        assert (item.proposer, item.state, item.votes) == ("alice", "open", ())
        await settle(pilot, lambda: app.actions.ledger_generation)  # listening
        voted = team.quorum("bob", "vote", "1", "approve")
        assert voted.returncode == 0, voted.stderr
        await settle(pilot, lambda: _voters(app) == ["bob"])
        assert _pane(app).items["proposal-1"].summary.startswith("needs 1 more approval")
        await settle(pilot, lambda: any(r.who == "bob" for r in _audit(app).records.values()))
        assert not (tmp_path / "console" / "audit.db").exists()  # nothing beside the ledger


async def test_an_override_from_the_rotation_pane_is_kept_on_the_ledger(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = Team(pg_server, initialised(pg_server, "console_rotation"), tmp_path)
    app = team.console("carol", monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.screen.query(RotationPane))
        pane = app.screen.query_one(RotationPane)
        await settle(pilot, lambda: pane.table.keys == ["primary"])
        assert pane.table.cells("primary")[1] == "alice"
        await open_by_command(pilot, "rotation", lambda: app.pane("rotation"))
        await pilot.press("o")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        assert [f.value for f in app.screen.fields[:2]] == ["primary", "carol"]
        await pilot.press("enter", "enter", "enter", "enter", "enter", *"alice is ill", "enter")
        await settle(pilot, lambda: pane.table.cells("primary")[1] == "carol ⚑")
        await settle(pilot, lambda: any(r.action == "rotation.override" and r.who == "carol"
                                        for r in _audit(app).records.values()))  # fmt: skip
        # Another member's override from their own process reaches the pane (LISTEN).
        later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        bob = team.quorum("bob", "rotation", "override", "primary", "--who", "bob", "--from",
                          "now", "--to", later, "--reason", "carol needs sleep")  # fmt: skip
        assert bob.returncode == 0, bob.stderr
        await settle(pilot, lambda: pane.table.cells("primary")[1] == "bob ⚑")
    # Another member's process reads both from the ledger; no file was made beside it.
    seen = team.quorum("alice", "rotation", "schedule", "--json")
    assert seen.returncode == 0, seen.stderr
    holders = [segment["holder"] for segment in json.loads(seen.stdout)][:3]
    assert holders == ["bob", "carol", "alice"]
    assert not (tmp_path / "console" / "audit.db").exists()


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A server of this test's own: stopping it must not disturb the others' tests."""
    with running() as server:
        yield server


async def test_a_stopped_server_makes_the_ledger_stale_and_a_restarted_one_recovers(
    own_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "3")
    team = Team(own_server, initialised(own_server, "console_faults"), tmp_path)
    proposed = team.quorum("alice", "propose", "deploy", "api", "--env", "production",
                           "--revision", "v3.0.0", "--reason", "release")  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    app = team.console("carol", monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: "proposal-1" in _pane(app).items)
        await settle(pilot, lambda: app.actions.ledger_generation)
        own_server.stop()
        try:
            # The status line says why and where in brief (the latest reason: the
            # listening connection ends first, then connecting again is refused);
            # :messages keeps libpq's whole line.
            refused = f"connection refused (127.0.0.1:{own_server.port})"
            await settle(pilot, lambda: f"ledger stale: {refused} ·" in _status(app))
            whole = f'server at "127.0.0.1", port {own_server.port} failed: Connection refused'
            assert any("ledger stale" in n and whole in n for n in app.notices)
            assert len([n for n in app.notices if "changes are refused" in n]) == 1  # one toast
            # Reads keep the last state: the proposal is still listed as it was.
            assert _pane(app).items["proposal-1"].state == "open"
            # A change is refused with the reason, and the console carries on.
            with pytest.raises(
                LedgerUnreachable, match="cannot vote: the ledger .* is out of reach"
            ):
                await app.actions.vote(1, approve=True)
            assert app.is_running
            # Pressed in the console: the same refusal, before any read or dialog.
            await open_by_command(pilot, "apr", lambda: _pane(app))
            move_cursor(_pane(app).table, "proposal-1")
            changes = (("a", "vote"), ("x", "vote"), ("o", "override"), ("n", "propose a change"))
            for key, doing in changes:
                said = len(app.notices)
                await pilot.press(key)
                await settle(pilot, lambda said=said: len(app.notices) > said)
                (line,) = list(app.notices)[said:]
                assert f"cannot {doing}: the ledger {team.url} is out of reach (" in line, line
                assert line.endswith("nothing was changed or kept to send later"), line
                assert app.screen is app.screen_stack[0]  # no dialog opened
        finally:
            own_server.start()
        await settle(pilot, lambda: "ledger stale" not in _status(app))
        assert any("reachable again" in n for n in app.notices)
        voted = team.quorum("bob", "vote", "1", "approve")
        assert voted.returncode == 0, voted.stderr
        await settle(pilot, lambda: _voters(app) == ["bob"])
        done = await app.actions.vote(1, approve=False, comment="after the restart")
        assert done.proposal.tally.rejections == ("carol",)


async def test_a_console_outside_the_team_names_what_the_server_refused_not_its_code(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mallory may log in but is no member: every read the console starts with is
    refused, each said as what it was doing, never as a function's name."""
    team = Team(pg_server, initialised(pg_server, "console_outsider"), tmp_path)
    app = team.console("mallory", monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: any("catch-up failed" in n for n in app.notices))
        refused = [n for n in app.notices if "permission denied" in n]
        assert refused, list(app.notices)
        assert all("only the team's role may" in n for n in refused)
        assert not [n for n in app.notices if " _" in n], list(app.notices)
        assert app.is_running


async def test_a_refused_console_says_why_its_rotation_pane_is_empty(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mallory's reads are all refused: the Rotation pane says so instead of "no
    rotation configured" (the config has one), whole, wrapped in the side pane; so do
    Approvals and Audit."""
    team = Team(pg_server, initialised(pg_server, "console_refused_rotation"), tmp_path)
    app = team.console("mallory", monkeypatch)
    refusal = "the ledger's server refused: permission denied for schema quorum"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.screen.query(RotationPane))
        rotation = app.screen.query_one(RotationPane)
        await settle(pilot, lambda: refusal in rotation.table.empty_text)
        assert rotation.table.keys == []
        assert rotation.table.empty_text.startswith("not read: ")
        lines = "\n".join(screen_lines(app))
        assert "role may)" in lines, lines  # the whole line, wrapped in the side pane
        # Nor do the other panes of the ledger claim it holds nothing.
        for pane in (_pane(app), _audit(app)):
            await settle(pilot, lambda pane=pane: refusal in pane.table.empty_text)
        lines = "\n".join(screen_lines(app))
        for false in ("no rotation configured", "no proposal waits", "no audit records yet"):
            assert false not in lines
        assert app.is_running


async def test_a_refusal_every_start_read_meets_is_one_toast(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal from each background read is one toast while it holds; each
    read's line is still in :messages."""
    team = Team(pg_server, initialised(pg_server, "console_refused_once"), tmp_path)
    app = team.console("mallory", monkeypatch)
    app.NOTIFICATION_TIMEOUT = 600  # every toast shown is still there to count
    refusal = "the ledger's server refused: permission denied for schema quorum"
    doing = ("catch-up failed: ", "cannot read incomplete actions: ")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: all(any(d + refusal in n for n in app.notices) for d in doing))
        toasts = [n for n in app._notifications if refusal in n.message]
        assert len(toasts) == 1, [n.message for n in toasts]
        assert app.is_running


_ids = {"apr": "approvals", "rotation": "rotation"}


def _top(app: QuorumApp) -> str:
    return str(app.screen_stack[0].query_one(TopBar).render())


async def test_a_console_started_while_the_server_is_stopped_serves_the_providers(
    own_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During an incident the ledger may be down: the console still opens on the
    providers, says the ledger is stale from the first frame, refuses every change
    and learns who it is once the server answers."""
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "3")
    team = Team(own_server, initialised(own_server, "console_cold"), tmp_path)
    proposed = team.quorum("alice", "propose", "deploy", "api", "--env", "production",
                           "--revision", "v3.0.0", "--reason", "release")  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    own_server.stop()  # the fixture stops it again at the end: harmless
    for key, value in own_server.env("carol").items():  # PGUSER=carol: not believed
        monkeypatch.setenv(key, value)
    config = load_config(team.config)
    who, unreachable = starting_identity(config)
    assert who.name == "" and unreachable is not None
    fake = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "console", [fake], config=config)
    app = QuorumApp(session, identity=who, ledger_unreachable=unreachable,
                    poll_interval=0.2, side_interval=0.2)  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        refused = f"ledger stale: connection refused (127.0.0.1:{own_server.port}) ·"
        await settle(pilot, lambda: app.services.table.keys)
        assert refused in _status(app)
        assert "unknown until the ledger answers" in _top(app)
        assert "carol" not in _top(app)
        assert any("changes are refused until it is back" in n for n in app.notices)
        # The ledger's panes say they could not be read, not that nothing is there.
        await settle(pilot, lambda: app.feeds.started)
        for pane in (_pane(app), _audit(app), app.screen.query_one(RotationPane)):
            assert pane.table.keys == []
            assert pane.table.empty_text == "ledger out of reach: not read yet", pane
        lines = "\n".join(screen_lines(app))
        assert "no proposal waits for a vote" not in lines
        assert "no rotation configured" not in lines
        # Every change is refused in one wording, before any dialog opens.
        for pane, key, doing in (("apr", "a", "vote"), ("apr", "n", "propose a change"),
                                 ("rotation", "o", "override a rotation")):  # fmt: skip
            await open_by_command(pilot, pane, lambda pane=pane: app.pane(_ids[pane]))
            said = len(app.notices)
            await pilot.press(key)
            await settle(pilot, lambda said=said: len(app.notices) > said)
            (line,) = list(app.notices)[said:]
            assert f"cannot {doing}: the ledger {team.url} is out of reach (" in line, line
            assert line.endswith("nothing was changed or kept to send later"), line
            assert app.screen is app.screen_stack[0]
        said = len(app.notices)  # a `:` command too, before any dialog asks anything
        await pilot.press("colon", *"propose", "enter")
        await settle(pilot, lambda: len(app.notices) > said)
        (line,) = list(app.notices)[said:]
        assert f"cannot propose a change: the ledger {team.url} is out of reach (" in line
        assert app.screen is app.screen_stack[0]
        with pytest.raises(LedgerUnreachable, match="cannot vote: the ledger .* out of reach"):
            await app.actions.vote(1, approve=True)
        assert app.is_running
        # A stale ledger is not read (no pane says it failed to read it): only the
        # watch tries it, and the providers' own approvals were asked meanwhile.
        assert app.feeds._last_slow is not None and not app.feeds._reading_approvals
        assert not any(str(p.border_subtitle or "") for p in (_pane(app), _audit(app)))
        own_server.start()
        # The server answers: who acts is the role it authenticated, and the
        # ledger's panes are read without restarting the console.
        await settle(pilot, lambda: "proposal-1" in _pane(app).items)
        assert "ledger stale" not in _status(app)
        assert " carol " in _top(app)
        assert app.identity.name == app.actions.identity.name == "carol"
        assert any("reachable again" in n for n in app.notices)
        await settle(pilot, lambda: app.screen.query_one(RotationPane).table.keys)
        await settle(pilot, lambda: _audit(app).records)
        done = await app.actions.vote(1, approve=True, comment="back")
        assert done.proposal.tally.approvals == ("carol",)
