"""Parity of the bundled graph networks (GoogLeNet, ResNet, ResNeXt, DenseNet) with torchvision.

Expected numbers come from outside archspec: REFERENCE.md §6 (measured with torch 2.14.1 / torchvision 0.29.1
at 224×224, batch 1), and torchvision's own modules (``weights=None``) measured here — ``numel()`` sums,
``FlopCounterMode`` / 2 at a small input, and outputs after loading torchvision's state dict into the
compiled spec strictly, by name (DESIGN.md §5).

The torchvision models get random weights *and* random batchnorm statistics and affine parameters
(tests/weights.py) before the transfer: with torchvision's init every batchnorm is a positive scaling, which
commutes with ReLU, so a spec with a batchnorm on the wrong side of a ReLU would match exactly (shown below
for a mutated DenseNet).

The 224×224 MACs are checked against REFERENCE §6 only, so the default run needs no 224 forward pass; the
real FlopCounterMode comparison runs at 2×3×64×64.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torchvision
import yaml
from torch.utils.flop_counter import FlopCounterMode
from weights import copy_weights, load_by_name, numel, randomise

import archspec
import archspec.specs

# REFERENCE.md §6: params, buffers, MACs (= FlopCounterMode / 2) at 3×224×224, batch 1.
REFERENCE = {
    "googlenet": (6_624_904, 14_617, 1_498_376_192),  # without the aux heads
    "resnet18": (11_689_512, 9_620, 1_814_073_344),
    "resnet34": (21_797_672, 17_060, 3_663_761_408),
    "resnet50": (25_557_032, 53_173, 4_089_184_256),
    "resnet101": (44_549_160, 105_448, 7_801_405_440),
    "resnet152": (60_192_808, 151_579, 11_513_626_624),
    "resnext50_32x4d": (25_028_904, 68_277, 4_230_479_872),
    "densenet121": (7_978_856, 83_769, 2_834_161_664),
}
GOOGLENET_WITH_AUX = (13_004_888, 15_131)  # REFERENCE §6: params, buffers; MACs: main path as without
HEAVY = {"resnet101", "resnet152"}  # their torchvision builds and forwards run in the slow set

BATCH, SIZE = 2, 64  # the measured comparisons: batch 2, 3×64×64
NAMES = [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name for name in REFERENCE]


def spec_of(name: str, **overrides):
    """The bundled spec; GoogLeNet without its aux heads unless ``aux_logits`` is given."""
    if name == "googlenet":
        overrides = {"aux_logits": False, **overrides}
    return archspec.load(name, overrides=overrides or None)


def torchvision_model(name: str, **kwargs) -> torch.nn.Module:
    if name == "googlenet":
        kwargs = {"aux_logits": False, "init_weights": False, **kwargs}
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def flop_counted(model: torch.nn.Module, x: torch.Tensor):
    """(output, FlopCounterMode total / 2) of one no-grad forward pass."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        output = model(x)
    return output, counter.get_total_flops() // 2


