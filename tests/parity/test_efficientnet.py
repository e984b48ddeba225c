"""EfficientNet B0, B1 and V2-S (issue 11): the bundled specs are torchvision's networks, stochastic depth included,
and B1 comes out of the B0 spec with `depth=1.1`. Ground truth is torchvision's model: Σ numel of its parameters and
buffers, FlopCounterMode total / 2 on it at 224² with autograd enabled (REFERENCE.md), its module tree, its
stochastic-depth probabilities, and its outputs with its state dict (seeded random values, tests/weights.py) loaded
strictly into archspec's compiled module — in eval mode, and in training mode under the same seed (stochastic depth
and dropout draw from torch's generator in the same order)."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision_parity import assert_loads_strictly_and_matches, measured_macs
from weights import numel, randomise

import archspec

# (torchvision builder, the bundled spec, its overrides that should give the same network)
CASES = [
    pytest.param("efficientnet_b0", "efficientnet_b0", {}, id="efficientnet_b0"),
    pytest.param("efficientnet_b1", "efficientnet_b0", {"depth": 1.1}, id="efficientnet_b1", marks=pytest.mark.slow),
    pytest.param("efficientnet_v2_s", "efficientnet_v2_s", {}, id="efficientnet_v2_s", marks=pytest.mark.slow),
]
SMALL_INPUT = [3, 64, 64]


def torchvision_model(name: str, **kwargs) -> torch.nn.Module:
    return getattr(torchvision.models, name)(weights=None, **kwargs)


@pytest.mark.parametrize(("builder", "name", "overrides"), CASES)
def test_parameters_buffers_and_macs_are_torchvisions(builder, name, overrides):
    reference = torchvision_model(builder).eval()
    report = archspec.analyze(archspec.load(name, overrides=overrides))
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.trainable_params == numel(p for p in reference.parameters() if p.requires_grad)
    assert report.totals.buffers == numel(reference.buffers())
    assert report.totals.macs == measured_macs(reference, [3, 224, 224])
    assert report.output_shape == [1, 1000]


@pytest.mark.parametrize(("builder", "name", "overrides"), CASES)
def test_torchvisions_state_dict_loads_strictly_and_gives_the_same_outputs(builder, name, overrides):
    reference = randomise(torchvision_model(builder), seed=1).eval()
    ours = archspec.compile(archspec.load(name, overrides=overrides), SMALL_INPUT)
    assert_loads_strictly_and_matches(ours, reference, SMALL_INPUT)


@pytest.mark.parametrize(("builder", "name", "overrides"), CASES)
def test_training_mode_under_the_same_seed_gives_the_same_outputs_and_buffers(builder, name, overrides):
    """Stochastic depth in every residual block and the classifier's dropout draw from torch's generator: under the
    same seed both networks drop the same samples' branches and the same features, and batch normalisation updates
    the same running statistics. Two seeds, so that different branches are dropped."""
    reference = randomise(torchvision_model(builder), seed=3).train()
    ours = archspec.compile(archspec.load(name, overrides=overrides), SMALL_INPUT)
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.train()
    x = torch.randn(8, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    for seed in (0, 7):
        with torch.no_grad():
            torch.manual_seed(seed)
            theirs = reference(x)
            torch.manual_seed(seed)
            got = ours(x)
        torch.testing.assert_close(got, theirs, rtol=1e-4, atol=1e-5)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value, rtol=1e-5, atol=1e-6)


def test_training_mode_does_drop_branches():
    """The seeded comparison above means something: with stochastic depth the training output depends on the
    seed (with dropout and stochastic depth off it does not)."""
    ours = archspec.compile(archspec.load("efficientnet_b0", overrides={"dropout": 0.0}), SMALL_INPUT).train()
    x = torch.randn(8, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    outputs = []
    for seed in (0, 7):
        torch.manual_seed(seed)
        with torch.no_grad():
            outputs.append(ours(x))
    assert not torch.allclose(outputs[0], outputs[1])
    still = archspec.compile(archspec.load("efficientnet_b0", overrides={"dropout": 0.0, "stochastic_depth": 0.0}))
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


@pytest.mark.parametrize(("builder", "name", "overrides"), CASES)
def test_module_tree_and_stochastic_depth_probabilities_are_torchvisions(builder, name, overrides):
    """Every module torchvision has, at its path and of its class (MBConv, FusedMBConv, Conv2dNormActivation,
    SqueezeExcitation, StochasticDepth, ...), plus archspec's parameterless `flatten` (torchvision flattens with a
    function). Stochastic depth has torchvision's probability in every block that adds its input: block k of K
    drops with p = 0.2 * k / K; torchvision never calls the module of a block without a residual, whose p is 0 here
    (the identity)."""
    with torch.device("meta"):
        reference = torchvision_model(builder)
        ours = archspec.compile(archspec.load(name, overrides=overrides))
    theirs = module_classes(reference)
    assert module_classes(ours) == {**theirs, "flatten": "Flatten"}
    blocks = [module for module in reference.modules() if type(module).__name__ in ("MBConv", "FusedMBConv")]
    assert blocks
    for module in blocks:
        path = next(p for p, m in reference.named_modules() if m is module)
        got = ours.get_submodule(f"{path}.stochastic_depth").p
        assert got == (module.stochastic_depth.p if module.use_res_connect else 0), path


def test_b1_is_the_b0_spec_with_more_blocks():
    """torchvision's B1 repeats every stage ceil(n * 1.1) times: 23 blocks instead of 16."""
    count = {
        name: sum(
            row.op in ("mbconv",) for row in archspec.analyze(archspec.load("efficientnet_b0", overrides=o)).layers
        )
        for name, o in (("b0", {}), ("b1", {"depth": 1.1}))
    }
    assert count == {"b0": 16, "b1": 23}


def test_torchscript_gives_the_same_outputs():
    ours = archspec.compile("efficientnet_b0", SMALL_INPUT).eval()
    scripted = torch.jit.script(ours)
    x = torch.randn(2, *SMALL_INPUT, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), ours(x), rtol=0, atol=0)
