"""The README's op and container tables cover the registry: every op and container a spec can use is listed,
each with every argument its model accepts — so the documentation cannot fall behind a new op or argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from archspec.ops.containers import CONTAINERS
from archspec.ops.registry import all_ops

README = Path(__file__).resolve().parents[2] / "README.md"


def table_rows(heading: str) -> list[str]:
    """The table lines of the README section that starts with ``heading``."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|")]


def row_naming(rows: list[str], name: str) -> str:
    matches = [row for row in rows if f"`{name}`" in row.split("|")[1]]
    assert matches, f"{name!r} is not in the README's table"
    return matches[0]


@pytest.mark.parametrize("name", sorted(all_ops()))
def test_every_op_and_argument_is_documented(name):
    row = row_naming(table_rows("### Ops"), name)
    for argument in all_ops()[name].Args.model_fields:
        assert f"`{argument}`" in row, f"argument {argument!r} of {name!r} is missing from its README row"


@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_every_container_and_argument_is_documented(name):
    row = row_naming(table_rows("### Containers"), name)
    for argument in CONTAINERS[name].Args.model_fields:
        assert argument in row, f"argument {argument!r} of {name!r} is missing from its README row"


def test_the_long_skip_example_has_the_shapes_its_comments_state():
    """The worked U-Net example of the long-skip section: each commented shape is the report's (and, through
    the truth harness, what the compiled module really outputs)."""
    import re

    import yaml
    from truth import assert_static_equals_measured

    text = README.read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(archspec: 1\nname: tiny_unet\n.*?)```", text, re.S)
    assert example, "the README lost its long-skip example"
    report = assert_static_equals_measured(yaml.safe_load(example[1]))
    stated = {}
    index = -1
    for line in example[1].split("\nlayers:\n", 1)[1].splitlines():  # a comment belongs to its line's item
        index += line.startswith("  - ")
        shapes = re.findall(r"(\d+(?:×\d+)+)", line.split("#", 1)[1]) if "#" in line else []
        if shapes:
            stated[str(index)] = [int(size) for size in shapes[-1].split("×")]
    assert index == 7 and len(stated) >= 5
    assert {path: report.layer(path).output_shape[1:] for path in stated} == stated
