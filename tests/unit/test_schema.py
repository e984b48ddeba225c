"""The shipped JSON Schema is generated from the models, the registry and the block library, stays current, and
checks what JSON Schema can: unknown ops, blocks and arguments are errors, a spec's own blocks are not.

Torch-free (``.ci/min_versions`` runs it with the lowest jsonschema). check-jsonschema, the wheel and random
specs are in tests/unit/test_editor_schema.py and tests/property/test_schema_random_specs.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from archspec.blocks.library import builtin_blocks
from archspec.blocks.schema import spec_schema
from archspec.loading.resolve import bundled_specs
from archspec.ops.containers import CONTAINERS
from archspec.ops.registry import all_ops

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "archspec" / "schemas" / "archspec.schema.json"
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/archspec.schema.json"
BASE = {"archspec": 1, "name": "x", "input": [3, 8, 8]}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(spec_schema())


def valid(validator: jsonschema.Draft202012Validator, **spec) -> bool:
    return not list(validator.iter_errors({**BASE, **spec}))


def test_shipped_schema_is_current():
    assert json.loads(SHIPPED.read_text()) == spec_schema(), (
        "regenerate with: archspec schema > archspec/schemas/archspec.schema.json"
    )


def test_the_repositorys_schemas_folder_holds_the_same_file():
    """schemas/archspec.schema.json is where `specs/NAME.yaml` (the link) resolves the line to, lexically."""
    assert (ROOT / "schemas" / "archspec.schema.json").read_bytes() == SHIPPED.read_bytes()


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(spec_schema())


@pytest.mark.parametrize("name", sorted(bundled_specs()))
def test_every_bundled_spec_validates(name, validator):
    text = (ROOT / "archspec" / "specs" / bundled_specs()[name]).read_text()
    assert [error.message for error in validator.iter_errors(yaml.safe_load(text))] == []


@pytest.mark.parametrize("name", sorted(bundled_specs()))
def test_every_bundled_spec_names_the_shipped_schema_on_its_first_line(name):
    """The relative path resolves to the shipped schema from archspec/specs (the repository and an installed
    package: the wheel test checks its layout) and, read lexically as editors resolve a file's URI, from the
    specs/ link at the root."""
    file = bundled_specs()[name]
    assert file.endswith(".yaml"), "a JSON spec has no comment line: give it a schema line some other way"
    first = (ROOT / "archspec" / "specs" / file).read_text().splitlines()[0]
    assert first == SCHEMA_LINE
    relative = first.split("$schema=", 1)[1]
    for folder in (ROOT / "archspec" / "specs", ROOT / "specs"):
        target = Path(os.path.normpath(folder / relative))
        assert target.read_bytes() == SHIPPED.read_bytes(), (folder, target)
        assert (folder / relative).resolve().read_bytes() == SHIPPED.read_bytes()  # through the link, by the OS


@pytest.mark.parametrize(
    "layers",
    [
        [{"conv": {"out": 4, "kernal": 3}}],  # misspelt argument
        [{"conv": {"out": 4, "kernel": 3}, "relu": None}],  # two ops in one item
        [{"maxpool": {"kernel": 2, "ceil_mode": "yes"}}],  # wrong type
        [{"repeat": 2}],  # modifiers but no op
        [{"convv": {"out": 4, "kernel": 3}}],  # an unknown op
        ["convv"],  # ... written bare
        [{"sequential": [{"reul": None}]}],  # ... nested in a container
        [{"add": {"branches": [[{"reul": None}], []]}}],
        [{"residual": {"outt": 64}}],  # an unknown argument of a built-in block
        [{"bottleneck": {"out": 64, "stirde": 2}}],  # a misspelt one
        [{"residual": {}}],  # a built-in block's required argument left out
        [{"residual": None}],
        [{"conv": None}],  # ... and an op's
        [{"conv": {"out": 4, "kernel": 3}, "repeat": 2, "first": {"strde": 2}}],  # first: the op's arguments
        [{"residual": {"out": 8}, "repeat": 2, "first": {"stirde": 2}}],
    ],
)
def test_schema_rejects_what_validation_rejects(layers, validator):
    assert not valid(validator, layers=layers)


@pytest.mark.parametrize(
    "spec",
    [
        {"params": {"k": 3}, "layers": [{"conv": {"out": "${2 * 2}", "kernel": [3, "$k"], "padding": "$k"}}]},
        {"layers": [{"residual": {"out": "$w", "stride": 2}}, "relu", {"relu": None}, "sequential"]},
        {"layers": [{"conv": {"out": 4, "kernel": 3}, "repeat": "$n", "first": {"stride": 2}}]},
        {"layers": [{"concat": None, "from": ["prev", "input"]}, {"concat": {"dim": "$d", "branches": [[], []]}}]},
        # A spec's own blocks, in its layers, in containers and in other blocks, bare or with any arguments.
        {
            "blocks": {"mine": {"params": {"a": 1}, "layers": [{"sequential": [{"theirs": {"b": 2}}]}]}},
            "layers": [{"mine": {"a": 2}}, "mine", {"add": {"branches": [[{"mine": None}], []]}}],
        },
        # A block that overrides a built-in block takes its own arguments.
        {
            "blocks": {"residual": {"override": True, "params": {"outt": 1}, "layers": ["relu"]}},
            "layers": [{"residual": {"outt": 3}}],
        },
    ],
)
def test_schema_accepts_what_validation_accepts(spec, validator):
    assert [error.message for error in validator.iter_errors({**BASE, **spec})] == []


def test_with_blocks_of_its_own_a_spec_still_gets_the_arguments_of_ops_and_built_in_blocks_checked(validator):
    blocks = {"mine": {"layers": ["relu"]}}
    assert not valid(validator, blocks=blocks, layers=[{"residual": {"outt": 64}}])
    assert not valid(validator, blocks=blocks, layers=[{"conv": {"out": 4, "kernal": 3}}])
    # An unknown name may be one of the spec's blocks: the schema cannot read which ones `blocks:` defines.
    assert valid(validator, blocks=blocks, layers=[{"convv": {"out": 4}}])


@pytest.mark.parametrize(
    "blocks",
    [
        {"residual": {"layers": ["relu"]}},  # a built-in block's name, without override: true
        {"conv": {"layers": ["relu"]}},  # an op's
        {"concat": {"override": True, "layers": ["relu"]}},  # a container's can never be taken
    ],
)
def test_a_block_may_take_a_taken_name_only_with_override(blocks, validator):
    assert not valid(validator, blocks=blocks, layers=["relu"])


def test_every_op_container_and_built_in_block_is_offered_with_its_description():
    """Editors complete bare names from the enum and keys from each choice's properties, showing descriptions."""
    schema = spec_schema()
    names = {*all_ops(), *CONTAINERS, *builtin_blocks()}
    bare = schema["$defs"]["bare_name"]
    assert set(bare["enum"]) == names
    assert all(bare["enumDescriptions"]) and len(bare["markdownEnumDescriptions"]) == len(bare["enum"])
    offered = {}
    for choice in schema["$defs"]["item_overrides"]["anyOf"]:
        if "$ref" in choice:
            choice = schema["$defs"][choice["$ref"].rsplit("/", 1)[1]]
        for key, value in choice.get("properties", {}).items():
            if key in names:
                offered[key] = value
    assert set(offered) == names
    assert all(value["description"] and value["markdownDescription"] for value in offered.values())
    residual = schema["$defs"]["block.residual"]["properties"]["residual"]
    assert set(residual["properties"]) == set(builtin_blocks()["residual"].params)
    assert residual["required"] == ["out"] and residual["additionalProperties"] is False
