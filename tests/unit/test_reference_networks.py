"""The bundled classic networks against REFERENCE.md §6-7 (figures measured with torch / torchvision, never
taken from archspec), and static == measured on the compiled modules (tests/truth.py)."""

from __future__ import annotations

import pytest
from truth import assert_static_equals_measured

import archspec

# REFERENCE.md §6 (224x224, batch 1): params, buffers, MACs (= FlopCounterMode / 2).
TORCHVISION = {
    "alexnet": (61_100_840, 0, 714_188_480),
    "vgg11": (132_863_336, 0, 7_609_090_048),
    "vgg11_bn": (132_868_840, 5_512, 7_609_090_048),
    "vgg13": (133_047_848, 0, 11_308_466_176),
    "vgg16": (138_357_544, 0, 15_470_264_320),
    "vgg16_bn": (138_365_992, 8_461, 15_470_264_320),
    "vgg19": (143_667_240, 0, 19_632_062_464),
    "vgg19_bn": (143_678_248, 11_024, 19_632_062_464),
}
# REFERENCE.md §7.
LENET5_PARAMS, LENET5_MACS = 61_706, 416_520
ALEXNET_ORIGINAL_PARAMS = 62_378_344


def load(name: str):
    """The bundled spec file of that name (the ``*_bn`` files too)."""
    spec = archspec.load(name)
    assert spec.name == name
    return spec


@pytest.mark.parametrize("name", [name for name in sorted(TORCHVISION) if name.endswith("_bn")])
def test_bn_files_equal_the_plain_spec_with_batchnorm(name):
    """Each vggN_bn file is vggN with ``batchnorm: true``: the same layers, row for row."""
    bundled = archspec.analyze(name).to_dict()
    overridden = archspec.analyze(archspec.load(name.removesuffix("_bn"), overrides={"batchnorm": True})).to_dict()
    for row in bundled["layers"] + overridden["layers"]:
        row.pop("source")
    assert bundled["layers"] == overridden["layers"]
    assert bundled["totals"] == overridden["totals"]


def test_lenet5():
    report = archspec.analyze("lenet5")
    assert report.input_shape == [1, 1, 32, 32]
    assert report.output_shape == [1, 10]
    assert report.totals.params == LENET5_PARAMS
    assert report.totals.trainable_params == LENET5_PARAMS
    assert report.totals.buffers == 0
    assert report.totals.macs == LENET5_MACS
    assert report.totals.param_bytes == 4 * LENET5_PARAMS


def test_alexnet_original():
    report = archspec.analyze("alexnet_original")
    assert report.input_shape == [1, 3, 227, 227]
    assert report.output_shape == [1, 1000]
    assert report.totals.params == ALEXNET_ORIGINAL_PARAMS
    assert report.totals.buffers == 0


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_figures_at_224(name):
    params, buffers, macs = TORCHVISION[name]
    report = archspec.analyze(load(name))
    assert report.input_shape == [1, 3, 224, 224]
    assert report.output_shape == [1, 1000]
    assert report.totals.params == params
    assert report.totals.trainable_params == params
    assert report.totals.buffers == buffers
    assert report.totals.macs == macs


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_macs_scale_with_batch(name):
    one = archspec.analyze(load(name))
    eight = archspec.analyze(load(name), batch=8)
    assert eight.totals.macs == 8 * one.totals.macs
    assert eight.totals.params == one.totals.params


def test_lenet5_static_equals_measured():
    report = assert_static_equals_measured("lenet5")
    assert report.totals.params == LENET5_PARAMS
    assert report.totals.macs == LENET5_MACS


@pytest.mark.parametrize("batch", [1, 3])
def test_lenet5_static_equals_measured_batched(batch):
    assert_static_equals_measured("lenet5", batch=batch)


def test_alexnet_original_static_equals_measured():
    report = assert_static_equals_measured("alexnet_original")
    assert report.totals.params == ALEXNET_ORIGINAL_PARAMS


def test_alexnet_static_equals_measured_small_input():
    assert_static_equals_measured("alexnet", [3, 64, 64], batch=2)


# Building the big VGGs costs ~1.5 s each (the 102M-parameter classifier), so only a few run by default.
FAST_SMALL = {"vgg16_bn"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=() if name in FAST_SMALL else pytest.mark.slow)
        for name in sorted(TORCHVISION)
        if name != "alexnet"
    ],
)
def test_vgg_static_equals_measured_at_32(name):
    report = assert_static_equals_measured(load(name), [3, 32, 32])
    assert report.totals.params == TORCHVISION[name][0]  # the adaptive pool keeps the classifier's size
    assert report.totals.buffers == TORCHVISION[name][1]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_static_equals_measured_at_224(name):
    report = assert_static_equals_measured(load(name))
    assert (report.totals.params, report.totals.buffers, report.totals.macs) == TORCHVISION[name]


@pytest.mark.slow
def test_lenet5_and_alexnet_original_in_training_mode():
    assert_static_equals_measured("lenet5", batch=2, train=True)
    assert_static_equals_measured("alexnet_original", batch=2, train=True)
