"""A real PostgreSQL 15 server for the ledger's tests, started once per test session.

`initdb` in a temporary directory, the server on a free loopback port, with the team
the ledger's tests need: an owner role (owns the `quorum` database and, after
`quorum ledger init`, every table in it), the group role `quorum_member`, its
members alice, bob and carol, and mallory, who may log in but is no member.

Every role but the superuser logs in over TCP with a password (scram-sha-256): a
test connected as alice is alice to the server, as a member's psql would be. The
superuser connects only through the server's socket (trust), for setting up.

initdb refuses to run as root, so under root the server runs as the `postgres`
account the Debian package creates, in a directory that account owns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.forger import digest
from tests.forger import now as _now
from tests.paths import FORGER

if TYPE_CHECKING:
    import psycopg

    from console.domain.settings import Config

BIN = Path("/usr/lib/postgresql/15/bin")
OWNER = "quorum_owner"
MEMBER_ROLE = "quorum_member"
MEMBERS = ("alice", "bob", "carol")
OUTSIDER = "mallory"
DATABASE = "quorum"


def binary(name: str) -> str:
    """A PostgreSQL 15 program: Debian's versioned directory first, else the PATH."""
    found = BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return on_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """One running server; `conninfo(role)` is what a member would put in `[ledger] url`
    plus the password libpq would take from ~/.pgpass."""

    root: Path
    port: int
    passwords: dict[str, str] = field(default_factory=dict)
    account: str | None = None  # the OS account the server runs as, under root

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """The ledger URL of the config: no password (libpq finds it elsewhere)."""
        return f"postgresql://127.0.0.1:{self.port}/{DATABASE}"

    def conninfo(self, role: str, database: str = DATABASE) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} user={role} "
            f"password={self.passwords[role]} connect_timeout=10"
        )

    def env(self, role: str) -> dict[str, str]:
        """The environment a command run as `role` gets (libpq's own variables)."""
        return {"PGUSER": role, "PGPASSWORD": self.passwords[role]}

    def _as_server(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        if self.account:
            argv = ["runuser", "-u", self.account, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs `sql` as the superuser, through the socket; raises with psql's error."""
        done = self._as_server(
            [
                binary("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.root),
                "-p",
                str(self.port),
                "-d",
                database,
                "-At",
                "-c",
                sql,
            ],
            timeout=60,
        )
        if done.returncode:
            raise RuntimeError(done.stderr)
        return done.stdout

    def member(self, role: str) -> None:
        """`role` logs in and is a member of the team's group role (created once)."""
        if role in self.passwords:
            return
        self.passwords[role] = secrets.token_hex(16)
        self.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{self.passwords[role]}'")
        self.psql(f"GRANT {MEMBER_ROLE} TO {role}")

    def start(self) -> None:
        done = self._as_server(
            [
                binary("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )
        if done.returncode:
            log = (self.root / "server.log").read_text(errors="replace")
            raise RuntimeError(f"postgres did not start: {done.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        self._as_server(
            [binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], timeout=90
        )


_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{root}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
"""

_HBA = """
local all all trust
host all all 127.0.0.1/32 scram-sha-256
"""


def start_server() -> PgServer:
    """A new server with the team's roles; the caller stops it (`stop_server`)."""
    account = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="quorum-pg-", dir="/tmp"))
    if account:
        entry = pwd.getpwnam(account)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PgServer(root, _free_port(), account=account)
    done = server._as_server(
        [
            binary("initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        timeout=120,
    )
    if done.returncode:
        raise RuntimeError(f"initdb failed: {done.stderr}")
    with (server.data / "postgresql.conf").open("a") as conf:
        conf.write(_CONF.format(port=server.port, root=root))
    (server.data / "pg_hba.conf").write_text(_HBA)
    server.start()
    statements = [f"CREATE ROLE {MEMBER_ROLE} NOLOGIN"]
    for role in (OWNER, *MEMBERS, OUTSIDER):
        server.passwords[role] = secrets.token_hex(16)
        statements.append(f"CREATE ROLE {role} LOGIN PASSWORD '{server.passwords[role]}'")
    statements += [f"GRANT {MEMBER_ROLE} TO {role}" for role in MEMBERS]
    statements.append(f"CREATE DATABASE {DATABASE} OWNER {OWNER}")
    for statement in statements:
        server.psql(statement)
    return server


def stop_server(server: PgServer) -> None:
    server.stop()
    with contextlib.suppress(OSError):
        shutil.rmtree(server.root)


def fresh_database(server: PgServer, name: str) -> str:
    """An empty database owned by the owner role, for a test that needs its own ledger."""
    server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.psql(f"CREATE DATABASE {name} OWNER {OWNER}")
    return name


@contextlib.contextmanager
def running() -> Iterator[PgServer]:
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


def initialised(server: PgServer, name: str, members: tuple[str, ...] = MEMBERS) -> str:
    """A fresh database `name` set up by the owner with `quorum ledger init`'s own code,
    for a team of `members`; returns the database's name."""
    import psycopg

    from console.domain.settings import Config, LedgerConfig
    from console.store.postgres.setup import init

    fresh_database(server, name)
    ledger = LedgerConfig(url=f"postgresql://127.0.0.1:{server.port}/{name}")
    with psycopg.connect(server.conninfo(OWNER, name)) as conn:
        init(conn, Config(team_name="ops", members=members), ledger)
    return name


def connect_as(server: PgServer, role: str, database: str) -> psycopg.Connection:
    """`role`'s own connection, autocommit, as their psql would be."""
    import psycopg

    return psycopg.connect(server.conninfo(role, database), autocommit=True)


class Ledgers:
    """One ledger of either kind, used as a given member: the SQLite file (any name is
    taken as given) or a fresh PostgreSQL ledger (the member logs in as their role,
    which the server records as the author). For suites that must hold on both; the
    `ledgers` fixture (tests/conftest.py) gives one of each kind."""

    def __init__(self, folder: Path, server: PgServer | None, name: str) -> None:
        self.folder, self.server = folder, server
        self.database = initialised(server, name) if server is not None else ""
        self.path = folder / "audit.db"

    @property
    def on_postgres(self) -> bool:
        return self.server is not None

    @property
    def url(self) -> str:
        """The `[ledger] url` of a config for this ledger (PostgreSQL only)."""
        assert self.server is not None
        return f"postgresql://127.0.0.1:{self.server.port}/{self.database}"

    def add_members(self, *roles: str) -> None:
        """Roles beyond alice, bob and carol for a team that needs them (PostgreSQL)."""
        if self.server is not None:
            for role in roles:
                self.server.member(role)

    def initialise(self, config: Config) -> Config:
        """`config` on this ledger: on PostgreSQL with its `[ledger]`, the owner's
        `quorum ledger init` run again so the server counts with `config`'s policies."""
        if self.server is None:
            return replace(config, audit_path=self.path)
        import psycopg

        from console.domain.settings import LedgerConfig
        from console.store.postgres.setup import init

        ledger = LedgerConfig(url=self.url)
        with psycopg.connect(self.server.conninfo(OWNER, self.database)) as conn:
            init(conn, config, ledger)
        return replace(config, ledger=ledger)

    def config(self, approvals: int = 0, more: str = "") -> Path:
        """A team config (alice, bob, carol) whose ledger is this one: `[audit] path`
        of the file, or `[ledger] url` of the server; `more` follows."""
        from tests.ci_support import team_config

        return team_config(self.folder, self.ledger_lines() + more, approvals=approvals)

    def ledger_lines(self) -> str:
        """The config lines that name this ledger."""
        if self.server is None:
            return f'[audit]\npath = "{self.path}"\n'
        return f'[ledger]\nurl = "{self.url}"\n'

    def env(self, who: str) -> dict[str, str]:
        """The environment of a process acting as `who`: the OS account Quorum's seam
        names on the file, the login libpq takes on PostgreSQL."""
        if self.server is None:
            return {"QUORUM_ACT_AS": who}
        return {"QUORUM_ACT_AS": who, **self.server.env(who)}

    def act_as(self, who: str) -> None:
        """Makes `who` the role libpq logs in as from now on (PostgreSQL; the fixture
        restores the variables after the test)."""
        if self.server is not None:
            os.environ.update(self.server.env(who))

    def log(self, who: str = "alice", signer: Callable[[bytes], str] | None = None) -> object:
        """An open log as `who` (`AuditLog` or `PgAuditLog`); the caller closes it."""
        if self.server is None:
            from console.store.audit import AuditLog

            return AuditLog(self.path, signer=signer)
        from console.domain.settings import LedgerConfig
        from console.store.postgres.audit import PgAuditLog

        self.act_as(who)
        return PgAuditLog(LedgerConfig(url=self.url), signer=signer)

    @contextlib.contextmanager
    def raw(self) -> Iterator[Raw]:
        """A connection that writes the audit tables behind Quorum's back: plain sqlite3
        on the file with every trigger dropped (as anyone with write access to it can),
        or the owner role's with the append-only triggers disabled (as the owner can)."""
        if self.server is None:
            conn = sqlite3.connect(self.path, isolation_level=None)
            names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in names.fetchall():
                conn.execute(f"DROP TRIGGER {name}")
            try:
                yield Raw(conn, postgres=False)
            finally:
                conn.close()
            return
        with connect_as(self.server, OWNER, self.database) as conn:
            conn.execute("SET search_path = quorum")
            for table in ("audit_log", "audit_head", "audit_signatures"):
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield Raw(conn, postgres=True)

    def forge_append(self, who: str, action: str, comment: str = "") -> None:
        """A hash-correct record written by hand as `who`, the head moved to it."""
        if self.server is None:
            _forger(self.path, "append-audit", who, action, comment)
            return
        with self.raw() as conn:
            seq, prev = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            fields = [seq + 1, _now(), who, action, "", "", "", "recorded", comment, "", prev]
            conn.insert(fields, digest(fields))
            conn.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq + 1, digest(fields)))

    def forge_delete(self, seq: int) -> None:
        """Removes record `seq` and rebuilds a consistent chain after it (signatures
        move with their records), as tests/forger.py does to the file."""
        if self.server is None:
            _forger(self.path, "delete-audit", str(seq))
            return
        with self.raw() as conn:
            conn.execute("DELETE FROM audit_signatures WHERE seq = ?", (seq,))
            conn.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
            later = conn.execute(
                f"SELECT {_FORGED} FROM audit_log WHERE seq > ? ORDER BY seq", (seq,)
            ).fetchall()
            prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq - 1,)).fetchone()
            prev_hash = prev[0] if prev else "0" * 64
            for row in later:
                fields = [row[0] - 1, *row[1:], prev_hash]
                prev_hash = digest(fields)
                conn.insert(fields, prev_hash)  # the new row first: a signature refers to it
                conn.execute(
                    "UPDATE audit_signatures SET seq = ? WHERE seq = ?", (row[0] - 1, row[0])
                )
                conn.execute("DELETE FROM audit_log WHERE seq = ?", (row[0],))
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
            conn.execute("UPDATE audit_head SET seq = ?, hash = ?", (last, prev_hash))


_FORGED = "seq, ts, who, action, target, environment, revision, outcome, comment, key"


class Raw:
    """One tampering connection of either kind, with sqlite3's `?` placeholders."""

    def __init__(self, conn: sqlite3.Connection | psycopg.Connection, *, postgres: bool) -> None:
        self.conn, self.postgres = conn, postgres

    def execute(self, sql: str, params: tuple | list = ()) -> Any:
        if self.postgres:
            return self.conn.execute(sql.replace("?", "%s"), tuple(params))  # type: ignore[arg-type]
        return self.conn.execute(sql, tuple(params))

    def insert(self, fields: list[object], digest_: str) -> None:
        """One audit row: the ten fields, the previous hash and the row's own hash."""
        self.execute(
            f"INSERT INTO audit_log ({_FORGED}, prev_hash, hash) VALUES ({','.join('?' * 12)})",
            (*fields, digest_),
        )


def _forger(path: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(FORGER), str(path), *args], check=True)
