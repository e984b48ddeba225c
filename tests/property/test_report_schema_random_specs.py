"""The JSON reports of random valid specs (test_random_specs.py's and test_random_graphs.py's: ops of every kind
and rank, containers, heads, long skips, a spec's own blocks) are valid under the shipped report schema, in both
modes and at any batch — so the schema describes every report archspec writes, not only the bundled specs'."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from hypothesis import given, note, settings
from hypothesis import strategies as st
from test_random_graphs import graphs
from test_random_specs import valid_specs

import archspec

SHIPPED = Path(__file__).resolve().parents[2] / "archspec" / "schemas" / "report.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SHIPPED.read_text()))


def assert_valid_report(spec: dict, batch: int, train: bool) -> None:
    note(repr(spec))
    document = json.loads(json.dumps(archspec.analyze(spec, batch=batch, train=train).to_dict(), allow_nan=False))
    assert [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(document)] == []


@settings(max_examples=60)
@given(valid_specs(), st.integers(1, 4), st.booleans())
def test_reports_of_random_specs_are_valid(case, batch, train):
    assert_valid_report(case[0], batch, train)


@settings(max_examples=60)
@given(graphs(), st.integers(1, 4), st.booleans())
def test_reports_of_random_branching_specs_are_valid(case, batch, train):
    assert_valid_report(case[0], batch, train)
