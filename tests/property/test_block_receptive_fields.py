"""Receptive fields of the built-in blocks (archspec/blocks/classic.yaml) and of the cases REFERENCE.md §5 says
depend on position — judged by the gradient probe (tests/probe.py), never by archspec itself.

Blocks: every row of the block (the block, its merges, branches and leaves) has an exact static field, and at
the first, middle and last output positions (and a mixed corner) the clipped static span
``[iJ - P, iJ - P + R - 1]`` equals the probe's span — for the block alone and after a stride-2 stem (so the
block works on a jump of 2). Sizes are chosen so that no layer leaves real input positions unread (the one
case where a clipped static span is only an upper bound; see test_receptive_field_probe.py).

Position-dependent cases (strided transposed convolution, upsampling, adaptive pooling with L % O != 0, a
merge of branches with different jumps) must be *reported* as ``position_dependent``; the probe confirms
that no constant (R, J, P) reproduces their spans. Adaptive pooling with L % O == 0 is a pool with
k = s = L / O: exact, and equal to the probe.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from probe import clipped, prepare, probe_indices, receptive_spans

import archspec

STEM = {"conv": {"out": 4, "kernel": 3, "stride": 2, "padding": 1}, "name": "stem"}  # 20 -> 10, all read

BLOCKS = {
    "conv_bn_relu": {"conv_bn_relu": {"out": 4, "kernel": 3, "stride": 2, "padding": 1}},
    "conv_bn_relu_k5": {"conv_bn_relu": {"out": 3, "kernel": 5, "padding": 2}},
    "nin_block": {"nin_block": {"out": 4, "kernel": 5, "stride": 2, "padding": 2, "mlp1": 3, "mlp2": 4}},
    "inception": {"inception": {"ch1x1": 2, "ch3x3red": 2, "ch3x3": 3, "ch5x5red": 2, "ch5x5": 2, "pool_proj": 2}},
    "inception_kernel5": {
        "inception": {"ch1x1": 2, "ch3x3red": 2, "ch3x3": 3, "ch5x5red": 2, "ch5x5": 2, "pool_proj": 2, "kernel5": 5}
    },
    "residual_identity": {"residual": {"out": 4}},
    "residual_projection": {"residual": {"out": 6, "stride": 2}},
    "dense_block": {"dense_block": {"layers": 3, "growth": 2, "bn_size": 2}},
    "transition": {"transition": {}},
    "separable_conv": {"separable_conv": {"out": 6, "stride": 2}},
    "separable_conv_k5_relu6": {"separable_conv": {"out": 5, "kernel": 5, "relu6": True}},
}
# (R, J, P) of each block alone on a fresh input, worked out by hand from REFERENCE.md §5's recurrence
BY_HAND = {
    "conv_bn_relu": (3, 2, 1),
    "conv_bn_relu_k5": (5, 1, 2),
    "nin_block": (5, 2, 2),
    "inception": (3, 1, 1),
    "inception_kernel5": (5, 1, 2),  # branch3: 1x1 then 5x5 (padding 2); the widest branch wins the union
    "residual_identity": (5, 1, 2),  # two 3x3 convs; the identity shortcut [i, i] lies inside
    "residual_projection": (7, 2, 3),  # 3x3/2 (R 3, J 2, P 1), then 3x3 (R 3 + 2*2, P 1 + 1*2); shortcut 1x1/2
    "dense_block": (7, 1, 3),  # each dense layer's new features: 1x1 then 3x3 (R += 2); the input passes through
    "transition": (2, 2, 0),  # 1x1 conv, 2x2/2 average pool
    "separable_conv": (3, 2, 1),
    "separable_conv_k5_relu6": (5, 1, 2),
}


def spec(input_shape: list[int], *layers: Any, name: str = "fields") -> dict:
    return {"archspec": 1, "name": name, "input": input_shape, "layers": list(layers)}


def block_spec(block: str, after_stem: bool) -> tuple[dict, str]:
    item = {**BLOCKS[block], "name": "block"}
    if after_stem:
        return spec([4, 20, 20], STEM, item), "block"
    return spec([4, 16, 12], item), "block"


def assert_rows_equal_probe(case: dict, paths: list[str]) -> None:
    """For each path: an exact field whose clipped spans equal the probe's at the probe positions."""
    report = archspec.analyze(case)
    model = prepare(archspec.compile(case))
    lengths = case["input"][1:]
    for path in paths:
        row = report.layer(path)
        field = row.rf
        assert field is not None and field.kind == "exact", (path, field)
        indices = probe_indices(row.output_shape[2:])
        measured = receptive_spans(model, case["input"], indices, path=path)
        for index, spans in zip(indices, measured, strict=True):
            static = [clipped(field.span(i, d), lengths[d]) for d, i in enumerate(index)]
            assert spans == static, (path, index, field)


