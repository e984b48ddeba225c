"""Every bundled spec (archspec/specs/*.yaml) at batch 2: static == measured on the compiled module, row by row
(tests/truth.py: every module's output shape, params, buffers, MACs from FlopCounterMode and activation bytes
from forward hooks), in eval mode, and in training mode for a few (GoogLeNet's train-only aux heads then run).

Inputs are small where the spec allows (at least its min_input; the adaptive pools keep the classifiers'
sizes), some non-square; LeNet-5 and NiN run at their own input (NiN's final 7x7 average pool expects it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from truth import assert_static_equals_measured

import archspec
import archspec.specs

BUNDLED = sorted(path.stem for path in Path(archspec.specs.__file__).parent.glob("*.yaml"))
BATCH = 2
VGG_INPUT = [3, 32, 48]
INPUTS: dict[str, list[int] | None] = {
    "alexnet": [3, 64, 80],
    "alexnet_original": [3, 99, 99],
    "densenet121": [3, 64, 64],
    "efficientnet_b0": [3, 64, 48],
    "efficientnet_v2_s": [3, 48, 64],
    "googlenet": [3, 64, 64],
    "gpt_tiny": None,  # integer tokens; its positional tensor takes exactly its context
    "lenet5": None,
    "mobilenet_v1": [3, 64, 64],
    "mobilenet_v2": [3, 64, 48],
    "mobilenet_v3_large": [3, 64, 64],
    "mobilenet_v3_small": [3, 48, 64],
    "nin": None,
    "resnet18": [3, 64, 64],
    "resnet34": [3, 64, 64],
    "resnet50": [3, 64, 64],
    "resnet50_slim": [3, 64, 48],
    "resnet101": [3, 64, 64],
    "resnet152": [3, 64, 64],
    "resnext50_32x4d": [3, 64, 64],
    "shufflenet_v2_x1_0": [3, 64, 48],
    "unet": [1, 32, 48],
    "vgg11": VGG_INPUT,
    "vgg11_bn": VGG_INPUT,
    "vgg13": VGG_INPUT,
    "vgg13_bn": VGG_INPUT,
    "vgg16": VGG_INPUT,
    "vgg16_bn": VGG_INPUT,
    "vgg19": VGG_INPUT,
    "vgg19_bn": VGG_INPUT,
}
# One of each family in the default run; the rest (0.5-2 s each: large classifiers to initialise, deep
# graphs) in the slow set
FAST = {
    *("lenet5", "nin", "alexnet_original", "mobilenet_v1", "mobilenet_v3_small"),
    *("resnet18", "resnet50_slim", "googlenet", "vgg11_bn", "gpt_tiny", "shufflenet_v2_x1_0"),
}
TRAIN = [
    *("resnet18", "googlenet", "mobilenet_v1", "mobilenet_v3_small", "densenet121", "efficientnet_b0"),
    "shufflenet_v2_x1_0",
]
TRAIN_FAST = {"resnet18", "googlenet"}


def _params(names, fast):
    return [name if name in fast else pytest.param(name, marks=pytest.mark.slow) for name in names]


def test_every_bundled_spec_is_covered():
    assert set(INPUTS) == set(BUNDLED)
    assert len(BUNDLED) >= 23


def _input(name: str) -> list[int] | None:
    shape = INPUTS[name]
    if shape is not None:
        minimum = archspec.analyze(name).min_input
        assert len(shape) == len(minimum) and all(s >= m for s, m in zip(shape, minimum, strict=True)), minimum
    return shape


@pytest.mark.parametrize("name", _params(BUNDLED, FAST))
def test_static_equals_measured_at_batch_2(name):
    report = assert_static_equals_measured(name, _input(name), batch=BATCH)
    assert report.input_shape[0] == report.output_shape[0] == BATCH
    assert [output["name"] for output in report.outputs] == ["output"]  # eval mode: no aux outputs


@pytest.mark.parametrize("name", _params(TRAIN, TRAIN_FAST))
def test_static_equals_measured_at_batch_2_in_training_mode(name):
    report = assert_static_equals_measured(name, _input(name), batch=BATCH, train=True)
    expected = ["output", "aux1", "aux2"] if name == "googlenet" else ["output"]
    assert [output["name"] for output in report.outputs] == expected
