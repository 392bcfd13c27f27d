"""The Approvals pane shows what providers hold for a human, as `quorum approvals` does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.app import QuorumApp
from console.domain.identity import Identity
from console.domain.model import ProviderApproval
from console.store.audit import AuditLog
from providers.base import Capability
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    open_by_command,
    settle,
    standard_targets,
    status_of,
    title_of,
)
from widgets.dialogs.modals import FormScreen
from widgets.panes.approvals import ApprovalsPane

PENDING = ProviderApproval(
    provider="gh",
    id="gh:run-42",
    title="deploy web to production",
    environment="production",
    url="https://example.invalid/run/42",
    requested_at=NOW,
)


class HoldingProvider(FakeProvider):
    """A provider with its own approval gate (as GitHub environments have)."""

    capabilities = FakeProvider.capabilities | Capability.APPROVALS | Capability.ANSWER

    def __init__(self, *args: object, hang: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.hang = hang
        self.asked = 0
        self.answers: list[tuple[str, bool, str]] = []

    async def approvals(self) -> list[ProviderApproval]:
        self.asked += 1
        if self.hang:
            await asyncio.Event().wait()  # a backend that never answers
        return [] if self.answers else [PENDING]

    async def answer(self, approval: str, approve: bool, comment: str = "") -> str:
        self.answers.append((approval, approve, comment))
        return "review recorded"


def _pane(app: QuorumApp) -> ApprovalsPane:
    return app.screen_stack[0].query_one(ApprovalsPane)


async def test_a_providers_pending_approval_is_listed_and_the_vote_sent_there(
    tmp_path: Path,
) -> None:
    provider = HoldingProvider("gh", standard_targets("gh"), tmp_path)
    me = Identity("me", "root", via_seam=True)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW, identity=me)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: "provider-gh:run-42" in _pane(app).table.keys)
        item = _pane(app).items["provider-gh:run-42"]
        assert (item.what, item.state, item.proposer) == (
            "deploy web to production (production)",
            "pending",
            "gh",
        )
        assert item.proposal_id is None and "https://example.invalid/run/42" in item.notes
        assert title_of(_pane(app)).startswith("approvals (1 waiting)")
        await open_by_command(pilot, "apr", lambda: _pane(app))
        await pilot.press("a")  # a comment is offered, not required
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("enter")
        await settle(pilot, lambda: provider.answers == [("run-42", True, "")])
        sent = "gh:run-42: me votes approve; approved sent: review recorded"
        await settle(pilot, lambda: any(sent in m for m in app.notices))
        records = AuditLog(app.session.audit_path).tail()
        assert any(r.who == "me" and r.target.startswith("gh") for r in records)


async def test_a_provider_that_never_answers_is_bounded_and_named(tmp_path: Path) -> None:
    provider = HoldingProvider("gh", standard_targets("gh"), tmp_path, hang=True)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    app.hub.timeout = 0.2
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: "gh: timeout: gh (approvals)" in status_of(_pane(app)))
        assert len(app.services.table.keys) == 4  # the rest of the console carries on
        assert not _pane(app).items
