"""The checked-in JSON Schema is generated from the models and the registry, and stays current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from archspec.loading.resolve import bundled_specs
from archspec.spec.schema import spec_schema

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "schemas" / "archspec.schema.json"


def test_checked_in_schema_is_current():
    assert json.loads(CHECKED_IN.read_text()) == spec_schema(), (
        "regenerate with: archspec schema > schemas/archspec.schema.json"
    )


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(spec_schema())


@pytest.mark.parametrize("name", sorted(bundled_specs()))
def test_every_bundled_spec_validates(name):
    text = (ROOT / "archspec" / "specs" / bundled_specs()[name]).read_text()
    jsonschema.validate(yaml.safe_load(text), spec_schema())


@pytest.mark.parametrize(
    "item",
    [
        {"conv": {"out": 4, "kernal": 3}},  # misspelt argument
        {"conv": {"out": 4, "kernel": 3}, "relu": None},  # two ops in one item
        {"maxpool": {"kernel": 2, "ceil_mode": "yes"}},  # wrong type
        {"repeat": 2},  # modifiers but no op
    ],
)
def test_schema_rejects_what_validation_rejects(item):
    spec = {"archspec": 1, "name": "x", "input": [3, 8, 8], "layers": [item]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spec, spec_schema())
