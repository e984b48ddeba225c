"""Normalisation ops and stochastic depth (issue 11): layernorm (over the last dims, and over the channels at
every position: torchvision's LayerNorm2d and its 1-D / 3-D kin), groupnorm, instancenorm and stochastic_depth
against their torch and torchvision modules — outputs, state-dict keys, seeded training behaviour, report rows,
located errors and receptive fields (the gradient probe). The contract test checks their examples' shapes,
parameters, buffers and MACs (FlopCounterMode counts none of them)."""

from __future__ import annotations

import pytest
import torch
from probe import receptive_spans
from torchvision.models.convnext import LayerNorm2d as TorchvisionLayerNorm2d
from torchvision.ops import StochasticDepth as TorchvisionStochasticDepth

import archspec


def spec(input: list[int], *layers) -> dict:
    return {"archspec": 1, "name": "norms", "input": input, "layers": list(layers)}


def randomised(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in module.state_dict(keep_vars=True).values():
            if tensor.is_floating_point():
                tensor.uniform_(0.5, 1.5, generator=generator)
    return module


# -- stochastic depth -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["row", "batch"])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("shape", [[6], [3, 5], [2, 4, 4], [2, 3, 3, 3]])
def test_stochastic_depth_equals_torchvisions_under_the_same_seed(mode, p, shape):
    ours = archspec.compile(spec(shape, {"stochastic_depth": {"p": p, "mode": mode}})).train()
    theirs = TorchvisionStochasticDepth(p, mode).train()
    x = torch.randn(16, *shape, generator=torch.Generator().manual_seed(1))
    for seed in range(3):
        torch.manual_seed(seed)
        expected = theirs(x)
        after_theirs = torch.rand(1)  # the generator's state afterwards: the same number of draws
        torch.manual_seed(seed)
        got = ours(x)
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
        assert torch.equal(torch.rand(1), after_theirs)


def test_stochastic_depth_drops_whole_rows_or_the_whole_batch():
    x = torch.ones(64, 3, 4)
    torch.manual_seed(0)
    rows = archspec.compile(spec([3, 4], {"stochastic_depth": {"p": 0.5}})).train()(x)
    kept = rows.flatten(1).amax(1)
    assert set(kept.tolist()) == {0.0, 2.0}  # each sample dropped or scaled by 1 / (1 - p), whole
    assert torch.equal(rows, kept[:, None, None].expand_as(rows))
    torch.manual_seed(0)
    batch = archspec.compile(spec([3, 4], {"stochastic_depth": {"p": 0.5, "mode": "batch"}})).train()(x)
    assert len(set(batch.flatten().tolist())) == 1


def test_stochastic_depth_is_the_identity_in_eval():
    model = archspec.compile(spec([3, 4], {"stochastic_depth": {"p": 0.9}})).eval()
    x = torch.randn(5, 3, 4)
    assert torch.equal(model(x), x)


def test_stochastic_depth_row_in_the_report():
    report = archspec.analyze(spec([8, 6, 6], {"stochastic_depth": {"p": 0.1}}), batch=4)
    (row,) = report.layers
    assert (row.path, row.op, row.output_shape, row.params, row.macs) == ("0", "stochastic_depth", [4, 8, 6, 6], 0, 0)
    assert row.rf.size == (1, 1)  # pointwise: one sample's own position
    module = archspec.compile(spec([8, 6, 6], {"stochastic_depth": {"p": 0.1}}))
    assert repr(module.get_submodule("0")) == repr(TorchvisionStochasticDepth(0.1, "row"))


# -- layer norm -------------------------------------------------------------------------------------------


def test_layernorm_over_channels_is_torchvisions_layernorm2d():
    ours = archspec.compile(spec([8, 5, 7], {"layernorm": {"channels": True, "eps": 1e-6}})).eval()
    theirs = randomised(TorchvisionLayerNorm2d(8, eps=1e-6), seed=1)
    ours.load_state_dict({f"0.{k}": v for k, v in theirs.state_dict().items()}, strict=True)
    assert type(ours.get_submodule("0")).__name__ == "LayerNorm2d"
    x = torch.randn(3, 8, 5, 7, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)


@pytest.mark.parametrize("shape", [[4, 9], [4, 3, 5, 6]])
def test_layernorm_over_channels_in_1d_and_3d_normalises_each_position(shape):
    ours = archspec.compile(spec(shape, {"layernorm": {"channels": True}})).eval()
    randomised(ours, seed=3)
    norm = ours.get_submodule("0")
    assert type(norm).__name__ == f"LayerNorm{len(shape) - 1}d"
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(4))
    expected = torch.nn.functional.layer_norm(x.movedim(1, -1), (shape[0],), norm.weight, norm.bias).movedim(-1, 1)
    torch.testing.assert_close(ours(x), expected, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("args", "shape", "normalized"),
    [({}, [6, 10], [10]), ({"dims": 2}, [3, 4, 5], [4, 5]), ({"dims": 3, "bias": False}, [2, 3, 4], [2, 3, 4])],
)
def test_layernorm_over_the_last_dims_is_torchs(args, shape, normalized):
    ours = archspec.compile(spec(shape, {"layernorm": args})).eval()
    theirs = torch.nn.LayerNorm(normalized, bias=args.get("bias", True))
    randomised(theirs, seed=5)
    ours.load_state_dict({f"0.{k}": v for k, v in theirs.state_dict().items()}, strict=True)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)


