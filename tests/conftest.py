"""Every test gets its own data directory and no config from the person running it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_quorum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "quorum-data"
    monkeypatch.setenv("QUORUM_DATA_DIR", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "quorum-state"))
    monkeypatch.delenv("QUORUM_CONFIG", raising=False)
    monkeypatch.delenv("QUORUM_ACT_AS", raising=False)
    return data
