"""Parity with torchvision (DESIGN.md §5): the compiled spec has torchvision's parameter count and MACs and,
given torchvision's state dict (loaded strictly, by name), computes the same outputs.

torchvision models are built with ``weights=None`` (nothing is downloaded) and given seeded random weights
and batchnorm statistics / affine parameters (tests/weights.py); they are as good as trained ones for checking
that both modules compute the same function, and unlike torchvision's init (batchnorm = a positive scaling)
they tell a batchnorm before a ReLU from one after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision
import yaml
from torch.utils.flop_counter import FlopCounterMode
from weights import copy_weights, load_by_name, numel, randomise

import archspec
import archspec.specs

# Every torchvision network with a bundled spec of the same name (archspec/specs/<name>.yaml), loaded as the
# file itself. The four that ran before the _bn files existed stay in the default run; the rest are slow
# (each builds and randomises a 130M-parameter model, ~3 s per network).
FAST = {"alexnet", "vgg11", "vgg11_bn", "vgg16"}
NETWORKS = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]
SMALL_INPUT, SMALL_BATCH = [3, 64, 64], 2


def torchvision_macs(model: torch.nn.Module, shape: list[int]) -> int:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(*shape))
    return counter.get_total_flops() // 2


@pytest.fixture(
    scope="module", params=[name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in NETWORKS]
)
def pair(request):
    """(name, spec, torchvision model, archspec model with torchvision's weights), both in eval mode.

    Both are constructed on the meta device (no time spent on initialisation that is overwritten anyway); the
    torchvision model then gets random weights and batchnorm statistics (tests/weights.py) and the archspec
    module loads them by name (strictly: the same keys).
    """
    name = request.param
    spec = archspec.load(name)
    assert spec.name == name and spec.file.endswith(f"specs/{name}.yaml")  # the bundled file, no overrides
    with torch.device("meta"):
        reference = getattr(torchvision.models, name)(weights=None)
        ours = archspec.compile(spec)
    # The compiled module owns exactly torchvision's parameters and buffers, before any copying.
    assert numel(ours.parameters()) == numel(reference.parameters())
    assert numel(ours.buffers()) == numel(reference.buffers())
    reference = randomise(reference.to_empty(device="cpu"), seed=0).eval()
    load_by_name(reference, ours)
    ours.eval()
    assert all(t.device.type == "cpu" for t in ours.state_dict().values())
    yield name, spec, reference, ours
    del reference, ours


def test_parameter_and_buffer_counts(pair):
    _, spec, reference, ours = pair
    assert numel(ours.parameters()) == numel(reference.parameters())
    assert numel(ours.buffers()) == numel(reference.buffers())
    assert numel(p for p in ours.parameters() if p.requires_grad) == numel(
        p for p in reference.parameters() if p.requires_grad
    )
    report = archspec.analyze(spec)
    assert report.totals.params == sum(p.numel() for p in reference.parameters())
    assert report.totals.buffers == sum(b.numel() for b in reference.buffers())


def test_state_dict_shapes_in_registration_order(pair):
    _, _, reference, ours = pair
    assert [t.shape for t in ours.state_dict().values()] == [t.shape for t in reference.state_dict().values()]


def test_batchnorms_match_and_carry_random_statistics(pair):
    """The *_bn files hold as many batchnorms as torchvision, in the same order and widths, and the transferred
    statistics are not torchvision's defaults (which would hide a misplaced batchnorm)."""
    name, _, reference, ours = pair
    norms = [m for m in ours.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    theirs = [m for m in reference.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [m.num_features for m in norms] == [m.num_features for m in theirs]
    assert len(norms) == ({"vgg11_bn": 8, "vgg13_bn": 10, "vgg16_bn": 13, "vgg19_bn": 16}.get(name, 0))
    for norm in norms:
        assert norm.running_mean.abs().min() > 0 and (norm.running_var != 1).all()
        assert (norm.weight != 1).all() and (norm.bias != 0).all()


def test_same_outputs(pair):
    _, _, reference, ours = pair
    x = torch.randn(SMALL_BATCH, *SMALL_INPUT, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, actual = reference(x), ours(x)
    assert actual.shape == expected.shape == (SMALL_BATCH, 1000)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


def test_same_outputs_on_a_non_square_input(pair):
    name, _, reference, ours = pair
    shape = (1, 3, 64, 96) if name == "alexnet" else (1, 3, 32, 48)  # alexnet needs at least 63x63
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)


def test_macs_equal_torchvision_flop_counter(pair):
    _, spec, reference, _ = pair
    measured = torchvision_macs(reference, [SMALL_BATCH, *SMALL_INPUT])
    assert archspec.analyze(spec, SMALL_INPUT, batch=SMALL_BATCH).totals.macs == measured


@pytest.mark.slow
def test_same_outputs_at_224(pair):
    _, _, reference, ours = pair
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_macs_equal_torchvision_flop_counter_at_224(pair):
    _, spec, reference, _ = pair
    assert archspec.analyze(spec).totals.macs == torchvision_macs(reference, [1, 3, 224, 224])


@pytest.mark.slow
def test_training_mode_batchnorm_matches(pair):
    """In training mode batchnorm normalises with batch statistics and updates its running buffers. Compare the
    feature extractors, where no dropout acts, and the buffers afterwards."""
    _, _, reference, ours = pair
    x = torch.randn(2, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    reference.features.train()
    ours.features.train()
    try:
        with torch.no_grad():
            torch.testing.assert_close(ours.features(x), reference.features(x), rtol=1e-4, atol=1e-5)
        for theirs, mine in zip(reference.features.buffers(), ours.features.buffers(), strict=True):
            torch.testing.assert_close(mine, theirs)
    finally:
        reference.eval()
        ours.eval()


def bundled_spec_data(name: str) -> dict:
    """The raw data of a bundled spec file, to derive a mutated spec from."""
    return yaml.safe_load((Path(archspec.specs.__file__).parent / f"{name}.yaml").read_text())


def test_batchnorm_after_relu_is_caught():
    """The strength of the comparison: vgg11_bn with each stage's batchnorm moved after its ReLU (a spec-level
    vgg_block overriding the built-in one) must not match torchvision once the batchnorms are randomised —
    while the bundled file does. Only the feature extractors are randomised and compared (fast)."""
    mutated = bundled_spec_data("vgg11_bn")
    mutated["blocks"] = {
        "vgg_block": {
            "override": True,
            "params": {"convs": "required", "out": "required", "batchnorm": False},
            "layers": [
                {
                    "sequential": [
                        {"conv": {"out": "$out", "kernel": 3, "padding": 1}},
                        "relu",
                        {"batchnorm": {}, "if": "$batchnorm"},
                    ],
                    "repeat": "$convs",
                },
                {"maxpool": {"kernel": 2, "stride": 2}},
            ],
        }
    }
    with torch.device("meta"):
        reference = torchvision.models.vgg11_bn(weights=None)
        bundled, wrong = archspec.compile("vgg11_bn"), archspec.compile(mutated)
    reference = reference.to_empty(device="cpu").eval()
    randomise(reference.features, seed=5)
    copy_weights(reference, bundled)
    copy_weights(reference, wrong)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        expected = reference.features(x)
        torch.testing.assert_close(bundled.eval().features(x), expected, rtol=1e-4, atol=1e-5)
        difference = (wrong.eval().features(x) - expected).abs().max()
    assert difference > 0.01 * expected.abs().max()
