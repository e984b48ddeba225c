"""Swin-T and Swin-S (issue 11): the bundled spec is torchvision's swin_t, and swin_s comes out of it with
`d3=18, stochastic_depth=0.3`. Ground truth is torchvision's model: Σ numel of its parameters and buffers,
FlopCounterMode total / 2 on it at 224² with autograd enabled and the CPU attention kernel counted
(archspec.backend.verify.flop_counter; Swin's attention is plain matmuls, so torch's counter alone reads the same),
torchvision's published GFLOPS, its module tree, its shifts and stochastic-depth probabilities, and its outputs with
its state dict (seeded random values, tests/weights.py) loaded strictly into archspec's compiled module — in eval
mode, and in training mode under the same seed (stochastic depth and dropout draw from torch's generator in the
same order). Inputs of odd and uneven sizes exercise the padding (to whole windows, and to even maps before patch
merging), as torchvision pads."""

from __future__ import annotations

import pytest
import torch
import torchvision
import torchvision_parity
from torchvision_parity import assert_loads_strictly_and_matches
from weights import numel, randomise

import archspec

CASES = [
    pytest.param("swin_t", {}, id="swin_t"),
    pytest.param("swin_s", {"d3": 18, "stochastic_depth": 0.3}, id="swin_s", marks=pytest.mark.slow),
]
# 15×23 after the patch embedding: windows padded to 21×28, maps merged from odd sizes (15×23 → 8×12 → 4×6 → 2×3)
SMALL_INPUT = [3, 60, 92]


def torchvision_model(name: str, **kwargs) -> torch.nn.Module:
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def measured_macs(model: torch.nn.Module, shape: list[int]) -> int:
    return torchvision_parity.measured_macs(model, shape, fused_attention=True)


@pytest.mark.slow  # torchvision's swin_t at 224² (the default run reads the published GFLOPS below)
@pytest.mark.parametrize(("builder", "overrides"), CASES)
def test_parameters_buffers_and_macs_are_torchvisions(builder, overrides):
    reference = torchvision_model(builder).eval()
    report = archspec.analyze(archspec.load("swin_t", overrides=overrides))
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.trainable_params == numel(p for p in reference.parameters() if p.requires_grad)
    assert report.totals.buffers == numel(reference.buffers())
    assert report.totals.macs == measured_macs(reference, [3, 224, 224])
    assert report.output_shape == [1, 1000]


@pytest.mark.parametrize(
    ("builder", "overrides", "gflops"),
    [
        pytest.param("swin_t", {}, "Swin_T_Weights", id="swin_t"),
        pytest.param("swin_s", {"d3": 18, "stochastic_depth": 0.3}, "Swin_S_Weights", id="swin_s"),
    ],
)
def test_macs_are_torchvisions_published_gflops(builder, overrides, gflops):
    """torchvision's weights metadata publishes GFLOPS (its MACs, in 10⁹, to three decimals): 4.491 and 8.741."""
    published = getattr(torchvision.models, gflops).IMAGENET1K_V1.meta["_ops"]
    report = archspec.analyze(archspec.load("swin_t", overrides=overrides))
    assert round(report.totals.macs / 1e9, 3) == published


@pytest.mark.parametrize(("builder", "overrides"), CASES)
def test_torchvisions_state_dict_loads_strictly_and_gives_the_same_outputs(builder, overrides):
    reference = randomise(torchvision_model(builder), seed=1).eval()
    ours = archspec.compile(archspec.load("swin_t", overrides=overrides), SMALL_INPUT)
    assert_loads_strictly_and_matches(ours, reference, SMALL_INPUT)


