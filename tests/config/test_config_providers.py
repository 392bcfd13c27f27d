"""Provider blocks: the kind's own settings checks, placed on the provider's lines.

The provider kinds here are a real plugin distribution (tests/configs/plugins) put on
sys.path, found through the `quorum.providers` entry points like any third party's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from console.config.load import config_problems, load_config
from console.engine.session import open_session
from providers.registry import available_kinds, load_provider_class
from tests.paths import CONFIGS

PLUGINS = CONFIGS / "plugins"


@pytest.fixture(autouse=True)
def plugins_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[tuple[int | None, str, str]]:
    return [(p.line, p.key, p.message) for p in config_problems(path)]


def test_plugin_kinds_are_known():
    assert {"picky", "broken-sdk"} <= set(available_kinds())


def test_check_settings_problems_land_on_the_providers_lines(tmp_path):
    path = write(
        tmp_path,
        """[[providers]]
name = "ok"
kind = "picky"
api_url = "http://127.0.0.1:9"

[[providers]]
name = "bad"
kind = "picky"
retries = 9
token_env = "PICKY_TOKEN"
""",
    )
    assert problems(path) == [
        (6, "providers[1].api_url", "required: the API's base URL"),
        (9, "providers[1].retries", "must be a whole number from 0 to 5"),
    ]


def test_settings_outside_the_kinds_keys_are_unknown(tmp_path):
    path = write(
        tmp_path,
        """[[providers]]
name = "p"
kind = "picky"
api_url = "http://127.0.0.1:9"
token_evn = "PICKY_TOKEN"
environments = { production = "prod" }
""",
    )
    assert problems(path) == [
        (5, "providers[0].token_evn", "unknown key 'token_evn'; did you mean 'token_env'?")
    ]


def test_a_secret_is_reported_once_and_never_handed_to_the_provider(tmp_path):
    path = write(
        tmp_path,
        """[[providers]]
name = "p"
kind = "picky"
api_url = "http://127.0.0.1:9"
api_key = "k-123456"
""",
    )
    assert problems(path) == [
        (
            5,
            "providers[0].api_key",
            "secrets are never written in the config; name an environment variable with "
            "api_key_env",
        )
    ]


def test_a_kind_that_fails_to_import_does_not_stop_loading(tmp_path):
    """Its import error is the session's to report (a broken provider), not a config error."""
    path = write(tmp_path, '[[providers]]\nname = "x"\nkind = "broken-sdk"\nanything = 1\n')
    config = load_config(path)
    assert [(p.name, p.kind, p.settings) for p in config.providers] == [
        ("x", "broken-sdk", {"anything": 1})
    ]


def test_a_kind_written_before_declarations_keeps_its_own_checks(tmp_path):
    """No declaration: its keys go unchecked, but its `check_settings` still runs, once."""
    path = write(
        tmp_path,
        """[[providers]]
name = "old"
kind = "legacy"
api_url = 3
colour = "blue"
""",
    )
    assert problems(path) == [
        (4, "providers[0].api_url", "required: the API's base URL, as a string")
    ]
    path.write_text(path.read_text().replace("api_url = 3", 'api_url = "http://127.0.0.1:9"'))
    assert problems(path) == []
    assert [p.name for p in load_config(path).providers] == ["old"]


def test_settings_are_checked_when_the_file_is_read_not_again_at_start(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        """[[providers]]
name = "p"
kind = "picky"
api_url = "http://127.0.0.1:9"
""",
    )
    checked: list[str] = []
    picky = load_provider_class("picky")
    original = picky.check_settings.__func__

    def counting(cls, settings):
        checked.append("check")
        return original(cls, settings)

    monkeypatch.setattr(picky, "check_settings", classmethod(counting))
    session = open_session(argparse.Namespace(config=str(path), sandbox=False, readonly=False))
    assert list(session.providers) == ["p"] and session.broken == []
    assert checked == ["check"]
