"""archspec.summary (issue 13 §2) is called as torchinfo.summary is and returns the report: the same numbers as
torchinfo on torchvision's network for the same call, the same table as a separate `archspec check` run prints,
and a notebook rendering at its depth. Argument checking: tests/property/test_api_argument_properties.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torchinfo
import torchvision

import archspec

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``archspec ARGS`` in a separate process: the ground truth for what summary prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "archspec.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_the_same_call_as_torchinfo_gives_torchinfo_s_parameters_and_shapes():
    """torchinfo.summary(model, input_size=(N, C, H, W), depth=1) and archspec.summary(spec, ...) with the same
    arguments: total and trainable parameters, and each top-level module's output size (torchvision flattens
    with a function, the spec with the module '9')."""
    call = {"input_size": (2, 3, 64, 80), "depth": 1, "verbose": 0}
    measured = torchinfo.summary(torchvision.models.resnet18(), **call)
    report = archspec.summary("resnet18", **call)
    assert report.totals.params == measured.total_params
    assert report.totals.trainable_params == measured.trainable_params
    shapes = {layer.var_name: layer.output_size for layer in measured.summary_list if layer.depth == 1}
    assert {row.path: row.output_shape for row in report.shown_layers(1) if row.path != "9"} == shapes


def test_batch_dim_0_reads_input_size_without_the_batch():
    call = {"input_size": (3, 96, 96), "batch_dim": 0, "verbose": 0}
    measured = torchinfo.summary(torchvision.models.vgg11(), **call)
    report = archspec.summary("vgg11", **call)
    assert report.input_shape == [1, 3, 96, 96] and report.totals.params == measured.total_params
    assert report.output_shape == measured.summary_list[-1].output_size


@pytest.mark.parametrize(
    ("spec", "call", "argv"),
    [
        (
            "resnet18",
            {"input_size": (2, 3, 64, 64), "depth": 1},
            ["--input", "3,64,64", "--batch", "2", "--depth", "1"],
        ),
        (
            "googlenet",
            {"input_size": [(1, 3, 96, 96)], "mode": "train"},
            ["--input", "3,96,96", "--train", "--depth", "3"],
        ),
        ("lenet5", {"depth": 0}, ["--depth", "0"]),
        ("gpt_tiny", {"input_size": (3, 64), "depth": None}, ["--input", "64", "--batch", "3"]),
        ("resnet18", {"verbose": 2, "depth": 1}, []),  # verbose 2: every module, whatever the depth
    ],
)
def test_it_prints_the_table_archspec_check_prints(spec, call, argv, capsys):
    report = archspec.summary(spec, **{"verbose": 1, **call})
    printed = capsys.readouterr().out
    result = run_cli("check", spec, *argv)
    assert result.returncode == 0, result.stderr
    assert printed == result.stdout
    if call.get("verbose") != 2:  # the notebook shows the same depth, in `--format markdown`'s Markdown
        markdown = run_cli("check", spec, *argv, "--format", "markdown")
        assert report._repr_markdown_() + "\n" == markdown.stdout


def test_verbose_as_torchinfo(monkeypatch, capsys):
    """0: silent; None: printed, except in an interactive session (sys.ps1 set), as torchinfo decides."""
    archspec.summary("lenet5", verbose=0)
    assert capsys.readouterr().out == ""
    archspec.summary("lenet5")
    assert capsys.readouterr().out.startswith("=")
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    report = archspec.summary("lenet5")
    assert capsys.readouterr().out == ""
    assert report.display_depth == 3


@pytest.mark.parametrize(
    ("argument", "value", "said"),
    [
        ("input_data", [0.0], "no forward pass"),
        ("col_names", ("output_size", "num_params"), "fixed columns"),
        ("device", "cuda", "no device"),
        ("dtypes", ["float16"], "float32"),
        ("row_settings", ("var_names",), "module tree"),
        ("col_width", 30, "contents"),
        ("cache_forward_pass", True, "no forward pass"),
        ("x", 1, "forward"),  # a keyword torchinfo would pass to forward
    ],
)
def test_torchinfo_s_other_arguments_are_refused_by_name(argument, value, said):
    with pytest.raises(archspec.ArgumentError) as caught:
        archspec.summary("lenet5", **{argument: value}, verbose=0)
    assert (caught.value.function, caught.value.argument) == ("summary", argument)
    assert said in str(caught.value) and str(caught.value).startswith(f"archspec.summary: error: {argument}: ")


def test_input_size_of_another_rank_names_input_size():
    with pytest.raises(archspec.ArgumentError) as caught:
        archspec.summary("resnet18", (1, 3, 32), verbose=0)
    assert caught.value.argument == "input_size"
    assert "input_size=[1, 3, 32], after its batch size, has 1 spatial dims" in str(caught.value)
