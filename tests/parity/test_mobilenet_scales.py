"""mobilenet_v2's named scales (issue 13 §1): ``scale="x0_5"`` is torchvision's mobilenet_v2(width_mult=0.5).
Ground truth is torchvision's model: Σ numel of its parameters and buffers, FlopCounterMode total / 2 at 224²
with autograd enabled, and its state dict loaded strictly with equal outputs in eval."""

from __future__ import annotations

import pytest
import torch
import torchvision
import torchvision_parity
from weights import numel, randomise

import archspec

SCALES = {"x1_4": 1.4, "x1_0": 1.0, "x0_75": 0.75, "x0_5": 0.5, "x0_35": 0.35}


def measured_macs(model: torch.nn.Module) -> int:
    return torchvision_parity.measured_macs(model, [3, 224, 224])


@pytest.mark.parametrize("scale", list(SCALES))
def test_scale_params_buffers_and_macs_are_torchvisions_width_mult(scale):
    reference = torchvision.models.mobilenet_v2(weights=None, width_mult=SCALES[scale]).eval()
    report = archspec.analyze(archspec.load("mobilenet_v2", scale=scale))
    assert report.scale == scale
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.buffers == numel(reference.buffers())
    assert report.totals.macs == measured_macs(reference)


def test_scale_loads_torchvisions_state_dict_strictly_with_equal_outputs():
    reference = randomise(torchvision.models.mobilenet_v2(weights=None, width_mult=0.5), seed=1).eval()
    ours = archspec.compile(archspec.load("mobilenet_v2", scale="x0_5"), [3, 96, 96])
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.eval()
    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)
