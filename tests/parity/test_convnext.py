"""ConvNeXt-T and ConvNeXt-S (issue 11): the bundled spec is torchvision's convnext_tiny, layer scale and stochastic
depth included, and convnext_small comes out of it with `depth3=27, stochastic_depth=0.4`. Ground truth is
torchvision's model: Σ numel of its parameters and buffers, FlopCounterMode total / 2 on it at 224² with autograd
enabled (REFERENCE.md, through archspec.backend.verify.flop_counter), its module tree, its stochastic-depth
probabilities, and its outputs with its state dict (seeded random values, tests/weights.py) loaded strictly into
archspec's compiled module — in eval mode, and in training mode under the same seed (stochastic depth draws from
torch's generator block by block, in the same order). The receptive field is exact (convolutions and ops pointwise
in space, through the channels-last excursion of every block) and held to the gradient probe; the smallest valid
input is 32×32, measured on torchvision's model."""

from __future__ import annotations

import functools

import pytest
import torch
import torchvision
import torchvision_parity
from probe import clipped, probe_indices, receptive_span
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from weights import numel, randomise

import archspec

SMALL = {"depth3": 27, "stochastic_depth": 0.4}
# (torchvision builder, its overrides of the convnext_tiny spec)
CASES = [
    pytest.param("convnext_tiny", {}, id="convnext_tiny"),
    pytest.param("convnext_small", SMALL, id="convnext_small", marks=pytest.mark.slow),
]
# The spec's doc names these too: counted on the meta device (no weights, no arithmetic), so they cost little.
LARGER = [
    pytest.param("convnext_base", {"width": 128, "depth3": 27, "stochastic_depth": 0.5}, id="convnext_base"),
    pytest.param("convnext_large", {"width": 192, "depth3": 27, "stochastic_depth": 0.5}, id="convnext_large"),
]
SMALL_INPUT = [3, 64, 64]


def slow(case):
    return pytest.param(*case.values, id=case.id, marks=pytest.mark.slow)


def torchvision_model(name: str, **kwargs) -> torch.nn.Module:
    return getattr(torchvision.models, name)(weights=None, **kwargs)


@functools.cache
def randomised(name: str) -> torch.nn.Module:
    """torchvision's model with seeded random weights (tests/weights.py), built once: its init draws 28M-50M
    truncated normals. Each test sets the mode it needs and changes nothing else."""
    return randomise(torchvision_model(name), seed=1)


def measured_macs(model: torch.nn.Module, shape: list[int]) -> int:
    return torchvision_parity.measured_macs(model, shape, fused_attention=True)


@pytest.mark.parametrize(("builder", "overrides"), [*CASES, *(slow(case) for case in LARGER)])
def test_parameters_buffers_and_macs_are_torchvisions(builder, overrides):
    with torch.device("meta"):
        reference = torchvision_model(builder).eval()
    report = archspec.analyze(archspec.load("convnext_tiny", overrides=overrides))
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.trainable_params == numel(p for p in reference.parameters() if p.requires_grad)
    assert report.totals.buffers == numel(reference.buffers()) == 0
    assert report.totals.macs == measured_macs(reference, [3, 224, 224])
    assert report.output_shape == [1, 1000]


