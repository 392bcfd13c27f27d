"""What every command and the TUI start from: the config, the providers, the data dir."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from console.config.paths import check_choice, config_path, data_dir
from console.config.sandbox_team import sandbox_config
from console.domain.settings import Config
from providers.base import Provider, ProviderContext
from providers.registry import BrokenProvider, build_provider


def resolve_config(config_arg: str | None, sandbox: bool) -> Config:
    """`--sandbox`, or no config file where none was named, gives the sandbox team.

    A config named explicitly (flag or `$QUORUM_CONFIG`) that does not exist is an
    error, not a silent fall-back to the sandbox.
    """
    check_choice(config_arg, sandbox)
    if sandbox:
        return sandbox_config()
    import os

    from console.config.load import ConfigError, load_config

    path = config_path(config_arg)
    explicit = config_arg is not None or "QUORUM_CONFIG" in os.environ
    if not path.exists():
        if explicit:
            raise ConfigError.single(path, None, "", "no such file")
        return sandbox_config()
    return load_config(path)


@dataclass
class Session:
    config: Config
    data_dir: Path
    readonly: bool
    providers: dict[str, Provider] = field(default_factory=dict)
    broken: list[BrokenProvider] = field(default_factory=list)

    @property
    def team_dir(self) -> Path:
        """Where this team's own files go: the data directory, or for the built-in sandbox
        `<data dir>/sandbox/`, so its proposals, votes, overrides and certificates never
        mix with a real team's."""
        return self.data_dir / "sandbox" if self.config.sandbox else self.data_dir

    @property
    def audit_path(self) -> Path:
        """The configured path, else `audit.db` in the team's folder (`team_dir`)."""
        if self.config.audit_path is not None:
            return self.config.audit_path
        return self.team_dir / "audit.db"

    async def close(self) -> None:
        for provider in self.providers.values():
            await provider.close()


def refuse_beside_postgres(config: Config) -> None:
    """A command on a config that names a PostgreSQL ledger stops here unless it keeps
    everything it writes on that ledger: the console, the commands
    `console.cli.runner.ON_POSTGRES` names (rotation changes and provider-approval
    votes among them), `audit`, `whoami` and what reads only providers. Running
    anything else on the local file would split the team's ledger without anyone
    noticing, so it does not run."""
    from console.domain.errors import UsageError

    assert config.ledger is not None
    raise UsageError(
        f"the config's [ledger] names a PostgreSQL ledger ({config.ledger.where}), "
        "which this command does not keep its records on; remove [ledger] to run it on "
        "the SQLite ledger"
    )


def _sign_audit_records(config: Config) -> None:
    """Where the team has keys, every audit record this process appends is signed by
    the person running it, whichever module appends it (rotation changes and
    notifications open their own log). Imported only then: the console's start-up
    path does not load the audit store."""
    if config.signers is not None:
        from console.domain.identity import current_identity
        from console.signing.signer import Signer
        from console.store.audit import sign_records

        sign_records(Signer(current_identity().name, config.signers).sign)
    elif "console.store.audit" in sys.modules:
        sys.modules["console.store.audit"].sign_records(None)


def open_session(args: argparse.Namespace, *, postgres_ready: bool = False) -> Session:
    """The session `args` describe. `postgres_ready`: the caller works on a PostgreSQL
    ledger too (`config check`, `audit`, `whoami`, what reads only providers); any
    other stops on one."""
    config = resolve_config(getattr(args, "config", None), getattr(args, "sandbox", False))
    if config.ledger is not None and not postgres_ready:
        refuse_beside_postgres(config)
    readonly = bool(getattr(args, "readonly", False))
    session = Session(config=config, data_dir=data_dir(), readonly=readonly)
    _sign_audit_records(config)
    context = ProviderContext(data_dir=session.data_dir, readonly=readonly)
    for pc in config.providers:
        settings = dict(pc.settings)
        if pc.readonly:
            settings["readonly"] = True
        if pc.problems:
            session.broken.append(BrokenProvider(pc.name, pc.kind, "; ".join(pc.problems)))
            continue
        built = build_provider(pc.name, pc.kind, settings, context)
        if isinstance(built, BrokenProvider):
            session.broken.append(built)
        else:
            session.providers[pc.name] = built
    return session
