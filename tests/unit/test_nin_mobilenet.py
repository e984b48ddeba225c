"""NiN and MobileNet v1 — the bundled specs against hand-written plain ``torch.nn`` networks (ground truth that
shares no code with archspec) and published figures.

- NiN: the seed notebook's reproduction ("复现NiN架构", a ``class NiN(nn.Module)`` of three ``nn.Sequential``
  blocks for 3x32x32 input), copied below layer for layer; its torchinfo table prints the first four
  convolutions' parameters: 14,592, 30,880, 15,456 and 460,992.
- MobileNet v1: Howard et al. 2017, Table 1 (a 3x3/2 convolution, 13 depthwise separable convolutions —
  depthwise 3x3 + BN + ReLU, pointwise 1x1 + BN + ReLU — average pooling and a 1024 -> 1000 classifier, every
  convolution followed by batchnorm and ReLU, so without bias). Published: 4.2 million parameters and 569
  million mult-adds at 224x224 (Table 8, "1.0 MobileNet-224").

For each: parameters, and per leaf module in registration order its type, parameters, MACs
(FlopCounterMode / 2 on the hand-written network) and output shape, equal the static report; outputs equal
after transferring the hand-written network's random weights (batchnorm statistics and affine parameters
included) in registration order.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from truth import measure
from weights import copy_weights, numel, randomise

import archspec

# -- NiN, as in the seed notebook ---------------------------------------------------------------------------


class NiN(nn.Module):
    """The seed notebook's NiN, verbatim (in-place ReLUs included)."""

    def __init__(self, num_classes=10, dropout=0.5):
        super().__init__()
        self.block1 = nn.Sequential(
            nn.Conv2d(3, 192, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 160, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(160, 96, 1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout2d(p=dropout),
        )

        self.block2 = nn.Sequential(
            nn.Conv2d(96, 192, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 192, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 192, 1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout2d(p=dropout),
        )

        self.block3 = nn.Sequential(
            nn.Conv2d(192, 192, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(192, 192, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(192, num_classes, 1, padding=1),
            nn.ReLU(inplace=True),
            nn.AvgPool2d(7),
            nn.Softmax(dim=-1),
        )

    def forward(self, x):
        out = self.block1(x)
        out = self.block2(out)
        out = self.block3(out)
        return out


NIN_TORCHINFO_PARAMS = [14_592, 30_880, 15_456, 460_992]  # the seed notebook's summary, first four convs

# -- MobileNet v1, Howard et al. 2017, Table 1 ----------------------------------------------------------------

# (stride, output channels) of the 13 depthwise separable convolutions. Table 1 lists the last depthwise
# convolution as "s2" although its input and output are both 7x7x1024 (a known typo): stride 1, as every
# implementation and the table's own sizes have it.
MOBILENET_DW = [
    (1, 64),
    (2, 128),
    (1, 128),
    (2, 256),
    (1, 256),
    (2, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (2, 1024),
    (1, 1024),
]


def conv_bn_relu(inp: int, out: int, kernel: int, stride: int, groups: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(inp, out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out),
        nn.ReLU(inplace=True),
    ]


class MobileNetV1(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn_relu(3, 32, 3, 2))
        blocks, channels = [], 32
        for stride, out in MOBILENET_DW:
            blocks.append(
                nn.Sequential(
                    *conv_bn_relu(channels, channels, 3, stride, groups=channels),  # depthwise
                    *conv_bn_relu(channels, out, 1, 1),
                )
            )  # pointwise
            channels = out
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)  # "Avg Pool / s1, 7x7" at 224
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(self.stem(x)))))


MOBILENET_PARAMS_M, MOBILENET_MULT_ADDS_M = 4.2, 569  # Howard et al. 2017, Table 8


# -- comparisons ----------------------------------------------------------------------------------------------


def assert_leaves_match(report: archspec.Report, hand: nn.Module, input_shape: list[int]):
    """The report's leaf rows and the hand-written network's leaf modules, paired in registration order: same
    count, module type, parameters, MACs (FlopCounterMode / 2) and output shape; and the same totals. Returns
    the hand-written network's measurement."""
    truth = measure(hand, input_shape)
    compiled = archspec.compile(archspec.load(report.name))
    rows = [row for row in report.layers if row.leaf]
    leaves = [path for path, _ in hand.named_modules() if path in truth.leaves]
    assert len(rows) == len(leaves)
    for row, path in zip(rows, leaves, strict=True):
        theirs = hand.get_submodule(path)
        assert type(compiled.get_submodule(row.path)).__name__ == type(theirs).__name__, (row.path, path)
        assert (row.params, row.macs, row.output_shape) == (
            truth.module_params[path],
            truth.module_macs[path],
            truth.shapes[path],
        ), (row.path, path)
    assert (report.totals.params, report.totals.buffers, report.totals.macs) == (
        truth.params,
        truth.buffers,
        truth.macs,
    )
    return truth


@pytest.fixture(scope="module")
def nin_pair():
    hand = randomise(NiN(), seed=0).eval()
    ours = archspec.compile("nin")
    copy_weights(hand, ours)
    return hand, ours.eval()


def test_nin_parameters_equal_the_notebook_and_the_hand_written_network(nin_pair):
    hand, ours = nin_pair
    convs = [m for m in hand.modules() if isinstance(m, nn.Conv2d)]
    assert [numel(m.parameters()) for m in convs[:4]] == NIN_TORCHINFO_PARAMS
    report = archspec.analyze("nin")
    assert [row.params for row in report.layers if row.op == "conv"][:4] == NIN_TORCHINFO_PARAMS
    assert report.totals.params == numel(hand.parameters()) == numel(ours.parameters())
    assert report.totals.buffers == 0


@pytest.mark.parametrize("batch", [1, 2])
def test_nin_leaves_equal_the_hand_written_network(batch):
    assert_leaves_match(archspec.analyze("nin", batch=batch), NiN().eval(), [batch, 3, 32, 32])


def test_nin_outputs_equal_after_weight_transfer(nin_pair):
    """Block by block, and the class scores before the softmax: the notebook's softmax runs over the last
    dimension, of size 1, so the network's output is all ones whatever the weights (kept from the notebook)."""
    hand, ours = nin_pair
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected1, actual1 = hand.block1(x), ours.block1(x)
        torch.testing.assert_close(actual1, expected1, rtol=1e-4, atol=1e-5)
        expected2, actual2 = hand.block2(expected1), ours.block2(expected1)
        torch.testing.assert_close(actual2, expected2, rtol=1e-4, atol=1e-5)
        scores, our_scores = hand.block3[:-1](expected2), ours.block3[:-1](expected2)  # up to the 7x7 avgpool
        assert scores.shape == (2, 10, 1, 1) and scores.std() > 0
        torch.testing.assert_close(our_scores, scores, rtol=1e-4, atol=1e-5)
        output = ours(x)
        torch.testing.assert_close(output, hand(x))
    assert torch.equal(output, torch.ones(2, 10, 1, 1))


@pytest.fixture(scope="module")
def mobilenet_pair():
    hand = randomise(MobileNetV1(), seed=0).eval()
    ours = archspec.compile("mobilenet_v1")
    copy_weights(hand, ours)
    return hand, ours.eval()


def test_mobilenet_v1_counts_equal_the_hand_written_network(mobilenet_pair):
    hand, ours = mobilenet_pair
    report = archspec.analyze("mobilenet_v1")
    assert report.totals.params == numel(hand.parameters()) == numel(ours.parameters())
    assert report.totals.buffers == numel(hand.buffers()) == numel(ours.buffers())
    assert sum(isinstance(m, nn.Conv2d) and m.groups > 1 for m in ours.modules()) == 13  # depthwise
    assert not any(m.bias is not None for m in ours.modules() if isinstance(m, nn.Conv2d))


def test_mobilenet_v1_leaves_equal_the_hand_written_network_at_64():
    report = archspec.analyze("mobilenet_v1", input_shape=[3, 64, 64], batch=2)
    assert_leaves_match(report, MobileNetV1().eval(), [2, 3, 64, 64])


def test_mobilenet_v1_at_224_equals_the_hand_written_network_and_the_published_figures():
    """Leaf by leaf at 224x224, and 4.2 million parameters and 569 million mult-adds (Table 8) within their
    rounding, for the hand-written network (measured) and the spec (static). Mult-adds = MACs: batchnorm,
    pooling and biases count 0 either way."""
    report = archspec.analyze("mobilenet_v1")
    truth = assert_leaves_match(report, MobileNetV1().eval(), [1, 3, 224, 224])
    for params, macs in ((truth.params, truth.macs), (report.totals.params, report.totals.macs)):
        assert round(params / 1e6, 1) == MOBILENET_PARAMS_M
        assert round(macs / 1e6) == MOBILENET_MULT_ADDS_M


@pytest.mark.parametrize("shape", [(2, 3, 64, 64), (1, 3, 224, 224)])
def test_mobilenet_v1_outputs_equal_after_weight_transfer(mobilenet_pair, shape):
    hand, ours = mobilenet_pair
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, actual = hand(x), ours(x)
    assert actual.shape == (shape[0], 1000)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


def test_mobilenet_v1_outputs_equal_in_training_mode():
    """Batch statistics and running-statistics updates agree too."""
    hand = randomise(MobileNetV1(), seed=3)
    ours = archspec.compile("mobilenet_v1")
    copy_weights(hand, ours)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    hand.train()
    ours.train()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), hand(x), rtol=1e-4, atol=1e-5)
    for mine, theirs in zip(ours.buffers(), hand.buffers(), strict=True):
        torch.testing.assert_close(mine, theirs)
