"""``archspec explain``'s spec (archspec/render/explain.py) analyses as the spec it explains: for every bundled
spec, ``analyze(explained)`` equals ``analyze(spec)`` — params, buffers, MACs, memory, shapes, receptive fields,
smallest inputs, outputs, warnings — layer by layer under the same paths. The expected side is always a separate
``archspec.analyze`` of the original spec. Torch-free (the compiled modules are in test_explain_compile.py)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import archspec
from archspec.render.explain import explained_spec, render_explained

SPECS = sorted(path.stem for path in (Path(archspec.__file__).parent / "specs").glob("*.yaml"))
# The largest networks (hundreds of modules each): CI runs them, a local run keeps to the rest.
BIG = {
    "convnext_tiny",
    "densenet121",
    "efficientnet_b0",
    "efficientnet_v2_s",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "resnet101",
    "resnet152",
    "resnet50_slim",
    "resnext50_32x4d",
    "swin_t",
}


def comparable(report: Any) -> dict[str, Any]:
    """A report's numbers and paths, without what says where in which file a row was written (a block of the
    explained spec also has another name than the block it expands: a block row's ``op``)."""
    document = report.to_dict()
    document["layers"] = [
        {key: value for key, value in row.items() if key != "source" and (key != "op" or row["leaf"])}
        for row in document["layers"]
    ]
    document["warnings"] = [(w["module"], w["message"], w["fix"]) for w in document["warnings"]]
    return document


def explained(source: Any, **options: Any) -> dict[str, Any]:
    """The explained spec of ``source`` (plain data), as archspec writes it."""
    overrides = options.pop("overrides", None)
    return explained_spec(archspec.expand(archspec.load(source, overrides=overrides), **options))


def read_back(source: Any, overrides: dict[str, Any] | None = None, **options: Any) -> Any:
    """The explained spec of ``source`` written as YAML to a file and loaded from it as any spec file is."""
    network = archspec.expand(archspec.load(source, overrides=overrides), **options)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "explained.yaml"
        path.write_text(render_explained(network, "a header\n\nof comments"), encoding="utf-8")
        return archspec.load(path)


def assert_same_analysis(source: Any, overrides: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    shape = options.get("input_shape")
    spec = read_back(source, overrides, **{k: v for k, v in options.items() if k != "batch"})
    expected = comparable(archspec.analyze(archspec.load(source, overrides=overrides), **options))
    actual = comparable(archspec.analyze(spec, **{k: v for k, v in options.items() if k != "input_shape"}))
    assert shape is None or actual["input_shape"][1:] == shape
    assert [row["path"] for row in actual["layers"]] == [row["path"] for row in expected["layers"]]
    assert actual == expected
    return explained(source, overrides=overrides, **options)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in BIG else n for n in SPECS])
def test_every_bundled_spec_explains_to_a_spec_with_the_same_analysis(name):
    spec = assert_same_analysis(name)
    assert "params" not in spec
    assert all("params" not in block for block in spec.get("blocks", {}).values())


def test_the_explained_spec_names_no_param_expression_or_repeat():
    text = json.dumps(explained("densenet121"))  # repeats with `inline: group` and names read from `copy`
    assert "$" not in text
    assert '"repeat"' not in text and '"first"' not in text and '"copy"' not in text


@pytest.mark.parametrize(
    ("name", "overrides", "options"),
    [
        ("vgg16", {"num_classes": 10, "batchnorm": True}, {"input_shape": [3, 64, 64]}),
        ("mobilenet_v2", {"width": 0.5}, {"input_shape": [3, 96, 128]}),
        ("gpt_tiny", {"vocab": 1000, "layers": 1, "context": 16}, {}),
        ("unet", None, {"input_shape": [1, 64, 64], "batch": 2}),
    ],
)
def test_overrides_and_inputs_are_substituted(name, overrides, options):
    spec = assert_same_analysis(name, overrides, **options)
    assert spec["input"] == ({"tokens": 16, "vocab": 1000} if name == "gpt_tiny" else options["input_shape"])


@pytest.mark.parametrize("train", [False, True])
def test_train_only_heads_keep_their_mode_and_the_input_they_are_built_for(train):
    # At 3×64×64 GoogLeNet's aux heads cannot run: in eval they are built for the smallest input they accept.
    assert_same_analysis("googlenet", input_shape=[3, 64, 64] if not train else [3, 224, 224], train=train)
    spec = explained("googlenet")
    heads = [item for item in spec["layers"] if "head" in item]
    assert [head["name"] for head in heads] == ["aux1", "aux2"]
    assert all(head["head"]["train_only"] is True for head in heads)


def test_the_explained_spec_is_valid_against_the_json_schema():
    from archspec.blocks.schema import spec_schema

    validator = jsonschema.Draft202012Validator(spec_schema())
    for name in ("lenet5", "resnet18", "googlenet", "unet", "gpt_tiny", "vit_b_16"):
        errors = [error.message for error in validator.iter_errors(explained(name))]
        assert errors == [], (name, errors[:3])


USER_SPEC = """
archspec: 1
name: user_blocks
input: [3, 16, 16]
params: {width: 8, deep: false}
blocks:
  relu:                       # replaces the op everywhere
    override: true
    layers:
      - leaky_relu: {slope: 0.2}
  maybe:                      # every item left out: a module without children
    params: {on: false}
    layers:
      - conv: {out: 4, kernel: 1}
        if: $on
  skip:
    params: {out: required}
    module: SkipUnit
    layers:
      - conv: {out: $out, kernel: 3, padding: 1}
        id: a
      - relu
      - add: {}
        from: [a, prev]
layers:
  - skip: {out: $width}
    repeat: 2
    first: {out: "${width * 2}"}
  - maybe
  - maybe: {on: true}
  - sequential:
      - relu
        if: $deep
  - skip: {out: 16}
    inline: true
  - global_avgpool
  - flatten
  - linear: {out: 3}
"""


def test_a_spec_with_its_own_blocks_overrides_routes_and_empty_modules():
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "user.yaml"
        source.write_text(USER_SPEC.replace("      - relu\n        if", "      - relu:\n        if"), encoding="utf-8")
        check_user_spec(source)


def check_user_spec(source: Path) -> None:
    spec = assert_same_analysis(source)
    classes = {block["module"] for block in spec["blocks"].values()}
    assert {"SkipUnit", "Maybe", "Relu"} <= classes
    # The override of `relu` is gone: every block is written under a name of its own, none an op's.
    assert all(not block.get("override") for block in spec["blocks"].values())
    assert spec["layers"][0]["name"] == "0"  # the repeat, a sequential of its copies 0 and 1
    assert [copy["name"] for copy in spec["layers"][0]["sequential"]] == ["0", "1"]
