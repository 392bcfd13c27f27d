"""`quorum rotation` and its subcommands through `console.cli.main.main`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from console.cli.main import main
from console.config.sandbox_team import sandbox_config
from console.domain.identity import current_identity
from console.rotation.schedule import holder_at
from console.store.audit import AuditLog

BERLIN_CONFIG = """
[team]
name = "t"
members = ["{me}", "ann"]

[[rotation]]
name = "on-call"
every = "week"
members = ["ann", "{me}"]
start = 2026-01-05
handoff = "09:00"
timezone = "Europe/Berlin"
"""


@pytest.fixture
def data(isolated_quorum):
    """The data directory conftest gives each test (no QUORUM_CONFIG set)."""
    return isolated_quorum


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_holders_json_at_a_date(data, capsys):
    code, out, _ = run(capsys, "rotation", "--sandbox", "--at", "2027-07-15", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["at"] == "2027-07-15T00:00:00Z"
    infra = next(r for r in document["rotations"] if r["rotation"] == "infrastructure")
    assert infra == {
        "rotation": "infrastructure",
        "holder": "go-systems-developer",
        "since": "2027-07-01T00:00:00Z",
        "next_holder": "flask-web-developer",
        "handoff_at": "2027-08-01T00:00:00Z",
        "gap": False,
        "override": False,
        "swap": False,
        "timezone": "UTC",
    }
    assert [r["rotation"] for r in document["rotations"]] == ["infrastructure", "on-call"]


def test_holders_table_and_offsets(data, capsys):
    code, out, _ = run(capsys, "rotation", "--sandbox", "--at", "2026-07-01T01:30+02:00")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ROTATION", "HOLDER", "SINCE", "NEXT", "HANDOFF", "IN"]
    # 2026-06-30 23:30 UTC: still June's holder, half an hour to the handoff.
    assert "Collective infrastructure planning" in lines[1] and lines[1].endswith("30m")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["rotation", "--at", "yesterday"], 2, "'yesterday' is not a date or datetime"),
        (["rotation", "schedule", "nope"], 2, "unknown rotation 'nope' (known: "),
        (["rotation", "schedule", "oncall"], 2,
         "unknown rotation 'oncall'; did you mean 'on-call'? (known: infrastructure, on-call)"),
        (
            ["rotation", "override", "nope", "--who", "a", "--from", "2030-01-01", "--to",
             "2030-01-02", "--reason", "x"],
            2,
            "unknown rotation 'nope'",
        ),
        (
            ["rotation", "override", "on-call", "--who", "a", "--from", "2030-01-02", "--to",
             "2030-01-01", "--reason", "x"],
            2,
            "the end must come after the start",
        ),
        (
            ["rotation", "override", "on-call", "--who", "a", "--from", "2030-01-01", "--to",
             "2030-01-02", "--reason", "x", "--readonly"],
            3,
            "read-only console (--readonly): cannot override a rotation",
        ),
        (["rotation", "swap", "take", "abcdef"], 2, "no swap 'abcdef'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_an_exit_code(data, capsys, argv, code, message):
    got, out, err = run(capsys, *argv, "--sandbox")
    assert got == code
    assert err.startswith("quorum: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_config_is_a_usage_error(data, capsys, tmp_path):
    code, _, err = run(capsys, "rotation", "--config", str(tmp_path / "none.toml"))
    assert code == 2 and "no such file" in err


def test_plain_rotation_json_still_works_after_the_subcommands(data, capsys):
    code, out, _ = run(capsys, "rotation", "--json", "--sandbox")
    assert code == 0
    assert {r["rotation"] for r in json.loads(out)["rotations"]} == {"infrastructure", "on-call"}


def test_schedule_json_lists_whole_stretches(data, capsys):
    code, out, _ = run(
        capsys, "rotation", "schedule", "on-call", "--from", "2027-01-06", "--days", "10",
        "--json", "--sandbox",
    )  # fmt: skip
    assert code == 0
    stretches = json.loads(out)
    assert [(s["from"], s["to"]) for s in stretches] == [
        ("2027-01-04T09:00:00Z", "2027-01-11T09:00:00Z"),
        ("2027-01-11T09:00:00Z", "2027-01-18T09:00:00Z"),
    ]
    assert set(stretches[0]) == {"rotation", "holder", "from", "to", "layer", "gap", "override",
                                 "swap"}  # fmt: skip


def test_override_then_holders_show_it_and_the_audit_log_has_it(data, capsys):
    code, out, _ = run(
        capsys, "rotation", "override", "on-call", "--who", "alice", "--from", "2030-01-01",
        "--to", "2030-01-03", "--reason", "cover the holidays", "--json", "--sandbox",
    )  # fmt: skip
    assert code == 0
    override = json.loads(out)
    assert (override["who"], override["from"], override["to"]) == (
        "alice",
        "2030-01-01T00:00:00Z",
        "2030-01-03T00:00:00Z",
    )
    code, out, _ = run(capsys, "rotation", "--at", "2030-01-02", "--json", "--sandbox")
    on_call = next(r for r in json.loads(out)["rotations"] if r["rotation"] == "on-call")
    assert (on_call["holder"], on_call["override"], on_call["handoff_at"]) == (
        "alice",
        True,
        "2030-01-03T00:00:00Z",
    )
    log = AuditLog(data / "sandbox" / "audit.db")
    try:
        record = log.tail(1)[0]
    finally:
        log.close()
    assert (record.action, record.target, record.who) == (
        "rotation.override",
        "on-call",
        current_identity().name,
    )
    assert record.key == f"rotation.override:{override['id']}"


def test_override_times_without_offset_are_the_rotations_local_time(data, capsys, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(BERLIN_CONFIG.format(me=current_identity().name), encoding="utf-8")
    code, out, _ = run(
        capsys, "rotation", "override", "on-call", "--who", "ann", "--from", "2030-07-01",
        "--to", "2030-07-02T09:00", "--reason", "x", "--json", "--config", str(path),
    )  # fmt: skip
    assert code == 0
    override = json.loads(out)
    assert (override["from"], override["to"]) == ("2030-06-30T22:00:00Z", "2030-07-02T07:00:00Z")


def test_hostile_text_is_shown_inert(data, capsys):
    code, _, err = run(
        capsys, "rotation", "override", "on-call", "--who", "eve\x1b]0;owned\x07[bold]x",
        "--from", "2030-01-01", "--to", "2030-01-02", "--reason", "x", "--sandbox",
    )  # fmt: skip
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err
    assert "eve␛]0;owned␇[bold]x is neither in [team] members nor a member of on-call" in err


def test_only_someone_the_config_knows_can_be_put_on_call(data, capsys):
    span = ["--from", "2030-01-01", "--to", "2030-01-02", "--reason", "cover", "--sandbox"]
    code, _, err = run(capsys, "rotation", "override", "on-call", "--who", "nobody", *span)
    assert (code, err) == (
        2,
        "quorum: nobody is neither in [team] members nor a member of on-call: "
        "only someone the config knows can hold it\n",
    )
    assert run(capsys, "rotation", "override", "on-call", "--who", "bob", *span)[0] == 0


def _my_week(config) -> datetime:
    """A Monday 09:00 UTC in 2030 when the sandbox on-call is the person running the tests."""
    monday = datetime(2030, 1, 7, 9, tzinfo=UTC)
    for week in range(8):
        start = monday + timedelta(weeks=week)
        if (
            holder_at(config, "on-call", start + timedelta(hours=1), None)
            == current_identity().name
        ):
            return start
    raise AssertionError("the sandbox on-call never reaches the current user")


def test_swap_request_list_and_take_refused_to_the_offerer(data, capsys):
    start = _my_week(sandbox_config())
    span = ["--from", start.isoformat(), "--to", (start + timedelta(days=2)).isoformat()]
    code, out, _ = run(
        capsys, "rotation", "swap", "request", "on-call", *span, "--reason", "travel", "--json",
        "--sandbox",
    )  # fmt: skip
    assert code == 0
    swap = json.loads(out)
    assert (swap["requested_by"], swap["taken_by"], swap["reason"]) == (
        current_identity().name,
        None,
        "travel",
    )
    code, out, _ = run(capsys, "rotation", "swap", "list", "--json", "--sandbox")
    assert [s["id"] for s in json.loads(out)] == [swap["id"]]
    code, _, err = run(capsys, "rotation", "swap", "take", swap["id"], "--sandbox")
    assert code == 3 and "person who offered it" in err
    # Someone else's week cannot be offered.
    other = ["--from", (start + timedelta(weeks=1)).isoformat(), "--to",
             (start + timedelta(weeks=1, days=1)).isoformat()]  # fmt: skip
    code, _, err = run(capsys, "rotation", "swap", "request", "on-call", *other, "--sandbox")
    assert code == 3 and f"{current_identity().name} does not hold on-call" in err


def test_ics_to_a_file_parses_back(data, capsys, tmp_path):
    target = tmp_path / "rotation.ics"
    code, out, _ = run(
        capsys, "rotation", "ics", "--months", "2", "--from", "2027-01-01", "-o", str(target),
        "--sandbox",
    )  # fmt: skip
    assert code == 0 and out.strip() == f"wrote {target}"
    calendar = Calendar.from_ical(target.read_bytes())
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert summaries[:3] == [
        "infrastructure: go-systems-developer",
        "infrastructure: flask-web-developer",
        "infrastructure: devops-coordinator",
    ]
    assert sum(s.startswith("on-call: ") for s in summaries) >= 9
    code, out, _ = run(capsys, "rotation", "ics", "--months", "1", "--sandbox")
    assert code == 0 and out.startswith("BEGIN:VCALENDAR")


def test_cancel_an_override_from_the_command_line(data, capsys):
    code, out, _ = run(
        capsys, "rotation", "override", "on-call", "--who", "alice", "--from", "2030-02-01",
        "--to", "2030-02-02", "--reason", "x", "--json", "--sandbox",
    )  # fmt: skip
    override_id = json.loads(out)["id"]
    code, out, _ = run(capsys, "rotation", "cancel", override_id, "--json", "--sandbox")
    assert code == 0
    assert json.loads(out)["cancelled_by"] == current_identity().name
    code, out, _ = run(capsys, "rotation", "--at", "2030-02-01T12:00", "--json", "--sandbox")
    on_call = next(r for r in json.loads(out)["rotations"] if r["rotation"] == "on-call")
    scheduled = holder_at(sandbox_config(), "on-call", datetime(2030, 2, 1, 12, tzinfo=UTC), None)
    assert (on_call["holder"], on_call["override"]) == (scheduled, False)
    code, _, err = run(capsys, "rotation", "cancel", override_id, "--sandbox")
    assert code == 3 and "already cancelled" in err


def test_an_unusable_database_is_one_line_not_a_traceback(data, capsys):
    (data / "sandbox" / "audit.db").mkdir(parents=True)  # a directory where the file should be
    code, _, err = run(capsys, "rotation", "--sandbox")
    assert code == 1
    assert err.startswith(f"quorum: rotation schedule {data / 'sandbox' / 'audit.db'}: ")
    assert len(err.strip().splitlines()) == 1


def _override(capsys, start: str, end: str) -> str:
    code, out, _ = run(
        capsys, "rotation", "override", "on-call", "--who", "alice", "--from", start,
        "--to", end, "--reason", "cover", "--json", "--sandbox",
    )  # fmt: skip
    assert code == 0
    return json.loads(out)["id"]


def test_cancelling_a_future_override_says_it_never_began(data, capsys):
    override_id = _override(capsys, "2030-02-01", "2030-02-02")
    code, out, _ = run(capsys, "rotation", "cancel", override_id, "--sandbox")
    assert code == 0
    assert out.strip() == (
        f"{override_id}  on-call: override of alice (2030-02-01 00:00 UTC to"
        " 2030-02-02 00:00 UTC) cancelled before it began"
    )
    assert "until" not in out and "nobody" not in out


def test_cancelling_a_running_override_says_when_it_ended(data, capsys):
    override_id = _override(capsys, "now", "2030-02-02")
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    code, out, _ = run(capsys, "rotation", "cancel", override_id, "--sandbox")
    after = datetime.now(UTC)
    assert code == 0
    ended = out.strip().rpartition(" ended at ")[2]
    assert before <= datetime.strptime(ended, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC) <= after
    assert out.startswith(f"{override_id}  on-call: override of alice (")


@pytest.mark.parametrize(
    ("argv", "doing"),
    [
        (["swap", "request", "on-call", "--from", "2030-02-01", "--to", "2030-02-02"],
         "request a swap"),
        (["swap", "take", "abcdef"], "take a swap"),
        (["cancel", "abcdef"], "cancel a schedule change"),
    ],
)  # fmt: skip
def test_schedule_changes_are_refused_read_only_in_the_readmes_words(data, capsys, argv, doing):
    code, out, err = run(capsys, "rotation", *argv, "--readonly", "--sandbox")
    assert (code, out) == (3, "")
    assert err == f"quorum: read-only console (--readonly): cannot {doing}\n"
