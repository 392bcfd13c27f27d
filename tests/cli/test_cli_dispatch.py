"""The parser is built from a table of command names; a command imports only its own module."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import commands
from console.cli.main import COMMANDS, build_parser, command_module, common_options, main
from tests.paths import ROOT


def test_the_table_names_every_command_as_its_module_registers_it() -> None:
    """`quorum --help` is built from the table; each module must register exactly the
    names the table gives it, with the same help line, in the table's order."""
    registered: list[tuple[str, str, str | None]] = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        sub = argparse.ArgumentParser().add_subparsers(dest="command")
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub, common_options())
        registered += [(action.dest, info.name, action.help) for action in sub._choices_actions]
    table = [(name, module, help_text) for name, (module, help_text) in COMMANDS.items()]
    assert table == registered


@pytest.mark.parametrize("name", ["status", "rollback", "review", "config"])
def test_the_named_command_gets_its_real_options(name: str) -> None:
    parser = build_parser([name, "--help"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sub.choices[name].get_default("func") is not None
    others = [n for n, (module, _) in COMMANDS.items() if module != COMMANDS[name][0]]
    assert all(sub.choices[n].get_default("func") is None for n in others)


def test_options_before_the_command_still_find_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--config", "status", "status", "--help"])
    assert exit_.value.code == 0
    assert "--json" in capsys.readouterr().out


def test_an_unknown_command_is_one_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["statsu"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unknown command 'statsu'; did you mean 'status'?" in err


def test_status_imports_no_other_command_and_no_sdk_it_does_not_use(tmp_path: Path) -> None:
    code = """
import json, sys
from console.cli.main import main
code = main(["--sandbox", "status", "--json"])
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""
    env = {**os.environ, "QUORUM_DATA_DIR": str(tmp_path), "QUORUM_CONFIG": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["exit"] == 0 and len(json.loads(result.stdout)) >= 8
    modules = set(report["modules"])
    assert {m.split(".")[0] for m in modules} & {"httpx", "sqlite_utils", "textual"} == set()
    loaded = {m for m in modules if m.startswith("console.cli.commands.")}
    assert loaded == {command_module("status")}
