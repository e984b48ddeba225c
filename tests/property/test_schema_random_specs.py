"""The JSON Schema accepts every valid spec: the random valid specs of test_random_specs.py and
test_random_graphs.py (ops of every kind and rank, containers, heads, long skips, repeats with ``first``, a
spec's own blocks with expressions) pass the shipped schema, and archspec accepts them too (the strategies make
them valid by construction; this checks it, so a schema that passes them is not passing invalid specs)."""

from __future__ import annotations

import jsonschema
from hypothesis import given, note
from test_random_graphs import graphs
from test_random_specs import valid_specs

import archspec
from archspec.blocks.schema import spec_schema

VALIDATOR = jsonschema.Draft202012Validator(spec_schema())


def assert_accepted(spec: dict) -> None:
    note(repr(spec))
    archspec.analyze(archspec.load(spec))
    assert [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(spec)] == []


@given(valid_specs())
def test_the_schema_accepts_random_valid_specs(case):
    assert_accepted(case[0])


@given(graphs())
def test_the_schema_accepts_random_valid_branching_specs(case):
    assert_accepted(case[0])