def random_input(seed: int = 0) -> torch.Tensor:
    return torch.randn(BATCH, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


# --- static numbers against REFERENCE §6 (no torch needed) ---------------------------------------------


@pytest.mark.parametrize("name", list(REFERENCE))
def test_static_totals_at_224_equal_reference(name):
    params, buffers, macs = REFERENCE[name]
    totals = archspec.analyze(spec_of(name)).totals
    assert (totals.params, totals.trainable_params, totals.buffers, totals.macs) == (params, params, buffers, macs)


def test_googlenet_with_aux_heads_static_totals_equal_reference():
    params, buffers = GOOGLENET_WITH_AUX
    report = archspec.analyze("googlenet")  # the bundled default keeps the aux heads
    assert (report.totals.params, report.totals.buffers) == (params, buffers)
    # eval mode: the train-only heads do not run, so the MACs are the main path's
    assert report.totals.macs == REFERENCE["googlenet"][2]


# --- measured against torchvision ------------------------------------------------------------------------


def randomised_pair(name: str, spec, seed: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    """torchvision's ``name`` with random weights and batchnorm statistics (built on the meta device, so no
    time goes into an init that is overwritten), and ``spec`` compiled, holding its weights (loaded by name);
    both in eval mode."""
    with torch.device("meta"):
        theirs = torchvision_model(name)
        ours = archspec.compile(spec)
    theirs = randomise(theirs.to_empty(device="cpu"), seed).eval()
    load_by_name(theirs, ours)
    return theirs, ours.eval()


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    """(name, torchvision model, compiled spec holding torchvision's weights), both in eval mode."""
    name = request.param
    theirs, ours = randomised_pair(name, spec_of(name))
    return name, theirs, ours


def test_params_and_buffers_equal_torchvision(pair):
    name, theirs, _ = pair
    totals = archspec.analyze(spec_of(name)).totals
    assert totals.params == numel(theirs.parameters()) == REFERENCE[name][0]
    assert totals.buffers == numel(theirs.buffers()) == REFERENCE[name][1]


def test_macs_equal_flop_counter_at_64(pair):
    name, theirs, _ = pair
    _, measured = flop_counted(theirs, random_input())
    assert archspec.analyze(spec_of(name), input_shape=[3, SIZE, SIZE], batch=BATCH).totals.macs == measured


def test_outputs_equal_after_weight_transfer(pair):
    _, theirs, ours = pair
    norms = [m for m in ours.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(norm.running_mean.abs().min() > 0 and (norm.weight != 1).all() for norm in norms)
    x = random_input(1)
    with torch.no_grad():
        expected, actual = theirs(x), ours(x)
    assert actual.shape == expected.shape == (BATCH, 1000)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


# --- GoogLeNet with its auxiliary heads -------------------------------------------------------------------


@pytest.fixture(scope="module")
def googlenet_with_aux():
    torch.manual_seed(0)
    model = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False)
    return randomise(model, seed=1)


def test_googlenet_with_aux_params_equal_torchvision(googlenet_with_aux):
    totals = archspec.analyze("googlenet").totals
    assert totals.params == numel(googlenet_with_aux.parameters()) == GOOGLENET_WITH_AUX[0]
    assert totals.buffers == numel(googlenet_with_aux.buffers()) == GOOGLENET_WITH_AUX[1]


def test_googlenet_registration_order_differs_only_in_aux_placement(googlenet_with_aux):
    ours = [name for name, _ in archspec.compile("googlenet").named_children()]
    theirs = [name for name, _ in googlenet_with_aux.named_children()]
    assert ours.index("aux1") == ours.index("inception4a") + 1
    assert ours.index("aux2") == ours.index("inception4d") + 1
    assert theirs.index("aux1") > theirs.index("inception5b")
    assert [n for n in ours if n in theirs] != theirs  # so registration-order transfer would pair wrongly
    assert set(theirs) <= set(ours)


def test_googlenet_with_aux_outputs_in_train_and_eval(googlenet_with_aux):
    ours = archspec.compile("googlenet")
    x = random_input(2)
    googlenet_with_aux.train()
    ours.train()
    with torch.no_grad():
        expected = googlenet_with_aux(x)
        actual = ours(x)
    assert isinstance(actual, dict)
    assert list(actual) == ["output", "aux1", "aux2"]
    assert actual["output"].shape == expected.logits.shape
    assert actual["aux1"].shape == expected.aux_logits1.shape
    assert actual["aux2"].shape == expected.aux_logits2.shape
    googlenet_with_aux.eval()
    ours.eval()
    with torch.no_grad():
        expected = googlenet_with_aux(x)
        actual = ours(x)
    assert isinstance(actual, torch.Tensor)
    assert actual.shape == expected.shape == (BATCH, 1000)


def test_googlenet_with_aux_macs_equal_flop_counter_in_train_and_eval(googlenet_with_aux):
    x = random_input(3)
    for train in (False, True):
        googlenet_with_aux.train(train)
        _, measured = flop_counted(googlenet_with_aux, x)
        static = archspec.analyze("googlenet", input_shape=[3, SIZE, SIZE], batch=BATCH, train=train).totals.macs
        assert static == measured, f"train={train}"
    googlenet_with_aux.eval()


def test_googlenet_with_aux_outputs_equal_by_name_in_train_mode_without_dropout(googlenet_with_aux):
    theirs = copy.deepcopy(googlenet_with_aux)
    ours = archspec.compile(archspec.load("googlenet", overrides={"dropout": 0.0, "aux_dropout": 0.0}))
    ours.load_state_dict(theirs.state_dict(), strict=True)  # the same keys, in another order
    for module in theirs.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    x = random_input(4)
    theirs.train()
    ours.train()
    with torch.no_grad():
        expected = theirs(x)
        actual = ours(x)
    theirs.eval()
    torch.testing.assert_close(actual["output"], expected.logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(actual["aux1"], expected.aux_logits1, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(actual["aux2"], expected.aux_logits2, rtol=1e-4, atol=1e-5)
    # both updated their batchnorm statistics from the same batch
    torch.testing.assert_close(ours.inception5b.branch1.bn.running_mean, theirs.inception5b.branch1.bn.running_mean)
    # in eval mode, with the same running statistics, the main outputs agree too
    ours.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-5)


# --- the comparison's strength: a batchnorm on the wrong side of a ReLU is caught -------------------------

RELU_BEFORE_NORM1 = {  # torchvision's _DenseLayer with its first ReLU moved before norm1
    "override": True,  # replaces the built-in dense_layer, inside the built-in dense_block too
    "params": {"growth": "required", "bn_size": 4, "drop_rate": 0.0},
    "layers": [
        {
            "concat": {
                "branches": {
                    "input": [],
                    "new": [
                        "relu",
                        {"batchnorm": {}, "name": "norm1"},
                        {"conv": {"out": "${bn_size * growth}", "kernel": 1, "bias": False}, "name": "conv1"},
                        {"batchnorm": {}, "name": "norm2"},
                        "relu",
                        {"conv": {"out": "$growth", "kernel": 3, "padding": 1, "bias": False}, "name": "conv2"},
                    ],
                }
            },
            "name": "merge",
        }
    ],
}


def test_densenet_with_relu_before_batchnorm_is_caught_only_with_random_batchnorm():
    """A DenseNet-121 spec whose dense layers put ReLU before norm1 (a spec-level ``dense_layer`` overriding the
    built-in block; parameters and their order unchanged) computes *exactly* torchvision's outputs under
    torchvision's init — batchnorm is then ``x / sqrt(1 + eps)`` — and clearly different ones once the
    batchnorms are randomised, as the parity tests above do."""
    data = yaml.safe_load((Path(archspec.specs.__file__).parent / "densenet121.yaml").read_text())
    data["blocks"] = {"dense_layer": RELU_BEFORE_NORM1}
    mutant = archspec.compile(data).eval()
    torch.manual_seed(0)
    theirs = torchvision_model("densenet121").eval()
    x = random_input(5)

    copy_weights(theirs, mutant)
    with torch.no_grad():
        torch.testing.assert_close(mutant(x), theirs(x), rtol=1e-4, atol=1e-5)  # the weakness

    randomise(theirs, seed=3)
    copy_weights(theirs, mutant)
    with torch.no_grad():
        expected, actual = theirs(x), mutant(x)
    assert (actual - expected).abs().max() > 0.01 * expected.abs().max()
