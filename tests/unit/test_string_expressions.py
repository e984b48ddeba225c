"""Strings in a spec's expressions (README "Expressions"): a string param or block argument chooses a block's
layers (``if: ${act == 'hardswish'}``) and an op's argument, and misuse is a located error with a fix."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.spec.expressions import referenced_names

CHOOSING_SPEC = """archspec: 1
name: choose
input: [3, 8, 8]
params: {act: hardswish}
blocks:
  conv_act:
    params: {out: required, act: relu, pad: 1}
    layers:
      - conv: {out: $out, kernel: 3, padding: "${pad if act != 'none' else 'same'}"}
      - relu: {}
        if: ${act == "relu"}
      - hardswish: {}
        if: ${act == 'hardswish'}
layers:
  - conv_act: {out: 4, act: $act}
  - conv_act: {out: 4}
  - conv_act: {out: 4, act: none}
"""


def test_a_string_block_argument_chooses_the_activation_and_an_op_argument(tmp_path):
    path = tmp_path / "choose.yaml"
    path.write_text(CHOOSING_SPEC, encoding="utf-8")
    ops = [(row.path, row.op) for row in archspec.analyze(str(path)).layers if row.leaf]
    assert ops == [
        ("0.conv", "conv"),
        ("0.hardswish", "hardswish"),
        ("1.conv", "conv"),
        ("1.relu", "relu"),
        ("2.conv", "conv"),
    ]
    relu_everywhere = archspec.analyze(archspec.load(str(path), overrides={"act": "relu"}))
    assert [row.op for row in relu_everywhere.layers if row.leaf][:2] == ["conv", "relu"]
    model = archspec.compile(str(path))
    assert model.get_submodule("2.conv").padding == "same"  # the string an expression chose reached torch


def test_ordering_strings_in_a_spec_is_a_located_error(tmp_path):
    path = tmp_path / "order.yaml"
    path.write_text(CHOOSING_SPEC.replace("${act == 'hardswish'}", "${act > 'a'}"), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        archspec.analyze(str(path))
    diagnostic = info.value.diagnostics[0]
    assert "cannot order a string (hardswish) and a string (a) with '>'" in diagnostic.message
    assert "== and !=" in diagnostic.fix
    assert diagnostic.path == ("blocks", "conv_act", "layers", 2, "if")
    assert str(info.value).startswith(f"{path}:13:13: error: ") and "in layers[0] → block 'conv_act'" in str(info.value)


def test_referenced_names_skip_string_literals():
    assert referenced_names("${act == 'relu' or kind != \"x\"}") == {"act", "kind"}
