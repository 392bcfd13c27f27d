"""Where Quorum reads its config and keeps its data, per the XDG conventions."""

from __future__ import annotations

import os
from pathlib import Path


def config_path(explicit: str | None = None) -> Path:
    """`--config`, else `$QUORUM_CONFIG`, else `$XDG_CONFIG_HOME/quorum/config.toml`."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("QUORUM_CONFIG"):
        return Path(os.environ["QUORUM_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "quorum" / "config.toml"


def data_dir() -> Path:
    """`$QUORUM_DATA_DIR`, else `$XDG_DATA_HOME/quorum`; created on first use.

    The sandbox world and the default audit log live here, so separate commands
    see each other's effects.
    """
    if os.environ.get("QUORUM_DATA_DIR"):
        path = Path(os.environ["QUORUM_DATA_DIR"]).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "quorum"
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    """`$QUORUM_STATE_DIR`, else `$XDG_STATE_HOME/quorum`: the user's own state, never shared.

    What one person's consoles remember about the shared files (the last audit head
    seen) lives here, where other members cannot rewrite it.
    """
    if os.environ.get("QUORUM_STATE_DIR"):
        return Path(os.environ["QUORUM_STATE_DIR"]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "quorum"
