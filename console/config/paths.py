"""Where Quorum reads its config and keeps its data, per the XDG conventions."""

from __future__ import annotations

import os
from pathlib import Path

from console.domain.errors import UsageError


def config_path(explicit: str | None = None) -> Path:
    """`--config`, else `$QUORUM_CONFIG`, else `$XDG_CONFIG_HOME/quorum/config.toml`.

    An empty `--config ""` or a `QUORUM_CONFIG` set to nothing (a variable that was
    meant to be filled in on a bastion) is an error, never a quiet fall-back to the
    sandbox or to the default path.
    """
    if explicit is not None:
        if not explicit.strip():
            raise UsageError("--config is empty: name a config file")
        return Path(explicit).expanduser()
    if "QUORUM_CONFIG" in os.environ:
        named = os.environ["QUORUM_CONFIG"]
        if not named.strip():
            raise UsageError("$QUORUM_CONFIG is set but empty: name a config file or unset it")
        return Path(named).expanduser()
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
    if not path.exists():
        # Private by default: the audit log and the sandbox live here, and a team
        # shares a folder of its own choosing ([audit] path), not this one.
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
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


def check_choice(config: str | None, sandbox: bool) -> None:
    """`--sandbox` opens the built-in team, so a `--config` beside it would be ignored:
    refused instead, naming both flags."""
    if sandbox and config is not None:
        raise UsageError("--sandbox and --config exclude each other: use one of them")
