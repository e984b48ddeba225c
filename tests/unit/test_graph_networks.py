"""Whole-network behaviour of the bundled graph networks: receptive fields (REFERENCE.md §5), GoogLeNet's
train-only heads in the report and the CLI, and the smallest valid input checked against torch itself.

Expected values come from REFERENCE.md (the receptive-field table, verified there by a gradient probe, and
the torchvision figures of §6), from the empirical probe in ``tests/probe.py`` and from torch raising.
"""

from __future__ import annotations

import json

import pytest
import torch
from probe import receptive_span

import archspec
from archspec.cli import main

# REFERENCE §5: path -> (R, J, P); start = R/2 - P = 0.5 for every stage of torchvision's ResNets.
RESNET50_FIELDS = {"layer1": (35, 4, 17), "layer2": (91, 8, 45), "layer3": (267, 16, 133), "layer4": (427, 32, 213)}
RESNET18_LAYER4 = (435, 32, 217)
# REFERENCE §5 (Distill, Araujo et al. 2019): TF-slim's resnet_v1_50, blocks 1-4.
SLIM_FIELD_SIZES = {"block1": 35, "block2": 99, "block3": 291, "block4": 483}

GOOGLENET_MACS_224 = 1_498_376_192  # REFERENCE §6: the main path (the aux heads run only in training)
GOOGLENET_WITH_AUX_PARAMS = 13_004_888  # REFERENCE §6


def field_of(report, path):
    return report.layer(path).rf.to_dict()


# --- receptive fields -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "expected"), RESNET50_FIELDS.items())
def test_resnet50_stage_fields_equal_reference(path, expected):
    size, jump, padding = expected
    rf = field_of(archspec.analyze("resnet50"), path)
    assert (rf["kind"], rf["size"], rf["jump"], rf["padding"], rf["start"]) == (
        "exact",
        [size] * 2,
        [jump] * 2,
        [padding] * 2,
        [0.5, 0.5],
    )


def test_resnet18_layer4_field_equals_reference():
    size, jump, padding = RESNET18_LAYER4
    rf = field_of(archspec.analyze("resnet18"), "layer4")
    assert (rf["size"], rf["jump"], rf["padding"], rf["start"]) == ([size] * 2, [jump] * 2, [padding] * 2, [0.5] * 2)


def test_resnet18_network_field_in_json_report():
    """DESIGN §4: the network's field is that of its last spatial feature map (layer4 for resnet18)."""
    size, jump, padding = RESNET18_LAYER4
    field = json.loads(json.dumps(archspec.analyze("resnet18").to_dict()))["receptive_field"]
    # DESIGN §4's example names the jump "stride"; the report calls it "jump" (as the per-layer "rf" does)
    stride = field["stride"] if "stride" in field else field["jump"]
    assert (field["size"], stride, field["start"], field["padding"]) == (
        [size] * 2,
        [jump] * 2,
        [0.5] * 2,
        [padding] * 2,
    )


@pytest.mark.parametrize(("path", "size"), SLIM_FIELD_SIZES.items())
def test_resnet50_slim_block_fields_equal_distill(path, size):
    rf = field_of(archspec.analyze("resnet50_slim"), path)
    assert rf["kind"] == "exact"
    assert rf["size"] == [size, size]


@pytest.mark.parametrize(("name", "path", "index"), [("resnet50", "layer2", 8), ("resnet50_slim", "block2", 4)])
def test_stage_field_matches_gradient_probe(name, path, index):
    """Measured: the input span one output element of the stage depends on (chosen well inside the input,
    so no clipping) equals ``[iJ - P, iJ - P + R - 1]`` with the static R, J, P."""
    report = archspec.analyze(name, input_shape=[3, 128, 128])
    rf = report.layer(path).rf
    model = archspec.compile(name)
    measured = receptive_span(model, [3, 128, 128], [index, index], path=path, dtype=torch.float32)
    first = index * rf.jump[0] - rf.padding[0]
    assert first > 0 and first + rf.size[0] - 1 < 127  # an interior element: nothing clipped
    assert measured == [(first, first + rf.size[0] - 1)] * 2


# --- GoogLeNet's train-only heads in the report and the CLI ---------------------------------------------


def test_googlenet_json_outputs_in_eval_and_train():
    eval_report = archspec.analyze("googlenet").to_dict()
    train_report = archspec.analyze("googlenet", train=True).to_dict()
    assert eval_report["outputs"] == [{"name": "output", "shape": [1, 1000]}]
    assert train_report["outputs"] == [{"name": name, "shape": [1, 1000]} for name in ("output", "aux1", "aux2")]
    assert eval_report["totals"]["macs"] == GOOGLENET_MACS_224
    assert train_report["totals"]["macs"] > eval_report["totals"]["macs"]
    assert eval_report["totals"]["params"] == train_report["totals"]["params"] == GOOGLENET_WITH_AUX_PARAMS


