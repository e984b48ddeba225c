"""ShuffleNet v2 (issue 11): the bundled spec is torchvision's shufflenet_v2_x1_0, and its stage widths as
params give the other widths. Ground truth is torchvision's model: Σ numel of its parameters and buffers,
FlopCounterMode total / 2 on it at 224² with autograd enabled (REFERENCE.md), its module tree, and its outputs
with its state dict (seeded random values, tests/weights.py) loaded strictly into archspec's compiled module,
in eval mode and in training mode (batch statistics; ShuffleNet has no dropout, so it is deterministic)."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
import torchvision
from torchvision_parity import assert_loads_strictly_and_matches, measured_macs
from weights import numel, randomise

import archspec

SPEC = "shufflenet_v2_x1_0"
# (torchvision builder, the spec's overrides that should give the same network)
DEFAULT = ("shufflenet_v2_x1_0", {})
VARIANTS = [
    ("shufflenet_v2_x0_5", {"c2": 48, "c3": 96, "c4": 192}),
    ("shufflenet_v2_x1_5", {"c2": 176, "c3": 352, "c4": 704}),
    ("shufflenet_v2_x2_0", {"c2": 244, "c3": 488, "c4": 976, "last": 2048}),
]
CASES = [pytest.param(*DEFAULT, id=DEFAULT[0])] + [
    pytest.param(*case, id=case[0], marks=pytest.mark.slow) for case in VARIANTS
]
SMALL_INPUT = [3, 96, 96]


def torchvision_model(name: str) -> torch.nn.Module:
    return getattr(torchvision.models, name)(weights=None)


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_parameters_buffers_and_macs_are_torchvisions(name, overrides):
    reference = torchvision_model(name).eval()
    report = archspec.analyze(archspec.load(SPEC, overrides=overrides))
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.trainable_params == numel(p for p in reference.parameters() if p.requires_grad)
    assert report.totals.buffers == numel(reference.buffers())
    assert report.totals.macs == measured_macs(reference, [3, 224, 224])
    assert report.output_shape == [1, 1000]


def test_published_parameter_counts():
    """torchvision's documented sizes (its weights' metadata: 2,278,604 and 1,366,792 parameters)."""
    assert archspec.analyze(SPEC).totals.params == 2_278_604
    assert archspec.analyze(archspec.load(SPEC, overrides=dict(VARIANTS[0][1]))).totals.params == 1_366_792


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_torchvisions_state_dict_loads_strictly_and_gives_the_same_outputs(name, overrides):
    reference = randomise(torchvision_model(name), seed=1).eval()
    ours = archspec.compile(archspec.load(SPEC, overrides=overrides), SMALL_INPUT)
    assert_loads_strictly_and_matches(ours, reference, SMALL_INPUT, same_order=True)


def test_training_mode_matches():
    """Training mode (batch statistics, running statistics updated) gives torchvision's outputs and buffers."""
    reference = randomise(torchvision_model(DEFAULT[0]), seed=3).train()
    ours = archspec.compile(SPEC, SMALL_INPUT)
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.train()
    x = torch.randn(4, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value, rtol=1e-5, atol=1e-6)


def container_classes(model: torch.nn.Module) -> dict[str, str]:
    """``{path: class name}`` of every module below the root that holds other modules."""
    return {path: type(module).__name__ for path, module in model.named_modules() if path and module._modules}


def test_module_classes_are_torchvisions_at_the_same_paths():
    """InvertedResidual and Sequential where torchvision has them, and no container torchvision lacks (the
    channel split and the concatenation are inlined into the unit)."""
    with torch.device("meta"):
        theirs = container_classes(torchvision_model(DEFAULT[0]))
        ours = container_classes(archspec.compile(SPEC))
    assert ours == theirs


def test_copies_traces_and_exports_compute_the_same():
    """The inlined channel split (part steps of the unit's flow) survives deepcopy, pickle, torch.fx,
    torch.export and TorchScript."""
    model = randomise(archspec.compile(SPEC, SMALL_INPUT), seed=5).eval()
    x = torch.randn(2, *SMALL_INPUT, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        expected = model(x)
        others = [
            copy.deepcopy(model),
            pickle.loads(pickle.dumps(model)),
            torch.fx.symbolic_trace(model),
            torch.export.export(model, (x,)).module(),
            torch.jit.script(model),
        ]
        for other in others:
            torch.testing.assert_close(other(x), expected, rtol=0, atol=0)