@pytest.mark.parametrize("after_stem", [False, True], ids=["alone", "after_stride_2_stem"])
@pytest.mark.parametrize("block", BLOCKS)
def test_block_fields_equal_probe(block, after_stem):
    case, path = block_spec(block, after_stem)
    report = archspec.analyze(case)
    inside = [
        row.path
        for row in report.layers
        if (row.path == path or row.path.startswith(path + ".")) and len(row.output_shape) > 2
    ]
    assert len(inside) > 2
    assert_rows_equal_probe(case, inside)


@pytest.mark.parametrize("block", BLOCKS)
def test_block_fields_equal_the_hand_computed_ones(block):
    size, jump, padding = BY_HAND[block]
    field = archspec.analyze(block_spec(block, after_stem=False)[0]).layer("block").rf
    assert (field.kind, field.size, field.jump, field.padding) == ("exact", (size,) * 2, (jump,) * 2, (padding,) * 2)


@pytest.mark.parametrize("block", BLOCKS)
def test_block_after_the_stem_composes(block):
    """After the 3x3/2 stem (R 3, J 2, P 1): R = 3 + (R_b - 1)·2, J = 2·J_b, P = 1 + P_b·2."""
    size, jump, padding = BY_HAND[block]
    field = archspec.analyze(block_spec(block, after_stem=True)[0]).layer("block").rf
    assert (field.size, field.jump, field.padding) == (
        (3 + (size - 1) * 2,) * 2,
        (2 * jump,) * 2,
        (1 + padding * 2,) * 2,
    )


# -- position-dependent cases ---------------------------------------------------------------------------------


def some_exact_field_fits(spans: list[tuple[int, int]], length: int) -> bool:
    """Whether any constant (R, J, P) reproduces ``spans`` (of output positions 0, 1, ...) after clipping to
    ``[0, length - 1]``; R up to twice the input, J up to the input, P up to R."""
    for jump, size in itertools.product(range(length + 1), range(1, 2 * length + 2)):
        for padding in range(size + 1):
            if all(
                clipped((i * jump - padding, i * jump - padding + size - 1), length) == span
                for i, span in enumerate(spans)
            ):
                return True
    return False


def all_spans_1d(case: dict, path: str) -> list[tuple[int, int]]:
    report = archspec.analyze(case)
    (length,) = report.layer(path).output_shape[2:]
    return [
        spans[0]
        for spans in receptive_spans(archspec.compile(case), case["input"], [(i,) for i in range(length)], path=path)
    ]


CONV = {"conv": {"out": 2, "kernel": 3, "padding": 1}}
# Each case's spans really admit no constant field. (Not every L % O != 0 is like that: adaptive pooling of 11
# to 3 reads [0, 3], [3, 7], [7, 10] — R 5, J 4, P 1 once clipped; archspec reports such cases as
# position-dependent too, which REFERENCE.md §5 asks for and is safe, if conservative.)
POSITION_DEPENDENT = {
    "conv_transpose_stride_2": (spec([2, 8], {"conv_transpose": {"out": 2, "kernel": 3, "stride": 2}}), "0"),
    "conv_transpose_stride_3_after_conv": (
        spec([2, 8], CONV, {"conv_transpose": {"out": 2, "kernel": 4, "stride": 3}}),
        "1",
    ),
    "upsample_nearest_x2": (spec([2, 6], {"upsample": {"scale": 2}}), "0"),
    "upsample_linear_to_size": (spec([2, 6], {"upsample": {"size": 15, "mode": "linear"}}), "0"),
    "upsample_then_conv": (spec([2, 6], {"upsample": {"scale": 2}}, CONV), "1"),
    "adaptive_avgpool_10_to_4": (spec([2, 10], {"adaptive_avgpool": {"output": 4}}), "0"),
    "adaptive_maxpool_13_to_5": (spec([2, 13], {"adaptive_maxpool": {"output": 5}}), "0"),
    "adaptive_avgpool_4_to_6": (spec([2, 4], {"adaptive_avgpool": {"output": 6}}), "0"),  # O > L
    # branches with jumps 2 and 1 over the same 4 outputs: spans [2i-2, 2i+3] and [i, i+4]
    "add_of_jumps_2_and_1": (
        spec(
            [2, 8],
            {
                "add": {
                    "branches": [
                        [{"conv": {"out": 2, "kernel": 6, "stride": 2, "padding": 2}}],
                        [{"conv": {"out": 2, "kernel": 5}}],
                    ]
                }
            },
        ),
        "0",
    ),
    "concat_of_jumps_2_and_1_then_conv": (
        spec(
            [2, 8],
            {
                "concat": {
                    "branches": [
                        [{"conv": {"out": 2, "kernel": 6, "stride": 2, "padding": 2}}],
                        [{"conv": {"out": 3, "kernel": 5}}],
                    ]
                }
            },
            {"conv": {"out": 2, "kernel": 1}},
        ),
        "1",
    ),
}


