"""config.example.toml loads cleanly and carries the team's own examples."""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path

from console.config.load import load_config
from console.config.notify_sinks import KINDS as NOTIFY_KINDS
from console.config.provider_settings import declared_problems
from console.domain.settings import Policy
from providers.registry import BUILTIN, load_provider_class
from tests.paths import ROOT

EXAMPLE = ROOT / "config.example.toml"

# The seeds' monthly schedule, January/July first.
SEED_ROTATION = (
    "go-systems-developer",
    "flask-web-developer",
    "devops-coordinator",
    "consensus-coordinator",
    "All technical agents review",
    "Collective infrastructure planning",
)
# The alert thresholds table of the team's process documents: (warning, critical).
SEED_THRESHOLDS = {
    "cpu": (70.0, 90.0),
    "memory": (80.0, 95.0),
    "disk": (70.0, 85.0),
    "error_rate": (1.0, 5.0),
    "p99": (500.0, 1000.0),
}


def test_example_loads_without_problems():
    config = load_config(EXAMPLE)
    assert config.source == EXAMPLE
    assert [(p.kind, p.settings.get("platform")) for p in config.providers] == [
        ("sandbox", "kubernetes"),
        ("sandbox", "ecs"),
        ("sandbox", "static"),
        ("sandbox-watch", None),
    ]


def test_example_carries_the_seeds_rotation():
    [infrastructure] = [r for r in load_config(EXAMPLE).rotations if r.name == "infrastructure"]
    assert infrastructure.every == "month"
    assert infrastructure.members == SEED_ROTATION
    assert infrastructure.start == date(2026, 1, 1)


def test_example_production_policy_needs_two_approvals_and_deploys_through_the_provider():
    assert load_config(EXAMPLE).policy("production") == Policy(
        "production",
        min_approvals=2,
        allow_self_approval=False,
        block_on_rejections=2,
        vote_ttl=timedelta(hours=24),
        dismiss_stale_votes=True,
        deploy_command=None,
    )
    assert '# deploy_command = "./scripts/deploy.sh production"' in EXAMPLE.read_text()


def test_example_thresholds_are_the_seeds_table():
    config = load_config(EXAMPLE)
    assert config.thresholds.levels == SEED_THRESHOLDS
    assert config.thresholds_for("billing").levels == {**SEED_THRESHOLDS, "p99": (800.0, 2000.0)}


def commented_blocks(text: str) -> list[str]:
    """Each commented-out block of the example, uncommented with its optional lines."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("# ["):
            current = []
            blocks.append(current)
        if current is not None and line.startswith("# "):
            current.append(line.removeprefix("# ").removeprefix("# "))
        elif not line.startswith("#"):
            current = None
    return ["\n".join(b) for b in blocks if b]


def test_every_kind_the_example_names_exists_commented_or_not():
    """`kind = "..."` anywhere in the file, under the table it belongs to: a block for a
    kind Quorum lacks would be "unknown provider kind" once uncommented."""
    table, named = "", set()
    for line in EXAMPLE.read_text().splitlines():
        bare = line.lstrip("# ")
        if header := re.match(r"\[\[([\w.]+)\]\]", bare):
            table = header[1]
        elif kind := re.match(r'kind\s*=\s*"([^"]+)"', bare):
            named.add((table, kind[1]))
    provider_kinds = {kind for table, kind in named if table == "providers"}
    assert provider_kinds == set(BUILTIN), "one block per kind Quorum has, no other"
    assert {kind for table, kind in named if table == "notify"} <= set(NOTIFY_KINDS)
    assert {table for table, _ in named} == {"providers", "notify"}


def test_every_commented_provider_block_parses():
    parsed = [tomllib.loads(block) for block in commented_blocks(EXAMPLE.read_text())]
    providers = [p for doc in parsed for p in doc.get("providers", [])]
    assert {p["kind"] for p in providers} == set(BUILTIN) - {"sandbox", "sandbox-watch"}
    for provider in providers:
        assert not any(re.search(r"token$|secret|password", key) for key in provider)
        endpoint = {"endpoint_url", "api_url", "urls"} & provider.keys()
        uses_aws = provider["kind"] in ("ecs", "static-site")
        if provider["kind"] != "kubernetes":
            assert endpoint, provider["name"]
        if uses_aws:
            assert "endpoint_url" in endpoint


def test_every_block_of_a_built_in_kind_fits_that_kinds_declared_settings():
    """The example and the checker read one declaration (`Provider.declared_settings`)."""
    text = EXAMPLE.read_text()
    documents = [tomllib.loads(text), *(tomllib.loads(b) for b in commented_blocks(text))]
    blocks = [p for doc in documents for p in doc.get("providers", [])]
    seen = set()
    for block in blocks:
        if block["kind"] not in BUILTIN:
            continue
        cls = load_provider_class(block["kind"])
        seen.add(block["kind"])
        assert declared_problems(cls.declared_settings, block) == [], block["name"]
        if block["kind"] not in ("sandbox", "kubernetes", "ecs", "static-site"):  # own rules
            settings = {k: v for k, v in block.items() if k not in ("name", "kind")}
            assert cls.check_settings(settings) == [], block["name"]
    assert seen == set(BUILTIN)
    # Every Kubernetes setting is shown in the example, with the default it documents.
    [kube] = [b for b in blocks if b["kind"] == "kubernetes"]
    declared = load_provider_class("kubernetes").declared_settings
    assert {s.name for s in declared} - {"in_cluster"} <= kube.keys()
    assert "# in_cluster = true" in text
    label = next(s for s in declared if s.name == "label")
    assert kube["label"] == label.default


def test_every_commented_notify_block_loads(tmp_path: Path) -> None:
    blocks = [b for b in commented_blocks(EXAMPLE.read_text()) if "[[notify]]" in b]
    assert {tomllib.loads(b)["notify"][0]["kind"] for b in blocks} >= {"email", "pagerduty"}
    for block in blocks:
        path = tmp_path / "notify.toml"
        path.write_text(f'[team]\nmembers = ["alice"]\n\n{block}')
        assert len(load_config(path).notify) == 1, block
