"""Line numbers of TOML keys, which tomllib does not give."""

from __future__ import annotations

import tomllib

from console.config.lines import LineIndex

DOC = '''# a comment [not] a header
[team]
name = "x"  # trailing = comment
members = [
  "a",   # one
  "b",
]

[policy.production]
min_approvals = 2

[[providers]]
name = "first"
environments = { production = "p", "staging" = 's' }

[[providers]]
name = "second"
note = """
kind = "not a key"
[not.a.header]
"""
kind = "k"

[providers.options]
depth = 1

[[rotation]]
name = 'r'
"quoted key" = 1
a.b.c = 2

[[rotation.layers]]
members = ["c"]

[[rotation.layers]]
members = ["d"]

[[rotation]]
name = "second"
services = [
  { name = "api", thresholds = { cpu = [1, 2] } },
  { name = "web" },
]
'''


def test_scanned_document_is_valid_toml():
    tomllib.loads(DOC)


def test_keys_headers_and_array_elements_have_their_lines():
    index = LineIndex(DOC)
    expected = {
        ("team",): 2,
        ("team", "name"): 3,
        ("team", "members", 1): 6,
        ("policy",): 9,
        ("policy", "production", "min_approvals"): 10,
        ("providers", 0): 12,
        ("providers", 0, "environments", "staging"): 14,
        ("providers", 1): 16,
        ("providers", 1, "kind"): 22,
        ("providers", 1, "options", "depth"): 25,
        ("rotation", 0, "name"): 28,
        ("rotation", 0, "quoted key"): 29,
        ("rotation", 0, "a", "b", "c"): 30,
        ("rotation", 0, "layers", 1, "members"): 36,
        ("rotation", 1, "name"): 39,
        ("rotation", 1, "services", 1, "name"): 42,
        ("rotation", 1, "services", 0, "thresholds", "cpu", 1): 41,
    }
    assert {path: index.line(path) for path in expected} == expected


def test_a_missing_key_falls_back_to_its_table():
    index = LineIndex(DOC)
    assert index.line(("providers", 1, "api_url")) == 16
    assert index.line(("rotation", 0, "layers", 0, "start")) == 32
    assert index.line(("nothing", "here")) is None


def test_multi_line_strings_hide_their_content():
    index = LineIndex(DOC)
    assert index.line(("providers", 1, "note")) == 18
    assert index.line(("not",)) is None


def test_multi_line_literal_string_ending_in_quotes():
    doc = "a = '''x\n''''\nb = 1\n"
    assert tomllib.loads(doc) == {"a": "x\n'", "b": 1}
    assert LineIndex(doc).line(("b",)) == 3


def test_escaped_quotes_and_brackets_inside_strings():
    doc = 'c = "q\\" = [ {"\nd = [\'] [\', "]"]\ne = 2\n'
    assert tomllib.loads(doc) == {"c": 'q" = [ {', "d": ["] [", "]"], "e": 2}
    index = LineIndex(doc)
    assert (index.line(("d", 1)), index.line(("e",))) == (2, 3)
