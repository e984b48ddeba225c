"""`archspec check --format json` writes reports valid under the shipped report schema
(archspec/schemas/report.schema.json; the unit tests keep it current and strict), and `archspec schema report`
prints that file."""

from __future__ import annotations

import json

import jsonschema
from clitools import REPO_ROOT, run_cli

import archspec
from archspec.analysis.report import FORMAT_VERSION
from archspec.loading.resolve import bundled_specs

SHIPPED = REPO_ROOT / "archspec" / "schemas" / "report.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SHIPPED.read_text()))


def problems(document: object) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message[:300]}" for error in VALIDATOR.iter_errors(document)]


def test_archspec_schema_report_prints_the_shipped_file():
    result = run_cli("schema", "report")
    assert result.returncode == 0, result.stderr
    assert result.stdout == SHIPPED.read_text()


def test_every_bundled_spec_s_json_report_from_the_cli_is_valid():
    """One `archspec check --format json` of every bundled spec (an array), eval and training graphs."""
    names = sorted(bundled_specs())
    for extra in ([], ["--train"]):
        result = run_cli("check", *names, "--format", "json", *extra, timeout=600)
        assert result.returncode == 0, result.stderr
        documents = json.loads(result.stdout)
        assert [document["name"] for document in documents] == [archspec.load(name).name for name in names]
        for name, document in zip(names, documents, strict=True):
            assert document["format_version"] == FORMAT_VERSION
            assert problems(document) == [], name


def test_json_output_of_one_spec_is_one_valid_object():
    result = run_cli("check", "resnet18", "--format", "json", "--input", "3,64,80", "--batch", "2")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert problems(document) == []
    assert document["input_shape"] == [2, 3, 64, 80]
