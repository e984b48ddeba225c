"""``archspec list``, ``archspec schema`` and ``archspec check`` on the bundled specs."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from clitools import BUNDLED, cli_runner, run_cli

from archspec.loading.resolve import bundled_specs
from archspec.loading.yaml_loader import load_text

CORE_OPS = [
    "conv",
    "conv_transpose",
    "linear",
    "batchnorm",
    "lrn",
    "relu",
    "relu6",
    "leaky_relu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softmax",
    "identity",
    "dropout",
    "maxpool",
    "avgpool",
    "adaptive_avgpool",
    "adaptive_maxpool",
    "global_avgpool",
    "flatten",
    "upsample",
]


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def listed_names(out: str) -> set[str]:
    return {line.split()[0] for line in out.splitlines() if line.startswith(" ") and line.split()}


def test_list_shows_bundled_specs_and_ops(cli):
    code, out, err = cli("list")
    assert code == 0, err
    names = listed_names(out)
    assert set(BUNDLED) <= names
    assert set(CORE_OPS) <= names
    assert "vgg_block" in names


@pytest.mark.parametrize(("what", "present", "absent"), [("specs", "vgg16", "conv"), ("ops", "conv", "vgg16")])
def test_list_sections(cli, what, present, absent):
    code, out, _ = cli("list", what)
    assert code == 0
    names = listed_names(out)
    assert present in names
    assert absent not in names


def test_list_as_a_real_process():
    result = run_cli("list", "specs")
    assert result.returncode == 0, result.stderr
    assert set(BUNDLED) <= listed_names(result.stdout)


@pytest.fixture(scope="module")
def schema():
    import contextlib
    import io

    from archspec.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["schema"]) == 0
    return json.loads(buffer.getvalue())


def bundled_data(name: str):
    file = bundled_specs()[name]
    return load_text(resources.files("archspec.specs").joinpath(file).read_text(encoding="utf-8"), file).data


def test_schema_is_a_valid_json_schema(schema):
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert schema.get("type") == "object"
    assert {"archspec", "name", "input", "layers"} <= set(schema["properties"])


def test_schema_from_cli_output(cli):
    code, out, _ = cli("schema")
    assert code == 0
    assert json.loads(out)["properties"]["layers"]


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_spec_validates_against_the_schema(schema, name):
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [error.message for error in validator.iter_errors(bundled_data(name))]
    assert errors == []


@pytest.mark.parametrize(
    "change",
    [
        {"nmae": "x"},
        {"archspec": 2},
        {"input": []},
        {"layers": []},
        {"layers": [{"conv": {"out": 4, "kernel": 3}, "repeat": 0}]},
        {"layers": [{"conv": {"out": 4, "kernal": 3}}]},
    ],
)
def test_schema_rejects_structurally_invalid_specs(schema, change):
    data = {"archspec": 1, "name": "x", "input": [3, 8, 8], "layers": ["relu"], **change}
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(data)), change


def test_check_every_bundled_spec(cli):
    code, out, err = cli("check", *BUNDLED, "--format", "json")
    assert code == 0, err
    assert out.count('"name"') >= len(BUNDLED)


def test_check_quiet(cli):
    code, out, err = cli("check", *BUNDLED, "-q")
    assert code == 0, err
    assert out == ""


CONTAINER_NAMES = ["sequential", "concat", "add", "multiply", "channel_split", "head"]


def test_list_shows_the_containers_with_their_descriptions(cli):
    from archspec.ops.containers import CONTAINERS

    code, out, err = cli("list", "containers")
    assert code == 0, err
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert list(rows) == CONTAINER_NAMES
    for name in CONTAINER_NAMES:
        first_line = (type(CONTAINERS[name]).__doc__ or "").strip().splitlines()[0]
        assert first_line and first_line in rows[name], name
    assert "[branches, dim]" in rows["concat"] and "[layers, train_only]" in rows["head"]


def test_list_all_includes_containers_once(cli):
    _, out, _ = cli("list")
    assert out.count("\n  concat ") == 1 and "Containers" in out
    _, ops, _ = cli("list", "ops")
    assert "concat" not in listed_names(ops)


def row_cells(out: str, path: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.split() and line.split()[0] == path)


def test_table_has_an_effective_padding_column(cli):
    """ResNet-18: conv1 (k7 s2 p3) has P = 3; maxpool (k3 s2 p1) adds 1 × jump 2: P = 5; the network's final
    field (layer4, DESIGN.md §4) has padding 217 (and RF 435, jump 32, start 0.5)."""
    code, out, err = cli("check", "resnet18", "--depth", "1")
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("Layer (path)"))
    assert header.split()[-4:] == ["RF", "Jump", "Start", "Pad"]
    assert row_cells(out, "conv1")[-4:] == ["7", "2", "0.5", "3"]
    assert row_cells(out, "maxpool")[-4:] == ["11", "4", "0.5", "5"]
    assert row_cells(out, "layer4")[-4:] == ["435", "32", "0.5", "217"]
    assert row_cells(out, "fc")[-4:] == ["–"] * 4


def test_markdown_has_an_effective_padding_column(cli):
    code, out, err = cli("check", "resnet18", "--format", "markdown", "--depth", "1")
    assert code == 0, err
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0].endswith("| RF | Jump | Start | Pad |")
    assert table[1].count("|") == table[0].count("|")
    assert next(line for line in table if "`layer4`" in line).endswith("| 435 | 32 | 0.5 | 217 |")
