"""The JSON report's published schema (issue 13 §2): ``archspec/schemas/report.schema.json`` is what
:func:`report_schema` generates, the reports of every bundled spec — from ``archspec.analyze`` here, from
``archspec check --format json`` in a separate process in tests/cli/test_cli_report_schema.py — are valid under
it, and it is strict enough to fail a report that gained, lost or retyped a key. Random specs:
tests/property/test_report_schema_random_specs.py; the wheel and check-jsonschema: tests/unit/test_editor_schema.py.

Torch-free, like the report itself."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest

import archspec
from archspec.analysis.report import FORMAT_VERSION
from archspec.analysis.report_schema import report_schema
from archspec.loading.resolve import bundled_specs

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "archspec" / "schemas" / "report.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SHIPPED.read_text()))
SEMVER = r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"


def problems(document: object, validator: jsonschema.Draft202012Validator = VALIDATOR) -> list[str]:
    """What the shipped schema finds wrong in ``document`` (nothing: valid)."""
    return [f"{list(error.absolute_path)}: {error.message[:300]}" for error in validator.iter_errors(document)]


def test_shipped_report_schema_is_current():
    assert json.loads(SHIPPED.read_text()) == report_schema(), (
        "regenerate with: archspec schema report > archspec/schemas/report.schema.json"
    )


def test_the_repositorys_schemas_folder_holds_the_same_file():
    assert (ROOT / "schemas" / "report.schema.json").read_bytes() == SHIPPED.read_bytes()


def test_report_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_format_version_is_semver_and_leads_the_report():
    assert re.fullmatch(SEMVER, FORMAT_VERSION)
    document = archspec.analyze("lenet5").to_dict()
    assert next(iter(document)) == "format_version"
    assert document["format_version"] == FORMAT_VERSION


@pytest.mark.parametrize("name", sorted(bundled_specs()))
def test_every_bundled_spec_s_report_is_valid(name: str):
    """Through JSON text, as readers get it; both graphs (train-only heads, batchnorm's batch), batch 2. Token
    inputs (gpt_tiny: no field, a vocabulary), heads (googlenet), layout ops (swin_t), merges (unet) among them."""
    for train in (False, True):
        report = archspec.analyze(name, batch=2, train=train)
        assert problems(json.loads(json.dumps(report.to_dict(), allow_nan=False))) == []


@pytest.fixture(scope="module")
def googlenet() -> dict:
    return json.loads(json.dumps(archspec.analyze("googlenet").to_dict()))


def _without(document: dict, *path: str | int) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return changed


def _with(document: dict, value: object, *path: str | int) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def test_the_schema_refuses_reports_that_differ_from_the_format(googlenet: dict):
    """Strict: so a key that to_dict gains or loses, or a value of another type, fails the tests above."""
    assert problems(googlenet) == []
    wrong = [
        _without(googlenet, "format_version"),
        _with(googlenet, "0.9.0", "format_version"),
        _with(googlenet, 1, "format_version"),
        _with(googlenet, 1, "new_key"),
        _without(googlenet, "totals", "macs"),
        _with(googlenet, -1, "totals", "params"),
        _with(googlenet, 1.5, "totals", "macs"),
        _with(googlenet, "3", "batch"),
        _with(googlenet, 1, "layers", 0, "extra"),
        _without(googlenet, "layers", 0, "rf"),
        _with(googlenet, [1, 0, 3], "layers", 0, "output_shape"),
        _with(googlenet, "exact", "receptive_field", "reason"),
        _with(googlenet, {"kind": "global", "size": [3]}, "layers", 0, "rf"),
        _with(googlenet, {"kind": "exactly"}, "layers", 0, "rf"),
        _with(googlenet, "other text", "conventions", "macs"),
        _with(googlenet, [], "outputs"),
        _with(googlenet, [{"module": "x"}], "warnings"),
    ]
    for document in wrong:
        assert problems(document) != []
