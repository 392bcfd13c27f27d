"""`quorum approvals` builds thousands of values that reference counting frees: no pass
of the cyclic collector runs while it does, and it leaves the collector as it found it."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from console.cli.commands import approvals
from console.cli.main import main

OPEN = 40


@pytest.fixture(autouse=True)
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    monkeypatch.setenv("QUORUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "state"))


@pytest.mark.parametrize("as_json", [True, False])
def test_approvals_runs_no_collector_pass_and_leaves_it_on(
    as_json: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(OPEN):
        argv = ["--sandbox", "propose", "deploy", "api", "--env", "production", "--revision"]
        assert main([*argv, f"v{i}"]) == 0
    capsys.readouterr()
    passes: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    report = approvals._report

    def watched(args: object) -> int:
        """The command's work, with a pass due at every allocation unless paused."""
        gc.set_threshold(1)
        gc.callbacks.append(seen)
        try:
            return report(args)
        finally:
            gc.callbacks.remove(seen)
            gc.set_threshold(*thresholds)

    thresholds = gc.get_threshold()
    monkeypatch.setattr(approvals, "_report", watched)
    code = main(["--sandbox", "approvals", *(["--json"] if as_json else [])])
    assert gc.isenabled()
    assert code == 0 and passes == []
    out = capsys.readouterr().out
    if as_json:
        assert len(json.loads(out)["proposals"]) == OPEN
    else:
        assert out.count("deploy api@production to v") == OPEN