@pytest.mark.parametrize(("builder", "overrides"), CASES)
def test_torchvisions_state_dict_loads_strictly_and_gives_the_same_outputs(builder, overrides):
    reference = randomised(builder).eval()
    ours = archspec.compile(archspec.load("convnext_tiny", overrides=overrides), SMALL_INPUT)
    result = ours.load_state_dict(reference.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    ours.eval()
    x = torch.randn(2, *SMALL_INPUT, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(ours(x), expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())


@pytest.mark.parametrize(("builder", "overrides"), CASES)
def test_training_mode_under_the_same_seed_gives_the_same_outputs(builder, overrides):
    """Stochastic depth in every block draws one Bernoulli number per sample from torch's generator: under the
    same seed both networks drop the same samples' branches. Two seeds, so that different branches are dropped;
    ConvNeXt has no batch statistics, so the outputs are all there is to compare."""
    reference = randomised(builder).train()
    ours = archspec.compile(archspec.load("convnext_tiny", overrides=overrides), SMALL_INPUT)
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.train()
    x = torch.randn(4, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    for seed in (0, 7):
        with torch.no_grad():
            torch.manual_seed(seed)
            theirs = reference(x)
            torch.manual_seed(seed)
            got = ours(x)
        torch.testing.assert_close(got, theirs, rtol=1e-4, atol=1e-5 * theirs.abs().max().item())


def test_training_mode_does_drop_branches():
    """The seeded comparison above means something: with stochastic depth the training output depends on the seed,
    and with it off it does not. The probabilities are raised to 0.5 so that some branch drops for certain (on the
    narrow ConvNeXt below: the same wiring, a fraction of the cost)."""
    ours = archspec.compile(archspec.load("convnext_tiny", overrides={**NARROW, "stochastic_depth": 0.5}), SMALL_INPUT)
    randomise(ours, seed=5).train()
    x = torch.randn(4, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    outputs = []
    for seed in (0, 7):
        torch.manual_seed(seed)
        with torch.no_grad():
            outputs.append(ours(x))
    assert not torch.allclose(outputs[0], outputs[1])
    still = archspec.compile(archspec.load("convnext_tiny", overrides={**NARROW, "stochastic_depth": 0.0}), SMALL_INPUT)
    still.load_state_dict(ours.state_dict())
    still.train()
    repeated = []
    for seed in (0, 7):
        torch.manual_seed(seed)
        with torch.no_grad():
            repeated.append(still(x))
    torch.testing.assert_close(repeated[0], repeated[1], rtol=0, atol=0)


def module_classes(model: torch.nn.Module) -> dict[str, str]:
    return {path: type(module).__name__ for path, module in model.named_modules() if path}


def leaves(model: torch.nn.Module) -> dict[str, str]:
    """Every leaf module's repr: its class and settings (kernel, stride, padding, groups, eps, p, mode, ...);
    torchvision's Permute shows no dims in its repr, so theirs are written out."""
    return {
        path: f"Permute(dims={list(module.dims)})" if type(module).__name__ == "Permute" else repr(module)
        for path, module in model.named_modules()
        if not list(module.children())
    }


@pytest.mark.parametrize(("builder", "overrides"), [*CASES, *(slow(case) for case in LARGER)])
def test_module_tree_layer_scales_and_stochastic_depth_are_torchvisions(builder, overrides):
    """Every module torchvision has, at its path and of its class (Conv2dNormActivation, LayerNorm2d, CNBlock,
    Permute, LayerNorm, StochasticDepth, ...) with its settings, and no other; every block's stochastic-depth
    probability and mode (block k of K drops with p = stochastic_depth * k / (K - 1)) and layer scale (C×1×1)."""
    with torch.device("meta"):
        reference = torchvision_model(builder)
        ours = archspec.compile(archspec.load("convnext_tiny", overrides=overrides))
    assert module_classes(ours) == module_classes(reference)
    assert leaves(ours) == leaves(reference)
    blocks = [(path, module) for path, module in reference.named_modules() if type(module).__name__ == "CNBlock"]
    assert len(blocks) == (18 if builder == "convnext_tiny" else 36)
    assert len({module.layer_scale.shape for _, module in blocks}) == 4  # a width per stage
    for path, module in blocks:
        got = ours.get_submodule(path)
        assert (got.stochastic_depth.p, got.stochastic_depth.mode) == (module.stochastic_depth.p, "row"), path
        assert got.layer_scale.shape == module.layer_scale.shape, path
        assert ours.get_submodule(f"{path}.block.2").eps == module.block[2].eps == 1e-6


def test_layer_scale_starts_at_1e_6():
    fresh = archspec.compile("convnext_tiny", SMALL_INPUT)
    scales = [module.layer_scale for module in fresh.modules() if type(module).__name__ == "CNBlock"]
    assert len(scales) == 18
    assert all(torch.equal(scale, torch.full_like(scale, 1e-6)) for scale in scales)


def test_smallest_valid_input_is_32_as_torchvision_runs_it():
    """The stem's stride 4 and three 2×2/2 downsamplings: 32×32 is the least size that leaves one position (the
    report's min_input; torchvision's min_size). torchvision's ConvNeXt runs at 32 and fails at 31 (and at 32 × 31);
    measured on a narrow one of the same strides (widths and depths do not change which sizes pass)."""
    report = archspec.analyze("convnext_tiny")
    assert report.min_input == [3, 32, 32]
    assert archspec.analyze(archspec.load("convnext_tiny", overrides=NARROW)).min_input == [3, 32, 32]
    stages = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, None, 1)]
    reference = ConvNeXt(stages, num_classes=5).eval()
    with torch.no_grad():
        assert reference(torch.zeros(1, 3, 32, 32)).shape == (1, 5)
        for shape in ((31, 31), (32, 31)):
            with pytest.raises(RuntimeError):
                reference(torch.zeros(1, 3, *shape))
    assert archspec.analyze("convnext_tiny", input_shape=[3, 32, 32]).output_shape == [1, 1000]
    with pytest.raises(archspec.SpecError):
        archspec.analyze("convnext_tiny", input_shape=[3, 32, 31])


# A narrow, shallow ConvNeXt: the same spec, so the same wiring, at a size the probe can run in float64.
NARROW = {"width": 8, "depth1": 2, "depth2": 1, "depth3": 1, "depth4": 1, "num_classes": 5}


@pytest.mark.parametrize(
    ("path", "size"), [("features.1", 96), ("features.3", 160), ("features.5", 160), ("features", 64)]
)
def test_receptive_field_agrees_with_the_gradient_probe(path, size):
    """The field of a stage's output is exact through the blocks' permutes, channels-last layer norms and MLPs:
    every probed output position reads exactly the input positions the report says, clipped to the input."""
    spec = archspec.load("convnext_tiny", overrides=NARROW)
    shape = [3, size, size]
    report = archspec.analyze(spec, input_shape=shape)
    field = report.layer(path).rf
    assert field.kind == "exact"
    model = archspec.compile(spec, shape)
    sizes = report.layer(path).output_shape[2:]
    for index in probe_indices(sizes):
        spans = receptive_span(model, shape, index, path=path)
        assert spans == [clipped(field.span(i, d), size) for d, i in enumerate(index)], (path, index)


def test_the_receptive_field_is_convnext_tinys():
    """Stem 4/4, each 7×7 depthwise conv adds 6 jumps, each 2×2/2 downsampling one; stage outputs 76, 224, 1096 and
    1688 at jumps 4, 8, 16, 32 (arithmetic from torchvision's layers, as REFERENCE.md §5 composes fields)."""
    report = archspec.analyze("convnext_tiny")
    fields = {path: report.layer(path).rf for path in ("features.1", "features.3", "features.5", "features.7")}
    expected = {"features.1": (76, 4), "features.3": (224, 8), "features.5": (1096, 16), "features.7": (1688, 32)}
    for path, (size, jump) in expected.items():
        assert (fields[path].size, fields[path].jump) == ((size, size), (jump, jump)), path
    assert report.receptive_field.size == (1688, 1688)
