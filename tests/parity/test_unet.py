"""The bundled U-Net (archspec/specs/unet.yaml) against a U-Net written by hand with plain torch.nn, leaf by
leaf: the same leaf module types in the same order with the same parameter and buffer shapes, the same
outputs once the hand-written model's weights are loaded in order, and the static analysis equal to what the
hand-written model measures (parameters and buffers by ``numel()``, output shapes by forward hooks, MACs by
``FlopCounterMode`` / 2, per leaf and in total).

The hand-written model follows Ronneberger et al. 2015 as PyTorch ports write it (milesial/Pytorch-UNet):
``DoubleConv`` (3x3 conv, batchnorm, ReLU, twice), ``Down`` (2x2 max pool, DoubleConv), ``Up`` (2x2
transposed conv of stride 2, concatenation after the encoder's map, DoubleConv) and a 1x1 output conv;
padding 1, so 128x128 in gives 128x128 out. The spec's width is a param: the default run checks a narrow
copy (``width: 8``), the slow run the bundled network itself.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from truth import is_leaf
from weights import randomise

import archspec

INPUT = [1, 128, 128]
CLASSES = 2


class DoubleConv(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, below: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(below)], dim=1))


class HandWrittenUNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, width: int):
        super().__init__()
        self.inc = DoubleConv(in_channels, width)
        self.down1 = Down(width, width * 2)
        self.down2 = Down(width * 2, width * 4)
        self.down3 = Down(width * 4, width * 8)
        self.down4 = Down(width * 8, width * 16)
        self.up1 = Up(width * 16, width * 8)
        self.up2 = Up(width * 8, width * 4)
        self.up3 = Up(width * 4, width * 2)
        self.up4 = Up(width * 2, width)
        self.outc = nn.Conv2d(width, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.down4(x4)
        x = self.up1(x, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


def leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(path, module) for path, module in model.named_modules() if path and is_leaf(module)]


def layout(module: nn.Module) -> tuple[type, list[tuple[int, ...]], list[tuple[int, ...]]]:
    """A leaf's type and the shapes of its own parameters and buffers, in registration order."""
    return (
        type(module),
        [tuple(p.shape) for p in module.parameters(recurse=False)],
        [tuple(b.shape) for b in module.buffers(recurse=False)],
    )


def measured_leaves(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[list[int]], list[int], int]:
    """One eval-mode forward pass: the output, every leaf's output shape and MACs (in registration order) and
    the total MACs, all measured (forward hooks, FlopCounterMode / 2)."""
    named = leaves(model)
    shapes: dict[str, list[int]] = {}
    handles = [
        module.register_forward_hook(lambda _m, _i, out, path=path: shapes.__setitem__(path, list(out.shape)))
        for path, module in named
    ]
    counter = FlopCounterMode(display=False)
    model.eval()
    try:
        with torch.no_grad(), counter:
            output = model(x)
    finally:
        for handle in handles:
            handle.remove()
    counts = counter.get_flop_counts()
    root = type(model).__name__
    macs = [sum(counts.get(f"{root}.{path}", {}).values()) // 2 for path, _ in named]
    return output, [shapes[path] for path, _ in named], macs, counter.get_total_flops() // 2


@pytest.fixture(scope="module", params=[8, pytest.param(64, marks=pytest.mark.slow)], ids=["width8", "bundled"])
def pair(request):
    """(static report, hand-written U-Net with random weights, compiled spec with the same weights)."""
    width = request.param
    spec = archspec.load("unet") if width == 64 else archspec.load("unet", overrides={"width": width})
    reference = randomise(HandWrittenUNet(INPUT[0], CLASSES, width), seed=0)
    ours = archspec.compile(spec)
    archspec.load_weights_in_order(ours, reference)
    return archspec.analyze(spec), reference.eval(), ours.eval()


def test_the_bundled_spec_is_the_documented_network():
    report = archspec.analyze("unet")
    assert report.input_shape == [1, *INPUT] and report.output_shape == [1, CLASSES, *INPUT[1:]]
    # four levels: four poolings down, four transposed convolutions up, each followed by a concatenated skip
    ops = [row.op for row in report.layers if row.depth == 1]
    assert ops.count("maxpool") == ops.count("conv_transpose") == ops.count("concat") == 4


def test_same_leaves_in_the_same_order(pair):
    report, reference, ours = pair
    theirs, mine = leaves(reference), leaves(ours)
    assert [layout(module) for _, module in mine] == [layout(module) for _, module in theirs]
    assert [row.path for row in report.layers if row.leaf] == [path for path, _ in mine]


def test_same_outputs_with_the_same_weights(pair):
    _, reference, ours = pair
    x = torch.randn(2, *INPUT, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, actual = reference(x), ours(x)
    assert actual.shape == expected.shape == (2, CLASSES, *INPUT[1:])
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


def test_static_analysis_equals_the_hand_written_model(pair):
    report, reference, _ = pair
    output, shapes, macs, total = measured_leaves(reference, torch.zeros(1, *INPUT))
    rows = [row for row in report.layers if row.leaf]
    own_params = [sum(p.numel() for p in module.parameters(recurse=False)) for _, module in leaves(reference)]
    assert [row.output_shape for row in rows] == shapes
    assert [row.params for row in rows] == own_params
    assert [row.macs for row in rows] == macs
    assert report.totals.macs == total
    assert report.totals.params == sum(p.numel() for p in reference.parameters())
    assert report.totals.buffers == sum(b.numel() for b in reference.buffers())
    assert report.output_shape == list(output.shape)
