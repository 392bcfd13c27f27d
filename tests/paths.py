"""Where the tests find the project's files, wherever in tests/ a test module sits."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout
TESTS = ROOT / "tests"
FORGER = TESTS / "forger.py"  # the hostile member's raw-SQL script
CONFIGS = TESTS / "configs"
