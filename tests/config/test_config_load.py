"""Loading configs: every malformed file gets exact messages naming file, line and key."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from console.config.load import ConfigError, config_problems, load_config
from console.domain.settings import (
    Config,
    NotifyConfig,
    Policy,
    ProviderConfig,
    Restriction,
    RotationConfig,
    RotationLayer,
    ServiceConfig,
)
from console.domain.thresholds import Thresholds
from providers.registry import available_kinds
from tests.paths import CONFIGS

SECRET = "secrets are never written in the config; "

# (fixture file, every problem expected in it as (line, key, message)), in file order.
MALFORMED: list[tuple[str, list[tuple[int, str, str]]]] = [
    (
        "syntax_error.toml",
        [(3, "", "invalid TOML: Expected '=' after a key in a key/value pair (column 9)")],
    ),
    ("duplicate_key.toml", [(3, "", "invalid TOML: Cannot overwrite a value (column 18)")]),
    (
        "unknown_kind.toml",
        [
            (
                14,
                "providers[1].kind",
                f"unknown provider kind 'kubernets' (known: {', '.join(available_kinds())})",
            )
        ],
    ),
    (
        "policy_typo.toml",
        [
            (
                2,
                "policy.production.min_aprovals",
                "unknown key 'min_aprovals'; did you mean 'min_approvals'?",
            ),
            (
                3,
                "policy.production.dismis_stale_votes",
                "unknown key 'dismis_stale_votes'; did you mean 'dismiss_stale_votes'?",
            ),
            (
                4,
                "policy.production.frobnicate",
                "unknown key 'frobnicate' (known: min_approvals, allow_self_approval, "
                "block_on_rejections, vote_ttl, dismiss_stale_votes, deploy_command, "
                "require_rotation_approval, forward_after_quorum)",
            ),
        ],
    ),
    (
        "policy_types.toml",
        [
            (2, "policy.production.min_approvals", "expected an integer, got a string"),
            (3, "policy.production.allow_self_approval", "expected true or false, got a string"),
            (4, "policy.production.block_on_rejections", "must be 1 or more"),
            (
                5,
                "policy.production.vote_ttl",
                "invalid duration '1 day'; use a whole number and a unit s, m, h, d or w: "
                "90s, 30m, 24h, 7d, 1h30m",
            ),
            (6, "policy.production.deploy_command", "must not be empty"),
            (9, "policy.staging.min_approvals", "must be 0 or more"),
            (10, "policy.staging.vote_ttl", "must be longer than zero"),
            (13, "policy.dev", "expected a table ([policy.dev])"),
        ],
    ),
    (
        "quorum_unreachable.toml",
        [
            (
                5,
                "policy.production.min_approvals",
                "4 approvals can never be reached by a team of 3 members",
            ),
            (
                6,
                "policy.production.require_rotation_approval",
                "no rotation named 'infra' (rotations: infrastructure)",
            ),
        ],
    ),
    (
        "secrets.toml",
        [
            (5, "providers[0].token", SECRET + "name an environment variable with token_env"),
            (11, "providers[1].repo", SECRET + "name an environment variable with token_env"),
            (
                15,
                "notify[0].url_env",
                SECRET + "url_env takes the name of an environment variable, not its value",
            ),
        ],
    ),
    (
        "duplicate_names.toml",
        [
            (7, "providers[1].name", "duplicate provider name 'demo' (first at line 1)"),
            (15, "services[1].name", "duplicate service name 'api' (first at line 11)"),
            (24, "rotation[1].name", "duplicate rotation name 'on-call' (first at line 17)"),
        ],
    ),
    (
        "thresholds.toml",
        [
            (2, "thresholds.cpu", "warning 90 must be below critical 70"),
            (3, "thresholds.memory", "expected [warning, critical], two numbers"),
            (
                4,
                "thresholds.latency",
                "unknown metric 'latency' (known: cpu, memory, disk, error_rate, p99)",
            ),
            (5, "thresholds.error_rate", "thresholds cannot be negative"),
            (9, "services[0].thresholds.p99", "warning 800 must be below critical 800"),
            (9, "services[0].thresholds.disk", "expected [warning, critical], two numbers"),
        ],
    ),
    (
        "rotation_fields.toml",
        [
            (
                3,
                "rotation[0].every",
                "expected month, week, day or a number of hours like \"12h\", got 'fortnight'",
            ),
            (4, "rotation[0].members", "must name at least one member"),
            (5, "rotation[0].start", "expected a date like 2026-01-01"),
            (6, "rotation[0].handoff", "expected a time \"HH:MM\", got '9am'"),
            (
                7,
                "rotation[0].timezone",
                "unknown time zone 'Europe/Berln' (expected an IANA name such as 'Europe/Berlin')",
            ),
            (9, "rotation[1].name", "required key is missing"),
            (9, "rotation[1].start", "required key is missing"),
            (
                10,
                "rotation[1].every",
                "expected month, week, day or a number of hours like \"12h\", got '0h'",
            ),
            (11, "rotation[1].members[1]", "expected a string, got an integer"),
        ],
    ),
    (
        "rotation_layers.toml",
        [
            (
                8,
                "rotation[0].restrictions[0].days[1]",
                "expected a weekday: mon..sun or 0 (Monday) to 6",
            ),
            (10, "rotation[0].restrictions[0].end", "expected a time \"HH:MM\", got '17:60'"),
            (17, "rotation[0].layers[0].end", "must be after start"),
            (
                18,
                "rotation[0].layers[0].color",
                "unknown key 'color' (known: name, every, members, start, handoff, timezone, "
                "restrictions, end)",
            ),
        ],
    ),
    (
        "notify.toml",
        [
            (2, "notify[0].kind", "unknown notify kind 'slak'; did you mean 'slack'?"),
            (
                3,
                "notify[0].url_env",
                "expected the name of an environment variable that holds the URL "
                "(letters, digits and _), not a value",
            ),
            (4, "notify[0].timeout", "must be more than 0 and at most 30 seconds"),
            (6, "notify[1].kind", "required key is missing"),
            (8, "notify[1].timeout", "expected a number, got a string"),
        ],
    ),
    (
        "sections.toml",
        [
            (1, "providers", "expected an array of tables ([[providers]]), got a string"),
            (2, "team", "expected a table ([team]), got a string"),
            (4, "provider", "unknown key 'provider'; did you mean 'providers'?"),
            (8, "audit.path", "must not be empty"),
            (9, "audit.keep", "unknown key 'keep' (known: path)"),
        ],
    ),
    (
        "missing_required.toml",
        [
            (1, "providers[0].kind", "required key is missing"),
            (4, "providers[1].name", "required key is missing"),
            (8, "rotation[0].every", "required key is missing"),
            (8, "rotation[0].members", "required key is missing"),
            (8, "rotation[0].start", "required key is missing"),
        ],
    ),
]


def config_file(tmp_path: Path, text: str) -> Path:
    """`text` written as `config.toml` in the test's own directory."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[tuple[int | None, str, str]]:
    problems = config_problems(path)
    for problem in problems:
        assert problem.file == path
    return [(p.line, p.key, p.message) for p in problems]


