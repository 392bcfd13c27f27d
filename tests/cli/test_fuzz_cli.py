"""Random text, numbers and durations into every command that takes them.

Whatever arrives (control and invisible characters, bytes that are not UTF-8, huge
or negative numbers, durations beyond any calendar) each command ends with one of
the documented exit codes and no traceback, and the audit chain still verifies.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.cli.main import main
from console.store.audit import AuditLog

# What a shell can pass: any text but NUL, plus bytes that are not UTF-8 (which Python
# hands over as lone surrogates).
TEXT = st.one_of(
    st.text(st.characters(blacklist_characters="\x00"), max_size=40),
    st.binary(max_size=12).map(lambda b: b.replace(b"\0", b"").decode("utf-8", "surrogateescape")),
    st.sampled_from(["", " ", "\u202e", "\u200b\u2060\ufeff", "\x1b]0;x\x07", "\x9b2J", "-x"]),
)
NUMBER = st.one_of(
    st.integers().map(str),
    st.sampled_from(["1" + "0" * 23, "9" * 5000, "-1", "0", "1e3", "nan", "inf", "0x10", " 7 "]),
    TEXT,
)
DURATION = st.one_of(
    st.from_regex(r"\A[0-9]{1,16}[smhdwy]{1,2}\Z"),
    st.sampled_from(["99999999999999w", "9" * 5000 + "s", "1h30m", "0s", "-5m", "5"]),
    TEXT,
)
WHEN = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["now", "9999-12-31T23:59:59-12:00", "0001-01-01", "2030-02-30"]),
    TEXT,
)
# A file a command reads: text as above, or something that is no certificate at all.
FILE = st.one_of(TEXT, st.sampled_from(["/dev/zero", "/", "/etc/passwd", "/proc/self/mem"]))
ENV = st.sampled_from(["production", "staging", "dev", "nowhere"])
SERVICE = st.one_of(st.sampled_from(["api", "web", "billing"]), TEXT)


def commands() -> st.SearchStrategy[list[str]]:
    def opt(flag: str, value: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
        return value.map(lambda v: [f"{flag}={v}"] if v.startswith("-") else [flag, v])

    def join(*parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
        return st.tuples(*parts).map(lambda p: [word for part in p for word in part])

    def fixed(*words: str) -> st.SearchStrategy[list[str]]:
        return st.just(list(words))

    def word(value: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
        return value.map(lambda v: ["--", v] if v.startswith("-") else [v])

    target = join(word(SERVICE), opt("--env", ENV))
    return st.one_of(
        join(fixed("propose", "deploy"), target, opt("--revision", TEXT), opt("--reason", TEXT)),
        join(fixed("propose", "scale"), target, opt("--replicas", NUMBER)),
        join(fixed("propose", "rollback"), target, opt("--to", TEXT), opt("--reason", TEXT)),
        join(fixed("propose", "restart"), target, opt("--reason", TEXT)),
        join(fixed("propose", "amend"), word(NUMBER), opt("--revision", TEXT)),
        join(fixed("propose", "withdraw"), word(NUMBER)),
        join(fixed("vote"), word(NUMBER), fixed("approve"), opt("--comment", TEXT)),
        join(fixed("override"), word(NUMBER), opt("--reason", TEXT)),
        join(fixed("review"), word(NUMBER), opt("--comment", TEXT)),
        join(
            fixed("deploy"),
            target,
            opt("--revision", TEXT),
            opt("--key", TEXT),
            opt("--reason", TEXT),
        ),
        join(fixed("rollback"), target, opt("--to", TEXT)),
        join(fixed("scale"), target, opt("--replicas", NUMBER)),
        join(fixed("logs"), target, opt("--since", DURATION), opt("--tail", NUMBER)),
        join(fixed("logs"), target, opt("--container", TEXT)),
        join(fixed("audit", "tail"), opt("-n", NUMBER)),
        join(fixed("rotation"), opt("--at", WHEN)),
        join(fixed("rotation", "schedule"), opt("--from", WHEN), opt("--days", NUMBER)),
        join(fixed("rotation", "ics"), opt("--from", WHEN), opt("--months", NUMBER)),
        join(
            fixed("rotation", "override", "on-call"),
            opt("--who", st.one_of(st.sampled_from(["alice", "bob"]), TEXT)),
            opt("--from", WHEN),
            opt("--to", WHEN),
            opt("--reason", TEXT),
        ),
        join(fixed("rotation", "notify"), opt("--within", DURATION)),
        join(
            fixed("rotation", "swap", "request", "on-call"),
            opt("--from", WHEN),
            opt("--to", WHEN),
            opt("--reason", TEXT),
        ),
        join(fixed("rotation", "swap", "take"), word(TEXT)),
        join(fixed("rotation", "cancel"), word(TEXT)),
        join(
            fixed("actions", "resolve"),
            word(TEXT),
            fixed("--outcome", "failed"),
            opt("--comment", TEXT),
        ),  # fmt: skip
        join(fixed("describe"), target),
        join(fixed("logs"), target, opt("--filter", TEXT)),
        join(
            fixed("alerts", "silence"), word(TEXT), opt("--for", DURATION), opt("--comment", TEXT)
        ),
        join(fixed("alerts", "expire"), word(TEXT)),
        join(fixed("certificate"), word(NUMBER)),
        join(fixed("certificate", "verify"), word(FILE), opt("--allowed-signers", FILE)),
        join(fixed("certificate", "verify"), word(FILE), opt("--vote-ttl", DURATION)),
    )


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=commands())
def test_any_input_ends_with_a_documented_exit_code(argv: list[str], isolated_quorum: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    # Teammates kept quiet for this run only: a variable left set would silence them in
    # every later test of the process.
    quiet = mock.patch.dict(os.environ, {"QUORUM_SANDBOX_TEAMMATES": "off"})
    # `-` names stdin, which is empty here, as under cron.
    stdin = mock.patch("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with quiet, stdin, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([*argv, "--sandbox"])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    assert code in (0, 1, 2, 3), (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue()
    if code:
        assert (err.getvalue() + out.getvalue()).strip(), argv  # a failure always says why
    log = isolated_quorum / "sandbox" / "audit.db"
    if log.exists():
        with AuditLog(log) as opened:
            assert opened.verify().ok
