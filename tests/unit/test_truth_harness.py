"""The ground-truth harness itself (tests/truth.py): its per-module measurements on a hand-written torch
module equal hand-computed numbers, and its per-row comparison fails when any one number of one row of a
report is off — so the per-layer checks of every caller can fail."""

from __future__ import annotations

import copy

import pytest
from torch import nn
from truth import assert_layers_equal_measured, measure, static_and_measured


class Plain(nn.Module):
    """A hand-written module (not compiled by archspec) with a nested container and repeated child names."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)  # 4·8·8 outputs × 3·3·3 = 6912 MACs
        self.act = nn.ReLU()
        self.inner = nn.Sequential(
            nn.Conv2d(4, 2, 1, bias=False),  # 2·8·8 × 4 = 512 MACs
            nn.BatchNorm2d(2),
            nn.Flatten(),
            nn.Sequential(nn.Linear(128, 5)),
        )  # 5 × 128 = 640 MACs

    def forward(self, x):
        return self.inner(self.act(self.conv(x)))


def test_per_module_measurements_of_a_hand_written_module():
    truth = measure(Plain(), [2, 3, 8, 8])
    # FlopCounterMode's per-module counts (keyed 'Plain.inner.0' etc.), halved; batch 2
    assert truth.module_macs == {
        "": 2 * 8064,
        "conv": 2 * 6912,
        "act": 0,
        "inner": 2 * 1152,
        "inner.0": 2 * 512,
        "inner.1": 0,
        "inner.2": 0,
        "inner.3": 2 * 640,
        "inner.3.0": 2 * 640,
    }
    assert truth.macs == 2 * 8064
    assert truth.module_params == {
        "": 112 + 8 + 4 + 645,
        "conv": 112,
        "act": 0,
        "inner": 8 + 4 + 645,
        "inner.0": 8,
        "inner.1": 4,
        "inner.2": 0,
        "inner.3": 645,
        "inner.3.0": 645,
    }
    assert truth.module_buffers["inner.1"] == truth.module_buffers[""] == 2 + 2 + 1
    assert truth.leaves == {"conv", "act", "inner.0", "inner.1", "inner.2", "inner.3.0"}
    leaf_elements = {
        "conv": 2 * 4 * 64,
        "act": 2 * 4 * 64,
        "inner.0": 2 * 2 * 64,
        "inner.1": 2 * 2 * 64,
        "inner.2": 2 * 128,
        "inner.3.0": 2 * 5,
    }
    assert truth.leaf_activation_bytes == {path: 4 * n for path, n in leaf_elements.items()}
    assert truth.activation_bytes("inner") == 4 * (2 * 2 * 64 * 2 + 2 * 128 + 2 * 5)
    assert truth.activation_bytes("") == 4 * sum(leaf_elements.values())


def test_a_module_run_twice_is_refused():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.act(x))

    with pytest.raises(AssertionError):
        measure(Twice(), [1, 3])


SPEC = {
    "archspec": 1,
    "name": "harness",
    "input": [3, 8, 8],
    "layers": [
        {"conv": {"out": 4, "kernel": 3, "padding": 1}},
        "relu",
        {"residual": {"out": 6, "stride": 2}},
        {"head": {"train_only": True, "layers": ["global_avgpool", "flatten", {"linear": {"out": 3}}]}, "name": "aux"},
        "global_avgpool",
        "flatten",
        {"linear": {"out": 5}},
    ],
}


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_the_unchanged_report_passes(train):
    report, truth = static_and_measured(SPEC, batch=2, train=train)
    assert_layers_equal_measured(report, truth)


@pytest.mark.parametrize("field", ["params", "trainable_params", "buffers", "macs", "activation_bytes"])
def test_one_wrong_number_in_one_row_fails(field):
    report, truth = static_and_measured(SPEC, batch=2, train=True)
    candidates = [row for row in report.layers if getattr(row, field) > 0]
    assert candidates
    for row in (candidates[0], candidates[-1]):
        broken = copy.deepcopy(report)
        target = broken.layer(row.path)
        setattr(target, field, getattr(target, field) + 1)
        with pytest.raises(AssertionError, match=row.path.replace(".", r"\.")):
            assert_layers_equal_measured(broken, truth)


def test_train_only_rows_are_compared_in_training_mode():
    """In eval mode the aux head's layers do not run; their MACs are checked in the training-mode run."""
    report, truth = static_and_measured(SPEC, batch=2, train=True)
    linear = report.layer("aux.2")
    assert linear.train_only and linear.macs == truth.module_macs["aux.2"] == 2 * 6 * 3
    broken = copy.deepcopy(report)
    broken.layer("aux.2").macs += 1
    with pytest.raises(AssertionError, match=r"aux\.2"):
        assert_layers_equal_measured(broken, truth)