@pytest.mark.slow
@pytest.mark.parametrize(("builder", "overrides"), CASES)
def test_training_mode_under_the_same_seed_gives_the_same_outputs(builder, overrides):
    """Stochastic depth in both residual branches of every block draws from torch's generator (torchvision calls
    one module twice, archspec two modules with the same probability, in the same order): under the same seed both
    networks drop the same samples' branches. Two seeds, so that different branches are dropped; dropout on too."""
    settings = {"dropout": 0.1, "attention_dropout": 0.1}
    reference = randomise(torchvision_model(builder, **settings), seed=3).train()
    ours = archspec.compile(archspec.load("swin_t", overrides={**overrides, **settings}), SMALL_INPUT)
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.train()
    x = torch.randn(4, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    for seed in (0, 7):
        with torch.no_grad():
            torch.manual_seed(seed)
            theirs = reference(x)
            torch.manual_seed(seed)
            got = ours(x)
        torch.testing.assert_close(got, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_training_mode_does_drop_branches():
    """The seeded comparison above means something: with stochastic depth the training output depends on the
    seed; with it off (and no dropout) it does not."""
    x = torch.randn(4, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    ours = archspec.compile("swin_t", SMALL_INPUT).train()
    still = archspec.compile(archspec.load("swin_t", overrides={"stochastic_depth": 0.0}), SMALL_INPUT)
    still.load_state_dict(ours.state_dict())
    still.train()
    for model, differ in ((ours, True), (still, False)):
        outputs = []
        for seed in (0, 7):
            torch.manual_seed(seed)
            with torch.no_grad():
                outputs.append(model(x))
        assert (not torch.equal(outputs[0], outputs[1])) is differ


def module_classes(model: torch.nn.Module) -> dict[str, str]:
    return {path: type(module).__name__ for path, module in model.named_modules() if path}


@pytest.mark.parametrize(("builder", "overrides"), CASES)
def test_module_tree_shifts_and_stochastic_depth_are_torchvisions(builder, overrides):
    """Every module torchvision has, at its path and of its class (SwinTransformerBlock, ShiftedWindowAttention,
    MLP, PatchMerging, Permute, StochasticDepth, ...), plus the parameterless modules the doc lists: each block's
    second stochastic depth (`stochastic_depth_1`: torchvision calls one module twice) and patch merging's pads and
    slices (a function in torchvision). Every block has torchvision's window, shift and probability."""
    with torch.device("meta"):
        reference = torchvision_model(builder)
        ours = archspec.compile(archspec.load("swin_t", overrides=overrides))
    theirs, got = module_classes(reference), module_classes(ours)
    extra = {path: kind for path, kind in got.items() if path not in theirs}
    assert {path: got[path] for path in theirs} == theirs
    merges = [path for path, kind in theirs.items() if kind == "PatchMerging"]
    blocks = [path for path, kind in theirs.items() if kind == "SwinTransformerBlock"]
    assert len(merges) == 3 and len(blocks) == (12 if builder == "swin_t" else 24)
    assert extra == {
        **{f"{path}.stochastic_depth_1": "StochasticDepth" for path in blocks},
        **{f"{path}.{name}": "Pad" for path in merges for name in ("pad", "pad_1")},
        **{f"{path}.slice{suffix}": "Slice" for path in merges for suffix in ("", *(f"_{i}" for i in range(1, 8)))},
    }
    for path in blocks:
        block, mine = reference.get_submodule(path), ours.get_submodule(path)
        assert mine.attn.window_size == block.attn.window_size, path
        assert mine.attn.shift_size == block.attn.shift_size, path
        assert mine.stochastic_depth.p == mine.stochastic_depth_1.p == block.stochastic_depth.p, path


def test_smallest_valid_input_is_torchvisions():
    """The 4×4 patch embedding needs 4×4; from there every map pads (to whole windows, to even sizes before
    patch merging), so [3, 4, 4] is the least input — torchvision runs at 4×4 and fails at 3×3, as the spec does."""
    report = archspec.analyze("swin_t")
    assert report.min_input == [3, 4, 4]
    reference = randomise(torchvision_model("swin_t"), seed=5).eval()
    ours = archspec.compile("swin_t", [3, 4, 4]).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)
        with pytest.raises(RuntimeError):
            reference(torch.zeros(1, 3, 3, 4))
    with pytest.raises(archspec.SpecError, match="at least 4×4"):
        archspec.analyze("swin_t", input_shape=[3, 3, 4])


def test_receptive_field_is_the_patch_embeddings_then_not_a_number():
    """The 4×4/4 patch embedding has a field of 4 with jump 4, kept through the permute to channels last and the
    layer norm over C; past the shifted windows, which tile the map rather than slide over it, the field is not
    one number, and the report says so — naming the windows, not the patch merging's concatenation along C."""
    report = archspec.analyze("swin_t")
    for path in ("features.0.0", "features.0.2", "features.1.0.norm1"):
        field = report.layer(path).rf
        assert (tuple(field.size), tuple(field.jump)) == ((4, 4), (4, 4)), path
    for path in ("features.1.0.attn", "features.2", "norm"):
        assert report.layer(path).rf.kind == "position_dependent", path
    field = report.to_dict()["receptive_field"]
    assert field["kind"] == "position_dependent"
    assert field["size"] is None and field["jump"] is None
    assert "window attention" in field["reason"]


@pytest.mark.slow
def test_torchscript_gives_the_same_outputs():
    ours = archspec.compile("swin_t", SMALL_INPUT).eval()
    scripted = torch.jit.script(ours)
    x = torch.randn(2, *SMALL_INPUT, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), ours(x), rtol=0, atol=0)
