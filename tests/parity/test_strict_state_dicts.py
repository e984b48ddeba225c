"""Every bundled spec that follows a torchvision network has torchvision's module names (DESIGN.md §5, issue 10
§2): ``load_state_dict(torchvision_model.state_dict(), strict=True)`` works with no mapping, and both modules
then compute the same outputs.

The networks are the bundled specs whose name is a torchvision builder (``torchvision.models.<name>``); their
weights and batchnorm statistics are seeded random values (tests/weights.py), which tell a batchnorm before a
ReLU from one after it, unlike torchvision's init.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision_parity import assert_loads_strictly_and_matches
from weights import randomise

import archspec
from archspec.loading.resolve import bundled_specs

TORCHVISION_NETWORKS = sorted(name for name in bundled_specs() if hasattr(torchvision.models, name))
# Every bundled spec named like a torchvision builder, listed: a spec renamed away from its builder would drop out
# of the test silently, and a new one must be added here on purpose.
EXPECTED_NETWORKS = {
    *("alexnet", "googlenet", "densenet121", "resnext50_32x4d"),
    *(f"vgg{depth}{bn}" for depth in (11, 13, 16, 19) for bn in ("", "_bn")),
    *(f"resnet{depth}" for depth in (18, 34, 50, 101, 152)),
    *("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"),  # issue 11 (tests/parity/test_mobilenets.py)
    *("efficientnet_b0", "efficientnet_v2_s"),  # issue 11 (tests/parity/test_efficientnet.py)
    "shufflenet_v2_x1_0",  # issue 11 (tests/parity/test_shufflenet.py)
    "convnext_tiny",  # issue 11 (tests/parity/test_convnext.py)
    "vit_b_16",  # issue 11 (tests/parity/test_vit.py)
    "swin_t",  # issue 11 (tests/parity/test_swin.py)
}
# The others build 25M-140M parameters each, and the MobileNets, EfficientNets and ConvNeXt run in the default
# suite in test_mobilenets, test_efficientnet and test_convnext: slow.
FAST = {"alexnet", "resnet18", "googlenet"}
INPUT = [3, 64, 64]
INPUTS = {"vit_b_16": [3, 224, 224]}  # its learned positional embedding takes exactly 224x224


def torchvision_model(name: str, **kwargs) -> torch.nn.Module:
    if name == "googlenet":
        kwargs.setdefault("init_weights", False)  # scipy's truncated normal init: slow, and overwritten anyway
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def test_every_torchvision_network_is_covered():
    assert set(TORCHVISION_NETWORKS) == EXPECTED_NETWORKS
    assert len(EXPECTED_NETWORKS) == 26


@pytest.mark.parametrize(
    "name", [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in TORCHVISION_NETWORKS]
)
def test_torchvision_state_dict_loads_strictly_and_gives_the_same_outputs(name):
    reference = randomise(torchvision_model(name), seed=1).eval()
    ours = archspec.compile(name)
    assert_loads_strictly_and_matches(ours, reference, INPUTS.get(name, INPUT))


def test_googlenet_with_aux_heads_loads_torchvision_aux_logits_state_dict_and_matches_in_training():
    # Dropout off on both sides, so that training mode (where the aux heads run) is deterministic; batchnorm
    # then uses batch statistics, and both update their running statistics alike.
    reference = randomise(torchvision_model("googlenet", aux_logits=True, dropout=0.0, dropout_aux=0.0), seed=3)
    spec = archspec.load("googlenet", overrides={"aux_logits": True, "dropout": 0.0, "aux_dropout": 0.0})
    ours = archspec.compile(spec, [3, 96, 96])
    ours.load_state_dict(reference.state_dict(), strict=True)
    reference.train()
    ours.train()
    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        theirs = reference(x)
        got = ours(x)
    assert set(got) == {"output", "aux1", "aux2"}
    torch.testing.assert_close(got["output"], theirs.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got["aux1"], theirs.aux_logits1, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got["aux2"], theirs.aux_logits2, rtol=1e-5, atol=1e-5)
    for key, value in reference.state_dict().items():  # running statistics updated alike
        torch.testing.assert_close(ours.state_dict()[key], value, rtol=1e-5, atol=1e-6)
