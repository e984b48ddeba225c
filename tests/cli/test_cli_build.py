"""``archspec build``: the report formats, --input / --batch / --set, --verify and --save (DESIGN.md §4).

Expected figures come from REFERENCE.md (LeNet-5: 61,706 parameters, 416,520 MACs), from the conv / linear
formulas of REFERENCE.md §2-3, or from torch itself — never from archspec's own output.
"""

from __future__ import annotations

import json

import pytest
import torch
from clitools import cli_runner, run_cli

import archspec
from archspec.api import load_checkpoint

LENET_PATHS = ["c1", "s2", "c3", "s4", "c5", "f6", "output"]
LENET_PARAMS, LENET_MACS = 61_706, 416_520

TOP_KEYS = {"name", "input_shape", "outputs", "totals", "receptive_field", "min_input", "layers"}
TOTAL_KEYS = {"params", "trainable_params", "buffers", "macs", "activation_bytes", "param_bytes"}
LAYER_KEYS = {"path", "op", "leaf", "depth", "output_shape", "params", "macs", "rf"}


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def build_json(cli, *args: str) -> dict:
    code, out, err = cli("build", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_table_lists_layer_paths_and_totals(cli):
    code, out, err = cli("build", "lenet5")
    assert code == 0, err
    for path in LENET_PATHS:
        assert any(line.split() and line.split()[0] == path for line in out.splitlines()), path
    assert "61,706" in out
    assert "416,520" in out
    assert "Traceback" not in err


def test_json_report_has_the_documented_keys(cli):
    report = build_json(cli, "lenet5")
    # DESIGN.md §4 names these keys; extra keys (batch, conventions, ...) may be added beside them.
    assert set(report) >= TOP_KEYS
    assert set(report["totals"]) == TOTAL_KEYS
    assert report["name"] == "lenet5"
    assert report["input_shape"] == [1, 1, 32, 32]
    assert report["outputs"] == [{"name": "output", "shape": [1, 10]}]
    assert report["totals"]["params"] == LENET_PARAMS
    assert report["totals"]["trainable_params"] == LENET_PARAMS
    assert report["totals"]["buffers"] == 0
    assert report["totals"]["macs"] == LENET_MACS
    assert report["totals"]["param_bytes"] == 4 * LENET_PARAMS
    assert isinstance(report["min_input"], list) and len(report["min_input"]) == 3
    assert report["layers"], "layers must list every module"
    for row in report["layers"]:
        assert set(row) >= LAYER_KEYS, row
        assert isinstance(row["path"], str) and row["path"]
        assert isinstance(row["leaf"], bool)
        assert isinstance(row["depth"], int)
        assert row["output_shape"][0] == 1
    rows = {row["path"]: row for row in report["layers"]}
    assert set(LENET_PATHS) <= set(rows)
    # conv 6@5x5 on 1x32x32: 28x28 output; params 6*1*25 + 6; MACs out.numel * in * k*k.
    assert rows["c1"]["output_shape"] == [1, 6, 28, 28]
    assert rows["c1"]["params"] == 156
    assert rows["c1"]["macs"] == 6 * 28 * 28 * 25
    assert rows["c1"]["rf"]["size"] == [5, 5]
    # rf is null once no spatial dims remain (after flatten).
    assert rows["c5"]["rf"] is None
    assert rows["output"]["output_shape"] == [1, 10]


def test_json_network_receptive_field(cli):
    """DESIGN.md §4 keys; LeNet-5's final field from REFERENCE.md §5: size 16, jump 4, padding 0, start 8."""
    field = build_json(cli, "lenet5")["receptive_field"]
    assert set(field) >= {"size", "stride", "start", "padding"}
    assert field["size"] == [16, 16]
    assert field["stride"] == [4, 4]
    assert field["start"] == [8.0, 8.0]
    assert field["padding"] == [0, 0]


def test_json_layer_paths_are_submodule_paths(cli):
    report = build_json(cli, "lenet5")
    model = archspec.compile("lenet5")
    for row in report["layers"]:
        model.get_submodule(row["path"])  # raises AttributeError when the path does not exist
    assert {path for path, _ in model.named_modules() if path} == {row["path"] for row in report["layers"]}


def test_markdown(cli):
    code, out, err = cli("build", "lenet5", "--format", "markdown")
    assert code == 0, err
    assert out.lstrip().startswith("# lenet5")
    table_rows = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table_rows) >= 2 + len(LENET_PATHS)  # header, separator, one row per module
    assert any(line.startswith("|---") or line.startswith("| ---") for line in table_rows)
    for path in LENET_PATHS:
        assert any(f"`{path}`" in line for line in table_rows), path
    assert "61,706" in out