@pytest.mark.parametrize(("name", "expected"), MALFORMED, ids=[name for name, _ in MALFORMED])
def test_malformed_config_reports_each_problem_exactly(name, expected):
    assert problems_of(CONFIGS / name) == expected


def test_message_format_names_file_line_and_key():
    path = CONFIGS / "policy_typo.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:2: policy.production.min_aprovals: unknown key")
    assert caught.value.exit_code == 2


def test_a_bad_provider_block_breaks_only_that_provider():
    path = CONFIGS / "unknown_kind.toml"
    config = load_config(path)
    broken = {p.name: p.problems for p in config.providers if p.problems}
    assert len(broken) == 1
    (reasons,) = broken.values()
    assert reasons[0].startswith(f"{path}:14: providers[1].kind: unknown provider kind")


def test_secret_values_are_never_echoed():
    with pytest.raises(ConfigError) as caught:
        load_config(CONFIGS / "secrets.toml")
    text = str(caught.value)
    for value in ("s3cr3t-value-1", "ghp_abcdefghij", "hooks.slack.com", "XXXXXXXX"):
        assert value not in text


def test_every_problem_of_one_file_is_reported(tmp_path):
    path = config_file(
        tmp_path,
        "\n".join(
            [
                "[team]",
                'members = ["alice", "bob", "alice"]',
                "[policy.production]",
                "min_aprovals = 2",
                'vote_ttl = "soon"',
                "[[providers]]",
                'name = "k"',
                'kind = "kubernets"',
                'password = "hunter2"',
                "[[rotation]]",
                'name = "r"',
                'every = "month"',
                'members = ["a"]',
                "start = 2026-01-01",
                'timezone = "Mars/Olympus"',
                "[thresholds]",
                "cpu = [95, 90]",
            ]
        ),
    )
    assert [(line, key) for line, key, _ in problems_of(path)] == [
        (2, "team.members[2]"),
        (4, "policy.production.min_aprovals"),
        (5, "policy.production.vote_ttl"),
        (8, "providers[0].kind"),
        (9, "providers[0].password"),
        (15, "rotation[0].timezone"),
        (17, "thresholds.cpu"),
    ]


