"""The configuration model.

Secrets are never held here: a provider's settings name where its credentials come
from (a kubeconfig context, an AWS profile, an environment variable's name).
Loading and validation live in `console/config/load.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from console.domain.signers import AllowedSigners
from console.domain.thresholds import Thresholds


@dataclass(frozen=True)
class Policy:
    """The rule one environment's changes follow (see the design's consensus section)."""

    environment: str
    min_approvals: int = 0
    allow_self_approval: bool = False
    block_on_rejections: int = 2
    vote_ttl: timedelta = timedelta(hours=24)
    dismiss_stale_votes: bool = True
    deploy_command: str | None = None
    require_rotation_approval: str | None = None
    # A provider's own approval (a GitHub pending deployment...) is answered only once
    # Quorum's votes reach this policy's quorum, or block it, instead of vote by vote.
    forward_after_quorum: bool = False

    @classmethod
    def default_for(cls, environment: str) -> Policy:
        """Production needs two approvals unless configured; everything else none."""
        if environment == "production":
            return cls(environment, min_approvals=2)
        return cls(environment)


@dataclass(frozen=True)
class LedgerConfig:
    """Where a team's shared ledger lives on PostgreSQL ([ledger] in the config).

    Exactly one of `url` (a libpq URL without a password) and `service` (a name in
    the libpq service file). The password, if any, comes from libpq's own sources
    (~/.pgpass, PGPASSWORD, the service file, a client certificate): never the config.
    """

    url: str | None = None
    service: str | None = None
    # The group role whose members are the team on the server (`quorum ledger init`).
    member_role: str = "quorum_member"

    @property
    def conninfo(self) -> str:
        """What libpq is given: the URL as written, or `service=NAME`."""
        return self.url if self.url is not None else f"service={self.service}"

    @property
    def where(self) -> str:
        """The ledger named for people (`quorum whoami`, errors): never a credential,
        since the config holds none."""
        return self.url if self.url is not None else f"service {self.service}"


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: str
    readonly: bool = False
    # Everything else of the [[providers]] table, handed to the provider as is.
    settings: dict[str, Any] = field(default_factory=dict)
    # What is wrong with this block alone (unknown kind, settings its kind refuses),
    # one "file:line: key: message" each. Such a provider is shown broken with these
    # reasons while the rest of the console works; `quorum config check` fails on them.
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceConfig:
    """An explicit [[services]] entry: thresholds or a name mapping for one service."""

    name: str
    thresholds: Thresholds | None = None


# A notification is sent after the action, but the command still waits for it: a
# sink gets at most this long, whatever its `timeout` says.
MAX_NOTIFY_TIMEOUT = 30.0


PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


@dataclass(frozen=True)
class EmailConfig:
    """Where an `email` sink sends: an SMTP server spoken to with STARTTLS."""

    smtp_host: str
    sender: str
    to: tuple[str, ...]
    smtp_port: int = 587
    starttls: bool = True  # off only for a relay on the same host
    username: str = ""
    password_env: str = ""  # the variable holding the password; never the config
    ca_file: str = ""  # a private CA to trust besides the system's


@dataclass(frozen=True)
class NotifyConfig:
    kind: str  # slack | matrix | webhook | email | pagerduty
    url_env: str = ""  # slack, matrix, webhook: the variable holding the URL
    timeout: float = 5.0  # seconds, more than 0 and at most MAX_NOTIFY_TIMEOUT
    email: EmailConfig | None = None
    routing_key_env: str = ""  # pagerduty: the variable holding the integration key
    events_url: str = PAGERDUTY_EVENTS_URL  # pagerduty: the Events API v2 endpoint


@dataclass(frozen=True)
class Restriction:
    """A window a layer is on duty in, in its local time; outside it the layer is a gap.

    `days` are the weekdays the window starts on (0 = Monday); an `end` at or before
    `start` ends the next day.
    """

    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    start: str = "00:00"
    end: str = "00:00"


@dataclass(frozen=True)
class RotationLayer:
    """A further layer of a rotation; where it has a holder, it wins over earlier layers."""

    name: str
    every: str
    members: tuple[str, ...]
    start: date
    handoff: str = "00:00"
    timezone: str | None = None  # None: the rotation's time zone
    restrictions: tuple[Restriction, ...] = ()
    end: date | None = None  # the layer stops at this local date's handoff


@dataclass(frozen=True)
class RotationConfig:
    name: str
    every: str  # "month" | "week" | "day" | "<N>h"
    members: tuple[str, ...]
    start: date
    handoff: str = "00:00"  # local wall-clock time of the handoff
    timezone: str = "UTC"
    restrictions: tuple[Restriction, ...] = ()
    layers: tuple[RotationLayer, ...] = ()  # later layers win where they have a holder


@dataclass(frozen=True)
class SimulatedTeammate:
    """A pretend colleague of the sandbox who votes on open proposals (never in a real team).

    `stance` is "approve", "reject" or "varies" (rejects one proposal in three by id,
    abstains on the others), so a demo always unfolds the same way.
    """

    name: str
    delay: timedelta
    stance: str = "approve"


@dataclass(frozen=True)
class Config:
    team_name: str = "sandbox"
    members: tuple[str, ...] = ()
    # The members' SSH keys ([team] allowed_signers); None: votes are not signed.
    signers: AllowedSigners | None = None
    audit_path: Path | None = None  # None: <data dir>/audit.db
    ledger: LedgerConfig | None = None  # None: the SQLite ledger beside the audit log
    policies: dict[str, Policy] = field(default_factory=dict)
    providers: tuple[ProviderConfig, ...] = ()
    services: tuple[ServiceConfig, ...] = ()
    notify: tuple[NotifyConfig, ...] = ()
    rotations: tuple[RotationConfig, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    source: Path | None = None  # the file it came from; None for the built-in sandbox
    # Only the built-in sandbox sets this; the config loader accepts no key for it.
    simulated_teammates: tuple[SimulatedTeammate, ...] = ()

    @property
    def sandbox(self) -> bool:
        """Whether this is the built-in sandbox (a config from no file), which the console
        marks on every screen so it is never mistaken for a real team."""
        return self.source is None

    def policy(self, environment: str) -> Policy:
        return self.policies.get(environment) or Policy.default_for(environment)

    def thresholds_for(self, service: str) -> Thresholds:
        for svc in self.services:
            if svc.name == service and svc.thresholds is not None:
                return svc.thresholds
        return self.thresholds