@pytest.mark.parametrize("name", POSITION_DEPENDENT)
def test_position_dependent_fields_are_reported_and_are_real(name):
    case, path = POSITION_DEPENDENT[name]
    report = archspec.analyze(case)
    field = report.layer(path).rf
    assert field is not None and field.kind == "position_dependent", field
    assert field.reason
    assert field.to_dict()["size"] is None  # no constant printed
    spans = all_spans_1d(case, path)
    assert not some_exact_field_fits(spans, case["input"][1]), spans


def test_position_dependence_reaches_the_network_field():
    case, _ = POSITION_DEPENDENT["upsample_then_conv"]
    assert archspec.analyze(case).receptive_field.kind == "position_dependent"


def test_the_fit_check_accepts_an_exact_field():
    """The checker above is not vacuous: a plain strided conv's spans fit (R 3, J 2, P 1)."""
    case = spec([2, 9], {"conv": {"out": 2, "kernel": 3, "stride": 2, "padding": 1}})
    assert some_exact_field_fits(all_spans_1d(case, "0"), 9)


# -- exact cases that look like them --------------------------------------------------------------------------

EXACT = {
    "adaptive_avgpool_12x8_to_4x2": spec([2, 12, 8], {"adaptive_avgpool": {"output": [4, 2]}}),
    "adaptive_maxpool_12x8_to_4x2": spec([2, 12, 8], {"adaptive_maxpool": {"output": [4, 2]}}),
    "adaptive_avgpool_keeping_a_dim": spec([2, 9, 8], {"adaptive_avgpool": {"output": [3, None]}}),
    "conv_then_adaptive_avgpool": spec(
        [2, 20, 20], {"conv": {"out": 3, "kernel": 3, "stride": 2, "padding": 1}}, {"adaptive_avgpool": {"output": 5}}
    ),
    "adaptive_maxpool_3d": spec([1, 6, 4, 8], {"adaptive_maxpool": {"output": [3, 2, 2]}}),
    "conv_transpose_stride_1": spec([2, 8, 7], {"conv_transpose": {"out": 2, "kernel": 3}}),
    "conv_transpose_stride_1_padded": spec([2, 9], CONV, {"conv_transpose": {"out": 2, "kernel": 5, "padding": 1}}),
}
POOL_AS_WINDOW = {  # L / O per dim: the kernel and stride of the equivalent pool (REFERENCE.md §5)
    "adaptive_avgpool_12x8_to_4x2": ((3, 4), (3, 4), (0, 0)),
    "adaptive_maxpool_12x8_to_4x2": ((3, 4), (3, 4), (0, 0)),
    "adaptive_avgpool_keeping_a_dim": ((3, 1), (3, 1), (0, 0)),
    "conv_then_adaptive_avgpool": ((3 + 1 * 2, 3 + 1 * 2), (4, 4), (1, 1)),  # 10 -> 5: k = s = 2 after J 2
    "adaptive_maxpool_3d": ((2, 2, 4), (2, 2, 4), (0, 0, 0)),
}


@pytest.mark.parametrize("name", EXACT)
def test_exact_look_alikes_equal_probe(name):
    case = EXACT[name]
    report = archspec.analyze(case)
    path = report.layers[-1].path
    if name in POOL_AS_WINDOW:
        field = report.layer(path).rf
        assert (field.size, field.jump, field.padding) == POOL_AS_WINDOW[name]
    assert_rows_equal_probe(case, [path])


def test_adaptive_pooling_to_one_is_global():
    case = spec([2, 12, 8], CONV, {"adaptive_avgpool": {"output": 1}})
    report = archspec.analyze(case)
    assert report.layer("1").rf.kind == "global"
    assert receptive_spans(archspec.compile(case), case["input"], [(0, 0)], path="1") == [[(0, 11), (0, 7)]]
