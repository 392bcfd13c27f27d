"""boto3 is loaded only when a config has an AWS block, and only when it first talks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_import_hygiene import run_python

CONFIG = """
[[providers]]
name = "demo"
kind = "sandbox"
platform = "kubernetes"
"""
AWS = """
[[providers]]
name = "aws"
kind = "ecs"
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:9"
environments = { production = "prod" }

[[providers]]
name = "sites"
kind = "static-site"
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:9"
sites = { docs = { bucket = "docs", distribution = "E1" } }
"""
CODE = """
import argparse, json, sys
from console.engine.session import open_session
session = open_session(argparse.Namespace(config=sys.argv[1], sandbox=False, readonly=False))
loaded = "boto3" in sys.modules
names = sorted(session.providers)
for provider in session.providers.values():
    if provider.kind == "ecs":
        provider.aws.client("ecs")
print(json.dumps({"providers": names, "broken": [b.reason for b in session.broken],
                  "at_start": loaded, "after_a_client": "boto3" in sys.modules}))
"""


def load(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "quorum.toml"
    path.write_text(text)
    result = run_python(CODE.replace("sys.argv[1]", repr(str(path))), tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_aws_block_never_loads_boto3(tmp_path: Path) -> None:
    report = load(tmp_path, CONFIG)
    assert report == {"providers": ["demo"], "broken": [], "at_start": False,
                      "after_a_client": False}  # fmt: skip


def test_aws_blocks_load_boto3_on_their_first_client_only(tmp_path: Path) -> None:
    report = load(tmp_path, CONFIG + AWS)
    assert report == {"providers": ["aws", "demo", "sites"], "broken": [], "at_start": False,
                      "after_a_client": True}  # fmt: skip
