"""MobileNet v2 and v3 (issue 11): the bundled specs are torchvision's networks, width multipliers and
variants included. Ground truth is torchvision's model: Σ numel of its parameters and buffers, FlopCounterMode
total / 2 on it at 224² with autograd enabled (REFERENCE.md), its module tree, and its outputs with its state
dict (seeded random values, tests/weights.py) loaded strictly into archspec's compiled module."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision_parity import assert_loads_strictly_and_matches, measured_macs
from weights import numel, randomise

import archspec

# (bundled spec, torchvision keyword arguments, the spec's overrides that should give the same network)
DEFAULTS = [("mobilenet_v2", {}, {}), ("mobilenet_v3_large", {}, {}), ("mobilenet_v3_small", {}, {})]
VARIANTS = [
    ("mobilenet_v2", {"width_mult": 0.35}, {"width": 0.35}),
    ("mobilenet_v2", {"width_mult": 1.4}, {"width": 1.4}),
    ("mobilenet_v2", {"width_mult": 0.75, "round_nearest": 16}, {"width": 0.75, "divisor": 16}),
    ("mobilenet_v3_large", {"width_mult": 0.75}, {"width": 0.75}),
    ("mobilenet_v3_large", {"reduced_tail": True, "dilated": True}, {"reduced_tail": True, "dilated": True}),
    ("mobilenet_v3_small", {"width_mult": 0.5, "reduced_tail": True}, {"width": 0.5, "reduced_tail": True}),
]
CASES = [pytest.param(*case, id=case[0]) for case in DEFAULTS] + [
    pytest.param(*case, id=f"{case[0]}-{'-'.join(f'{k}={v}' for k, v in case[2].items())}", marks=pytest.mark.slow)
    for case in VARIANTS
]
SMALL_INPUT = [3, 96, 96]


def torchvision_model(name: str, kwargs: dict) -> torch.nn.Module:
    return getattr(torchvision.models, name)(weights=None, **kwargs)


@pytest.mark.parametrize(("name", "kwargs", "overrides"), CASES)
def test_parameters_buffers_and_macs_are_torchvisions(name, kwargs, overrides):
    reference = torchvision_model(name, kwargs).eval()
    spec = archspec.load(name, overrides=overrides)
    report = archspec.analyze(spec)
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.trainable_params == numel(p for p in reference.parameters() if p.requires_grad)
    assert report.totals.buffers == numel(reference.buffers())
    assert report.totals.macs == measured_macs(reference, [3, 224, 224])
    assert report.output_shape == [1, 1000]


@pytest.mark.parametrize(("name", "kwargs", "overrides"), CASES)
def test_torchvisions_state_dict_loads_strictly_and_gives_the_same_outputs(name, kwargs, overrides):
    reference = randomise(torchvision_model(name, kwargs), seed=1).eval()
    ours = archspec.compile(archspec.load(name, overrides=overrides), SMALL_INPUT)
    assert_loads_strictly_and_matches(ours, reference, SMALL_INPUT, same_order=True)


def container_classes(model: torch.nn.Module) -> dict[str, str]:
    """``{path: class name}`` of every module below the root that holds other modules."""
    return {path: type(module).__name__ for path, module in model.named_modules() if path and module._modules}


@pytest.mark.parametrize("name", [name for name, _, _ in DEFAULTS])
def test_module_classes_are_torchvisions_at_the_same_paths(name):
    """InvertedResidual, Conv2dNormActivation, SqueezeExcitation and Sequential where torchvision has them, and
    no container torchvision lacks (the residual add and the gate's multiply are inlined)."""
    with torch.device("meta"):
        theirs = container_classes(torchvision_model(name, {}))
        ours = container_classes(archspec.compile(name))
    assert ours == theirs


@pytest.mark.parametrize("name", ["mobilenet_v2", "mobilenet_v3_small"])
def test_training_mode_matches_with_dropout_off(name):
    """Training mode (batch statistics, running statistics updated) gives torchvision's outputs and buffers."""
    reference = randomise(torchvision_model(name, {"dropout": 0.0}), seed=3).train()
    ours = archspec.compile(archspec.load(name, overrides={"dropout": 0.0}), SMALL_INPUT)
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.train()
    x = torch.randn(4, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value, rtol=1e-5, atol=1e-6)