@pytest.mark.parametrize("text", ["1,64,64", "1x64x64"])
def test_input_option(cli, text):
    report = build_json(cli, "lenet5", "--input", text)
    assert report["input_shape"] == [1, 1, 64, 64]
    rows = {row["path"]: row for row in report["layers"]}
    assert rows["c1"]["output_shape"] == [1, 6, 60, 60]
    assert rows["c1"]["macs"] == 6 * 60 * 60 * 25
    assert rows["s4"]["output_shape"] == [1, 16, 13, 13]  # ((60/2) - 4) // 2
    assert rows["c5"]["params"] == 16 * 13 * 13 * 120 + 120  # the flattened width follows the input


def test_batch_scales_macs_and_activations_linearly(cli):
    one = build_json(cli, "lenet5")
    four = build_json(cli, "lenet5", "--batch", "4")
    assert four["input_shape"] == [4, 1, 32, 32]
    assert four["outputs"][0]["shape"] == [4, 10]
    assert four["totals"]["macs"] == 4 * one["totals"]["macs"] == 4 * LENET_MACS
    assert four["totals"]["activation_bytes"] == 4 * one["totals"]["activation_bytes"]
    assert four["totals"]["params"] == one["totals"]["params"]
    for a, b in zip(one["layers"], four["layers"], strict=True):
        assert b["macs"] == 4 * a["macs"]
        assert b["output_shape"] == [4, *a["output_shape"][1:]]


@pytest.mark.parametrize("num_classes", [10, 100, 3])
def test_set_override_changes_params_as_torch_counts_them(cli, num_classes):
    report = build_json(cli, "lenet5", "--set", f"num_classes={num_classes}")
    model = archspec.compile(archspec.load("lenet5", overrides={"num_classes": num_classes}))
    assert report["totals"]["params"] == sum(p.numel() for p in model.parameters())
    last = torch.nn.Linear(84, num_classes)
    assert report["totals"]["params"] == LENET_PARAMS - 850 + sum(p.numel() for p in last.parameters())
    assert report["outputs"][0]["shape"] == [1, num_classes]


def test_set_override_on_a_big_network_without_compiling(cli):
    """alexnet's last linear is 4096 -> num_classes: params drop by 4097 per class (REFERENCE §6: 61,100,840)."""
    code, out, err = cli("check", "alexnet", "--set", "num_classes=10", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["params"] == 61_100_840 - 4097 * (1000 - 10)


def test_verify(cli):
    code, out, err = cli("build", "lenet5", "--verify")
    assert code == 0, err
    assert "verif" in (out + err).lower()
    assert "disagree" not in err


def test_verify_with_batch_and_input(cli):
    code, _, err = cli("build", "lenet5", "--verify", "--input", "1,40,48", "--batch", "2", "--format", "json")
    assert code == 0, err


def test_save_then_load_checkpoint(cli, tmp_path):
    path = tmp_path / "lenet.pt"
    code, _, err = cli("build", "lenet5", "--save", str(path), "--set", "num_classes=7")
    assert code == 0, err
    assert path.is_file()
    payload = torch.load(path, weights_only=True)  # must not need pickle of arbitrary objects
    saved = payload["state_dict"]
    model = load_checkpoint(path)
    loaded = model.state_dict()
    assert list(loaded) == list(saved)
    for key, tensor in saved.items():
        assert torch.equal(loaded[key], tensor), key
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 32, 32)).shape == (2, 7)


def test_save_with_input_override(cli, tmp_path):
    path = tmp_path / "alexnet_small.pt"
    code, _, err = cli("build", "lenet5", "--save", str(path), "--input", "1,40,40")
    assert code == 0, err
    model = load_checkpoint(path)
    assert model.get_submodule("c5").in_features == 16 * 7 * 7
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 1, 40, 40)).shape == (1, 10)


@pytest.mark.slow  # a fresh process pays torch's import (several seconds here)
def test_build_as_a_real_process(tmp_path):
    path = tmp_path / "lenet.pt"
    result = run_cli("build", "lenet5", "--format", "json", "--verify", "--save", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["totals"]["params"] == LENET_PARAMS
    assert report["totals"]["macs"] == LENET_MACS
    assert "verif" in result.stderr.lower()
    state = torch.load(path, weights_only=True)["state_dict"]
    assert sum(t.numel() for t in state.values()) == LENET_PARAMS