# -- located errors ---------------------------------------------------------------------------------------

ERRORS = [
    ([6, 8, 8], {"groupnorm": {"groups": 4}}, "groups", "4 does not divide the input's 6 channels"),
    ([1], {"groupnorm": {"groups": 1}}, "groups", "more than one value per group"),
    ([3, 8], {"layernorm": {"dims": 3}}, "dims", "at least 3, but its input has 2"),
    ([12], {"layernorm": {"channels": True}}, "channels", "no spatial dims"),
    ([3, 8, 8], {"layernorm": {"channels": True, "dims": 2}}, "dims", "channel dim alone"),
    ([3, 1, 1], {"instancenorm": {}}, None, "one position per channel"),
    ([12], {"instancenorm": {}}, None, "spatial dimensions"),
    ([3, 8], {"stochastic_depth": {"p": 1.5}}, "p", "1"),
]


@pytest.mark.parametrize(("shape", "item", "argument", "words"), ERRORS)
def test_inputs_an_op_cannot_take_are_located_errors(shape, item, argument, words):
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec(shape, {"relu": {}}, item))
    (diagnostic,) = info.value.diagnostics
    op = next(iter(item))
    assert diagnostic.path[:3] == ("layers", 1, op)
    if argument is not None:
        assert diagnostic.path[3:] == (argument,)
    assert words in diagnostic.message


def test_instancenorm_with_running_statistics_takes_one_position_in_eval_only():
    one = spec([3, 1], {"instancenorm": {"track_running_stats": True}})
    assert archspec.analyze(one).output_shape == [1, 3, 1]
    with pytest.raises(archspec.SpecError, match="one position per channel"):
        archspec.analyze(one, train=True)


# -- receptive fields: the gradient probe ---------------------------------------------------------------

CONV = {"conv": {"out": 2, "kernel": 3, "padding": 1}}


@pytest.mark.parametrize(
    "item",
    [
        {"groupnorm": {"groups": 2}},
        {"instancenorm": {}},
        {"layernorm": {"dims": 3}},
    ],
)
def test_norms_over_every_position_have_a_global_field(item):
    case = spec([2, 7, 6], CONV, item)
    assert archspec.analyze(case).layers[-1].rf.kind == "global"
    (spans,) = receptive_spans(archspec.compile(case), case["input"], [(0, 0)])
    assert spans == [(0, 6), (0, 5)]


@pytest.mark.parametrize(
    "item", [{"layernorm": {"channels": True}}, {"instancenorm": {"track_running_stats": True}}, "stochastic_depth"]
)
def test_pointwise_norms_keep_the_field(item):
    item = {"stochastic_depth": {"p": 0.3}} if item == "stochastic_depth" else item
    case = spec([2, 7, 6], CONV, item)
    field = archspec.analyze(case).layers[-1].rf
    assert (field.kind, field.size) == ("exact", (3, 3))
    (spans,) = receptive_spans(archspec.compile(case), case["input"], [(3, 2)])
    assert spans == [(2, 4), (1, 3)]


def test_layernorm_over_the_last_dim_reads_that_dim_whole():
    case = spec([2, 7, 6], CONV, {"layernorm": {}})
    field = archspec.analyze(case).layers[-1].rf
    assert field.kind == "exact" and field.jump == (1, 0)
    (spans,) = receptive_spans(archspec.compile(case), case["input"], [(3, 2)])
    assert spans == [(2, 4), (0, 5)]