def test_unreadable_and_undecodable_files(tmp_path):
    missing = tmp_path / "nope.toml"
    assert problems_of(missing) == [(None, "", "no such file")]
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"name = \xff\xfe\n")
    assert problems_of(binary) == [(None, "", "not UTF-8 text")]
    assert problems_of(tmp_path) == [(None, "", "cannot read: Is a directory")]


def test_unclosed_array_at_end_of_file_names_the_last_line(tmp_path):
    path = config_file(tmp_path, '[team]\nname = "x"\nmembers = ["a",\n')
    assert problems_of(path) == [(3, "", "invalid TOML: Invalid value (at end of file)")]


def test_valid_config_round_trips_into_the_model(tmp_path):
    path = config_file(
        tmp_path,
        """
[team]
name = "collective"
members = ["alice", "bob", "carol"]

[audit]
path = "logs/audit.db"

[policy.production]
min_approvals = 3
allow_self_approval = true
block_on_rejections = 1
vote_ttl = "1h30m"
dismiss_stale_votes = false
deploy_command = "./scripts/deploy.sh full production"
require_rotation_approval = "on-call"

[policy.staging]
vote_ttl = "7d"

[thresholds]
cpu = [60, 80.5]

[[services]]
name = "billing"
thresholds = { p99 = [800, 2000] }

[[services]]
name = "web"

[[providers]]
name = "demo"
kind = "sandbox"
readonly = true
platform = "ecs"
environments = { production = "prod" }

[[notify]]
kind = "matrix"
url_env = "QUORUM_MATRIX_URL"
timeout = 2

[[notify]]
kind = "webhook"
url_env = "HOOK"

[[rotation]]
name = "on-call"
every = "12h"
members = ["alice", "bob"]
start = "2026-01-05"
handoff = "09:30"
timezone = "America/New_York"

[[rotation.restrictions]]
days = ["Monday", "fri", 2]
start = "09:00"
end = "17:00"

[[rotation.layers]]
every = "week"
members = ["carol"]
start = 2026-01-10
end = 2026-06-30
restrictions = [{ days = ["sat", "sun"], start = "00:00", end = "00:00" }]
""",
    )
    team = Thresholds().merged({"cpu": (60.0, 80.5)})
    assert load_config(path) == Config(
        team_name="collective",
        members=("alice", "bob", "carol"),
        audit_path=tmp_path / "logs" / "audit.db",
        policies={
            "production": Policy(
                "production",
                min_approvals=3,
                allow_self_approval=True,
                block_on_rejections=1,
                vote_ttl=timedelta(hours=1, minutes=30),
                dismiss_stale_votes=False,
                deploy_command="./scripts/deploy.sh full production",
                require_rotation_approval="on-call",
            ),
            "staging": Policy("staging", vote_ttl=timedelta(days=7)),
        },
        providers=(
            ProviderConfig(
                "demo",
                "sandbox",
                readonly=True,
                settings={"platform": "ecs", "environments": {"production": "prod"}},
            ),
        ),
        services=(
            ServiceConfig("billing", team.merged({"p99": (800.0, 2000.0)})),
            ServiceConfig("web", None),
        ),
        notify=(
            NotifyConfig("matrix", "QUORUM_MATRIX_URL", timeout=2.0),
            NotifyConfig("webhook", "HOOK"),
        ),
        rotations=(
            RotationConfig(
                name="on-call",
                every="12h",
                members=("alice", "bob"),
                start=date(2026, 1, 5),
                handoff="09:30",
                timezone="America/New_York",
                restrictions=(Restriction(days=(0, 2, 4), start="09:00", end="17:00"),),
                layers=(
                    RotationLayer(
                        name="layer 1",
                        every="week",
                        members=("carol",),
                        start=date(2026, 1, 10),
                        end=date(2026, 6, 30),
                        restrictions=(Restriction(days=(5, 6), start="00:00", end="00:00"),),
                    ),
                ),
            ),
        ),
        thresholds=team,
        source=path,
    )


def test_defaults_when_sections_are_left_out(tmp_path):
    path = config_file(tmp_path, '[policy.production]\nvote_ttl = "2h"\n')
    config = load_config(path)
    # Production keeps its two-approval default when only another key is set.
    assert config.policy("production") == Policy(
        "production", min_approvals=2, vote_ttl=timedelta(hours=2)
    )
    assert config.team_name == "team"
    assert config.audit_path is None
    assert config.thresholds == Thresholds()


def test_audit_path_expands_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = config_file(tmp_path, '[audit]\npath = "~/quorum/audit.db"\n')
    assert load_config(path).audit_path == tmp_path / "home" / "quorum" / "audit.db"
