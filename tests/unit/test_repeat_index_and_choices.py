"""Two spec-language features issue 11's EfficientNet needs: values inside a repeat read the copy's index as
``copy`` (torchvision's stochastic depth grows with the running block index), and block parameters declare the
values they accept (``choices``), so a misspelt activation is an error at the call instead of no activation."""

from __future__ import annotations

import pytest
import torch
from truth import assert_static_equals_measured

import archspec


def spec(*layers, blocks=None, params=None, input=(4, 8, 8)) -> dict:
    found = {"archspec": 1, "name": "t", "input": list(input), "layers": list(layers)}
    if blocks:
        found["blocks"] = blocks
    if params:
        found["params"] = params
    return found


# -- copy: the repeat's index ---------------------------------------------------------------------------


def test_arguments_read_the_copy_index():
    case = spec({"conv": {"out": "${4 + 2 * copy}", "kernel": 1}, "repeat": 3})
    model = archspec.compile(case)
    assert [m.out_channels for m in model.get_submodule("0")] == [4, 6, 8]
    assert_static_equals_measured(case, batch=2)


def test_equal_copies_that_read_the_index_are_not_taken_for_a_fixed_point():
    """Every copy has the same input and output shape (the shortcut that reuses a copy once the shape stops
    changing must not apply): the probabilities still differ per copy."""
    case = spec({"stochastic_depth": {"p": "${0.1 * copy}"}, "repeat": 4})
    model = archspec.compile(case)
    assert [m.p for m in model.get_submodule("0")] == [0.0, 0.1, 0.2, 0.1 * 3]


def test_first_if_and_names_read_the_index_too():
    case = spec(
        {"sequential": [{"conv": {"out": 4, "kernel": 1}, "if": "${copy % 2 == 0}"}, "relu"], "repeat": 4},
        {"relu": {}, "name": "act${copy}", "repeat": 2, "inline": "group"},
    )
    model = archspec.compile(case)
    kinds = [[type(m).__name__ for m in group] for group in model.get_submodule("0")]
    assert kinds == [["Conv2d", "ReLU"], ["ReLU"], ["Conv2d", "ReLU"], ["ReLU"]]
    assert {"act0", "act1"} <= set(dict(model.named_children()))


def test_a_nested_repeat_reads_its_own_index():
    case = spec({"sequential": [{"conv": {"out": "${1 + copy}", "kernel": 1}, "repeat": 2}], "repeat": 2})
    model = archspec.compile(case)
    assert [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)] == [1, 2, 1, 2]


def test_a_users_block_reads_the_index_of_the_repeat_that_calls_it():
    """A spec's own block sees its caller's names (as it sees the spec's params); a bundled block only its own
    parameters, so the index reaches it as an argument."""
    blocks = {"unit": {"params": {"out": "required"}, "layers": [{"conv": {"out": "${out + copy}", "kernel": 1}}]}}
    model = archspec.compile(spec({"unit": {"out": 2}, "repeat": 3}, blocks=blocks))
    assert [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)] == [2, 3, 4]
    bundled = archspec.compile(spec({"conv_norm_activation": {"out": "${8 * (copy + 1)}"}, "repeat": 2}))
    assert [m.out_channels for m in bundled.modules() if isinstance(m, torch.nn.Conv2d)] == [8, 16]


def test_copy_outside_a_repeat_is_an_unknown_name():
    with pytest.raises(archspec.SpecError, match="copy"):
        archspec.analyze(spec({"conv": {"out": "${copy + 1}", "kernel": 1}}))


# -- choices ----------------------------------------------------------------------------------------------


def test_a_bundled_blocks_activation_outside_its_choices_is_a_located_error():
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec({"conv_norm_activation": {"out": 8, "act": "hardswsh"}}))
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == ("layers", 0, "conv_norm_activation", "act")
    assert "must be one of relu, relu6, hardswish, silu, sigmoid, none, got 'hardswsh'" in diagnostic.message
    assert diagnostic.fix == "did you mean 'hardswish'?"


@pytest.mark.parametrize(
    ("block", "args"),
    [
        ("conv_norm_activation", {"out": 8, "act": "gelu"}),
        ("squeeze_excitation", {"squeeze": 2, "act": "hardswish"}),
        ("squeeze_excitation", {"squeeze": 2, "scale_act": "relu"}),
        ("inverted_residual_v3", {"kernel": 3, "expanded": 16, "out": 8, "act": "silu"}),
        ("mbconv", {"expand": 4, "kernel": 3, "out": 8, "stride": 3}),
    ],
)
def test_every_bundled_choice_is_checked(block, args):
    """Each of these once compiled silently: no activation, a gate missing, or an illegal stride."""
    with pytest.raises(archspec.SpecError, match="must be one of"):
        archspec.analyze(spec({block: args}))


def test_values_among_the_choices_still_build_the_activation():
    for act, cls in [("silu", "SiLU"), ("hardswish", "Hardswish"), ("none", None)]:
        model = archspec.compile(spec({"conv_norm_activation": {"out": 8, "act": act}}))
        children = [type(m).__name__ for m in model.get_submodule("0").children()]
        assert children == ["Conv2d", "BatchNorm2d", *([cls] if cls else [])]


def test_choices_keep_kinds_apart_and_trace_overrides():
    blocks = {"unit": {"params": {"k": 1}, "choices": {"k": [1, 3]}, "layers": [{"conv": {"out": 2, "kernel": "$k"}}]}}
    assert archspec.analyze(spec({"unit": {"k": 3}}, blocks=blocks)).layers[-1].params == 4 * 2 * 9 + 2
    with pytest.raises(archspec.SpecError, match="got True"):
        archspec.analyze(spec({"unit": {"k": True}}, blocks=blocks))
    loaded = archspec.load(spec({"unit": {"k": "$kernel"}}, blocks=blocks, params={"kernel": 1}), {"kernel": 5})
    with pytest.raises(archspec.SpecError, match=r"got 5 .*kernel = 5 from overrides"):
        archspec.analyze(loaded)


def test_a_computed_default_outside_the_choices_is_located_at_the_parameter():
    blocks = {"unit": {"params": {"k": "${in.channels}"}, "choices": {"k": [1, 3]}, "layers": ["relu"]}}
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec("unit", blocks=blocks))
    assert info.value.diagnostics[0].path == ("blocks", "unit", "params", "k")


@pytest.mark.parametrize(
    ("definition", "path", "words"),
    [
        ({"params": {"a": "x"}, "choices": {"a": ["y"]}}, ("blocks", "unit", "params", "a"), "not one of its choices"),
        ({"params": {"a": "y"}, "choices": {"b": ["y"]}}, ("blocks", "unit", "choices", "b"), "no parameter 'b'"),
        ({"params": {"a": "y"}, "choices": {"a": []}}, ("blocks", "unit", "choices", "a"), "empty"),
        ({"params": {"a": "y"}, "choices": {"a": [["y"]]}}, ("blocks", "unit", "choices", "a", 0), ""),
    ],
)
def test_choices_that_cannot_hold_are_errors_in_the_definition(definition, path, words):
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec("unit", blocks={"unit": {**definition, "layers": ["relu"]}}))
    assert info.value.diagnostics[0].path == path
    assert words in info.value.diagnostics[0].message
