"""``archspec diff``: totals and differing modules of two reports, held to two separate ``archspec check`` runs
(the ground truth here: their JSON reports compared path by path in this test)."""

from __future__ import annotations

import json

import pytest
from clitools import bundled_text, cli_runner, position, run_cli, subprocess_env
from test_cli_torch_free import BLOCKER

from archspec.commands.diff import aligned

COMPARED = ("op", "input_shape", "output_shape", "params", "buffers", "macs", "activation_bytes", "rf")


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def checked(cli, spec: str, *options: str) -> dict:
    code, out, err = cli("check", spec, "--format", "json", *options)
    assert code == 0, err
    return json.loads(out)


def expected_changes(a: dict, b: dict) -> dict[str, str]:
    """path -> added/removed/changed, from two check reports."""
    a_layers = {layer["path"]: layer for layer in a["layers"]}
    b_layers = {layer["path"]: layer for layer in b["layers"]}
    changes = {path: "removed" for path in a_layers.keys() - b_layers.keys()}
    changes |= {path: "added" for path in b_layers.keys() - a_layers.keys()}
    for path in a_layers.keys() & b_layers.keys():
        if any(a_layers[path][key] != b_layers[path][key] for key in COMPARED):
            changes[path] = "changed"
    return changes


def assert_diff_is_checks(result: dict, a: dict, b: dict) -> None:
    assert result["a"]["totals"] == a["totals"]
    assert result["b"]["totals"] == b["totals"]
    for key, value in b["totals"].items():
        assert result["totals_delta"][key] == value - a["totals"][key]
    assert {layer["path"]: layer["change"] for layer in result["layers"]} == expected_changes(a, b)
    b_layers = {layer["path"]: layer for layer in b["layers"]}
    for layer in result["layers"]:
        if layer["b"] is not None:
            assert layer["b"] == {key: b_layers[layer["path"]][key] for key in COMPARED}


@pytest.mark.parametrize(
    ("argv", "a_args", "b_args"),
    [
        (["resnet18", "resnet34"], ["resnet18"], ["resnet34"]),
        (["vgg11", "vgg11_bn"], ["vgg11"], ["vgg11_bn"]),
        (
            ["unet", "--set-a", "width=8", "--set-b", "width=16", "--input", "1,32,32"],
            ["unet", "--set", "width=8", "--input", "1,32,32"],
            ["unet", "--set", "width=16", "--input", "1,32,32"],
        ),
        (  # --set applies to both sides, --set-b after it to B only
            ["lenet5", "--set", "num_classes=7", "--set-b", "num_classes=3", "--batch", "2"],
            ["lenet5", "--set", "num_classes=7", "--batch", "2"],
            ["lenet5", "--set", "num_classes=3", "--batch", "2"],
        ),
    ],
)
def test_json_diff_holds_the_numbers_of_two_check_runs(cli, argv, a_args, b_args):
    code, out, err = cli("diff", *argv, "--format", "json")
    assert code == 1, err  # they differ
    assert_diff_is_checks(json.loads(out), checked(cli, *a_args), checked(cli, *b_args))


def test_added_blocks_sit_where_b_has_them(cli):
    code, out, _ = cli("diff", "resnet18", "resnet34", "--format", "json")
    assert code == 1
    paths = [layer["path"] for layer in json.loads(out)["layers"]]
    added_top = [
        layer["path"] for layer in json.loads(out)["layers"] if layer["change"] == "added" and layer["depth"] == 2
    ]
    # resnet34 has 3, 4, 6, 3 blocks per stage where resnet18 has 2 each
    assert added_top == ["layer1.2", "layer2.2", "layer2.3", "layer3.2", "layer3.3", "layer3.4", "layer3.5", "layer4.2"]
    assert paths.index("layer1.2") < paths.index("layer2") < paths.index("layer2.2") < paths.index("layer3")


def test_table_shows_totals_and_differing_modules(cli):
    code, out, err = cli("diff", "lenet5", "--set-b", "num_classes=5")
    assert code == 1, err
    a, b = checked(cli, "lenet5"), checked(cli, "lenet5", "--set", "num_classes=5")
    delta = b["totals"]["params"] - a["totals"]["params"]
    assert f"{a['totals']['params']:,}" in out and f"{b['totals']['params']:,}" in out
    assert f"-{-delta:,}" in out
    assert "~  output" in out and "output_shape, params, macs" in out
    assert "1 modules differ" in out


def test_depth_limits_the_listed_modules(cli):
    code, out, _ = cli("diff", "resnet18", "resnet34", "--depth", "1")
    assert code == 1
    assert "layer1.2" not in out and "~  layer1 " in out
    assert "deeper ones not shown (--depth)" in out


def test_equal_reports_exit_zero(cli):
    code, out, err = cli("diff", "vgg11", "vgg11", "--set-b", "dropout=0.3")
    assert code == 0, err
    assert "No module differs" in out
    code, out, err = cli("diff", "vgg11", "--set-a", "dropout=0.1", "--set-b", "dropout=0.3", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["same"] and result["layers"] == []
    assert result["a"]["settings"] == {"dropout": 0.1} and result["b"]["settings"] == {"dropout": 0.3}


def test_an_invalid_side_is_named_with_its_located_error(cli):
    code, out, err = cli("diff", "lenet5", "--set-b", "num_classes=0")
    assert code == 1
    assert out == ""
    line, column = position(bundled_text("lenet5"), "$num_classes")
    assert err.startswith("B (lenet5 --set num_classes=0) is invalid:")
    assert f"<archspec>/specs/lenet5.yaml:{line}:{column}: error:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lenet5"], "diff needs B"),
        (["-", "-"], "one side only"),
        (["lenet5", "--set-b", "x"], "--set expects KEY=VALUE"),
        (["lenet5", "vgg11", "--depth", "1", "--format", "json"], "--depth applies to the table"),
    ],
)
def test_usage_errors(cli, argv, message):
    code, out, err = cli("diff", *argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_aligned_keeps_a_order_and_places_b_only_paths_after_their_predecessor():
    assert aligned(["a", "b", "c"], ["x", "a", "y", "b", "z"]) == ["x", "a", "y", "b", "z", "c"]
    assert aligned(["a", "b"], []) == ["a", "b"]
    assert aligned([], ["p", "q"]) == ["p", "q"]


def test_diff_never_imports_torch(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    result = run_cli("diff", "resnet18", "resnet34", "--format", "json", env=subprocess_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "blocked" not in result.stderr
    assert json.loads(result.stdout)["layers"]
