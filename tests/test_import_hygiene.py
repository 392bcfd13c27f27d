"""The UI stays out of the core, and start-up pays only for the providers configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QUORUM_DATA_DIR": str(tmp_path), "QUORUM_CONFIG": ""}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken" in result.stdout


LAYERS = {"domain", "config", "store", "signing", "notify", "rotation", "engine", "cli", "tui"}


def test_console_top_level_holds_only_the_app_and_the_layers() -> None:
    """A module dropped at the top of console/ has no layer, so no contract covers it."""
    top = ROOT / "console"
    modules = {p.name for p in top.glob("*.py")}
    packages = {p.name for p in top.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules == {"__init__.py", "__main__.py", "app.py"}
    assert packages == LAYERS


def test_core_and_providers_never_import_textual(tmp_path: Path) -> None:
    code = """
import importlib, json, pkgutil, sys
import console, providers
names = []
for package in (console, providers):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name in ("console.app", "console.__main__") or info.name.startswith("console.tui"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
print(json.dumps({"imported": names, "ui": sorted(m for m in sys.modules
      if m.split(".")[0] in ("textual", "widgets"))}))
"""
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "console.engine.hub" in report["imported"] and "providers.base" in report["imported"]
    assert report["ui"] == []


def test_status_on_the_sandbox_imports_no_heavy_sdk(tmp_path: Path) -> None:
    code = """
import json, sys
from console.cli.main import main
code = main(["status", "--sandbox", "--json"])
top = {m.split(".")[0] for m in sys.modules}
heavy = sorted(top & {"boto3", "botocore", "kubernetes", "psycopg", "textual"})
print(json.dumps({"exit": code, "heavy": heavy}), file=sys.stderr)
"""
    result = run_python(code, tmp_path)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"exit": 0, "heavy": []}
    assert len(json.loads(result.stdout)) >= 8


def test_the_console_path_leaves_for_later_what_the_first_frame_does_not_show(
    tmp_path: Path,
) -> None:
    """What `quorum` imports before its first frame is start-up time a person waits for."""
    code = """
import json, sys
from console.cli.main import _console_args
from console.app import QuorumApp
from console.engine.session import open_session
session = open_session(_console_args(["--sandbox"]))
QuorumApp(session)
print(json.dumps({"providers": len(session.providers), "broken": len(session.broken),
    "loaded": sorted(m for m in sys.modules)}))
"""
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["providers"] == 4 and report["broken"] == 0
    later = {
        "importlib.metadata",  # the entry points: the sandbox is a built-in kind
        "console.domain.consensus",
        "console.store.audit",
        "console.engine.actions",
        "sqlite_utils",
        "httpx",
        "widgets.dialogs.modals",
        "widgets.dialogs.help",
        # the panes and the key footer mounted after the first frame
        "widgets.panes.approvals",
        "widgets.panes.audit",
        "widgets.base.footer",
        "widgets.panes.logs",
        "widgets.panes.metrics",
        "widgets.panes.rotation",
    }
    assert later.isdisjoint(report["loaded"])
    assert not [m for m in report["loaded"] if m.startswith("console.cli.commands.")]


def test_the_built_in_kinds_are_the_ones_pyproject_registers() -> None:
    import tomllib
    from importlib.metadata import entry_points

    from providers.registry import BUILTIN, GROUP

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert declared[GROUP] == BUILTIN
    installed = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    assert installed.items() >= BUILTIN.items()


def test_a_configured_ledger_is_checked_without_loading_its_driver(tmp_path: Path) -> None:
    """`config check` reads `[ledger]` but opens no connection, so psycopg stays unloaded;
    only opening the ledger imports it."""
    config = tmp_path / "config.toml"
    config.write_text('[team]\nmembers = ["alice"]\n[ledger]\nurl = "postgresql://db/quorum"\n')
    code = f"""
import json, sys
from console.cli.main import main
code = main(["config", "check", "--config", {str(config)!r}])
print(json.dumps({{"exit": code, "psycopg": "psycopg" in sys.modules}}), file=sys.stderr)
"""
    result = run_python(code, tmp_path)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"exit": 0, "psycopg": False}