def test_googlenet_aux_layers_are_marked_train_only():
    layers = archspec.analyze("googlenet").to_dict()["layers"]
    in_heads = [row for row in layers if row["path"].split(".")[0] in ("aux1", "aux2")]
    assert {row["path"] for row in in_heads} >= {"aux1", "aux1.conv", "aux2", "aux2.conv"}  # InceptionAux's names
    assert all(row["train_only"] for row in in_heads)
    assert not any(row["train_only"] for row in layers if row not in in_heads)
    # the head passes its input on: its row shows the main path's shape, the side output is the classifier's
    assert layers[[row["path"] for row in layers].index("aux1")]["output_shape"] == [1, 512, 14, 14]


def test_googlenet_train_macs_add_exactly_the_heads():
    eval_report = archspec.analyze("googlenet")
    train_report = archspec.analyze("googlenet", train=True)
    heads = sum(train_report.layer(path).macs for path in ("aux1", "aux2"))
    assert heads > 0
    assert train_report.totals.macs == eval_report.totals.macs + heads
    no_aux = archspec.analyze(archspec.load("googlenet", overrides={"aux_logits": False}), train=True)
    assert no_aux.totals.macs == eval_report.totals.macs


def test_cli_build_googlenet_prints_readable_report(capsys):
    assert main(["build", "googlenet"]) == 0
    out = capsys.readouterr().out
    assert "googlenet" in out
    assert "inception3a" in out and "inception5b" in out and "aux1" in out
    assert "13,004,888" in out
    assert "1,498,376,192" in out
    assert "Traceback" not in out


def test_cli_build_googlenet_json_train(capsys):
    assert main(["build", "googlenet", "--format", "json", "--train"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [output["name"] for output in report["outputs"]] == ["output", "aux1", "aux2"]
    assert report["totals"]["params"] == GOOGLENET_WITH_AUX_PARAMS


# --- smallest valid input, against torch ------------------------------------------------------------------

MIN_INPUT_SPECS = ["lenet5", "alexnet", "vgg11", "resnet18", "googlenet", "densenet121"]


@pytest.mark.parametrize("name", MIN_INPUT_SPECS)
def test_min_input_runs_and_one_less_fails_in_torch(name):
    report = archspec.analyze(name)
    smallest = report.min_input
    model = archspec.compile(name, input_shape=smallest).eval()  # linear layers sized for this input
    with torch.no_grad():
        output = model(torch.zeros(1, *smallest))
    assert list(output.shape) == archspec.analyze(name, input_shape=smallest).output_shape
    for dim in range(1, len(smallest)):
        if smallest[dim] == 1:
            continue
        shape = list(smallest)
        shape[dim] -= 1
        # torch itself rejects it (the ground truth) in a convolution or pooling layer — not merely because a
        # linear layer was sized for the larger input
        with pytest.raises(RuntimeError) as error, torch.no_grad():
            model(torch.zeros(1, *shape))
        assert "mat1 and mat2" not in str(error.value)
        with pytest.raises(archspec.SpecError):
            archspec.analyze(name, input_shape=shape)


def test_min_input_of_bundled_specs_is_small():
    """Worked out by hand: LeNet-5's last 2x2 pool needs 2 positions, the 5x5 conv before it 6, the pool
    before that 12 and the first 5x5 conv 16; resnet18's convs and pools are padded so 1x1 goes through."""
    assert archspec.analyze("lenet5").min_input == [1, 16, 16]
    assert archspec.analyze("resnet18").min_input == [3, 1, 1]


def test_too_small_ceil_mode_pool_hint_names_the_true_minimum():
    """GoogLeNet's maxpool3 (3x3, stride 2, ceil_mode) is where one less than the smallest input fails."""
    pool = torch.nn.MaxPool2d(3, 2, ceil_mode=True)
    smallest = next(size for size in range(1, 10) if _runs(pool, size))  # measured: 2
    data = {
        "archspec": 1,
        "name": "ceil_pool",
        "input": [1, 1, smallest],
        "layers": [{"maxpool": {"kernel": 3, "stride": 2, "ceil_mode": True}}],
    }
    with pytest.raises(archspec.SpecError) as error:
        archspec.analyze(data)
    assert f"at least {smallest}×{smallest}" in str(error.value)


def _runs(module: torch.nn.Module, size: int) -> bool:
    try:
        module(torch.zeros(1, 1, size, size))
    except RuntimeError:
        return False
    return True
