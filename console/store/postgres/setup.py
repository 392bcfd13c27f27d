"""`quorum ledger init`: the schema created or upgraded, then the rules and privileges.

Run by the ledger's owner role (the tables' owner: members never are). Idempotent:
an advisory lock serialises two inits, each migration newer than the recorded
version is applied once, and the functions, privileges, member role setting and
policies are written again each time, so re-running after a config change or an
upgrade of Quorum is how both reach the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from console.domain.errors import UsageError
from console.domain.settings import Config, LedgerConfig, Policy
from console.store.postgres import schema

if TYPE_CHECKING:
    import psycopg

# The advisory lock key of `init` (any fixed bigint; "quorum" in ASCII).
_INIT_LOCK = 0x71756F72756D


@dataclass(frozen=True)
class InitResult:
    before: int  # the schema version found (0: none)
    after: int
    owner: str
    member_role: str
    grants: tuple[str, ...]  # what an administrator runs, one member each

    @property
    def done(self) -> str:
        if self.before == self.after:
            return f"schema version {self.after} already current"
        if self.before == 0:
            return f"schema version {self.after} created"
        return f"schema upgraded from version {self.before} to {self.after}"


def member_grants(member_role: str, members: tuple[str, ...]) -> tuple[str, ...]:
    """One GRANT per member of the config's team (each logs in as a role of their own
    name: the server's session user is who acts)."""
    return tuple(f'GRANT {member_role} TO "{name}";' for name in members)


def init(conn: psycopg.Connection, config: Config, ledger: LedgerConfig) -> InitResult:
    """Creates or upgrades the ledger on `conn` (the owner's connection), one transaction."""
    role = ledger.member_role
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INIT_LOCK,))
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            raise UsageError(
                f"role {role} does not exist on the server: an administrator runs "
                f"`CREATE ROLE {role} NOLOGIN;` first, then `quorum ledger init` again"
            )
        owner = _owner(conn, role)
        before = _version(conn)
        for version, sql in schema.MIGRATIONS:
            if version > before:
                conn.execute(sql)
        after = max(before, schema.SCHEMA_VERSION)
        conn.execute("UPDATE quorum.schema_version SET version = %s", (after,))
        conn.execute(schema.FUNCTIONS)
        conn.execute(
            "INSERT INTO quorum.settings (key, value) VALUES ('member_role', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (role,),
        )
        _write_policies(conn, config)
        for statement in schema.privileges(role):
            conn.execute(statement)
    return InitResult(before, after, owner, role, member_grants(role, config.members))


def _owner(conn: psycopg.Connection, member_role: str) -> str:
    """The role running init, which will own every table; never one of the team's
    members, or a member's raw SQL would have the owner's rights."""
    row = conn.execute(
        "SELECT current_user, pg_has_role(current_user, %s, 'MEMBER')", (member_role,)
    ).fetchone()
    assert row is not None
    owner, is_member = row
    if is_member:
        raise UsageError(
            f"{owner} is a member of {member_role}: run `quorum ledger init` as a role "
            "that owns the ledger and is no member of the team"
        )
    return str(owner)


def _version(conn: psycopg.Connection) -> int:
    conn.execute("CREATE SCHEMA IF NOT EXISTS quorum")
    conn.execute("CREATE TABLE IF NOT EXISTS quorum.schema_version (version integer NOT NULL)")
    row = conn.execute("SELECT version FROM quorum.schema_version").fetchone()
    if row is None:
        conn.execute("INSERT INTO quorum.schema_version (version) VALUES (0)")
        return 0
    if row[0] > schema.SCHEMA_VERSION:
        raise UsageError(
            f"the ledger's schema is version {row[0]}, newer than this Quorum's "
            f"({schema.SCHEMA_VERSION}): upgrade Quorum"
        )
    return int(row[0])


def _write_policies(conn: psycopg.Connection, config: Config) -> None:
    """The config's policies, as the server counts votes (environments not listed get
    `Policy.default_for` there too)."""
    conn.execute("DELETE FROM quorum.policies")
    for environment, policy in sorted(config.policies.items()):
        conn.execute(
            "INSERT INTO quorum.policies VALUES (%s, %s, %s, %s, %s, %s)",
            _policy_row(environment, policy),
        )


def _policy_row(environment: str, policy: Policy) -> tuple[object, ...]:
    return (
        environment,
        policy.min_approvals,
        policy.allow_self_approval,
        policy.block_on_rejections,
        policy.vote_ttl,
        policy.dismiss_stale_votes,
    )
