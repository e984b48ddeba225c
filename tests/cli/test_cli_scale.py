"""Named scales (issue 13 §1): ``--scale NAME`` on check, explain, sweep and diff, ``archspec.load(scale=)``.
A scale is a named set of param values: its report equals separate ``check --set`` runs of those values."""

from __future__ import annotations

import json

import pytest
from clitools import run_cli, write_spec

import archspec
from archspec.errors import SpecError

SPEC = """archspec: 1
name: scaled
input: [3, 32, 32]
params: {width: 16, depth: 1, divisor: 8}
scales:
  n: {width: 8, depth: 1}
  s: {width: 24, depth: 2}
layers:
  - conv: {out: "${max(divisor, floor(width * 1.3 + divisor / 2) // divisor * divisor)}", kernel: 3}
    repeat: $depth
  - global_avgpool
  - linear: {out: 10}
"""


def report(*args: str) -> dict:
    result = run_cli("check", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def without_scale(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("scale",)}


@pytest.mark.parametrize(("scale", "sets"), [("n", ["width=8", "depth=1"]), ("s", ["width=24", "depth=2"])])
def test_a_scale_reports_what_its_values_as_set_overrides_report(tmp_path, scale, sets):
    spec = str(write_spec(tmp_path, SPEC))
    scaled = report(spec, "--scale", scale)
    assert scaled["scale"] == scale
    separate = report(spec, *(arg for pair in sets for arg in ("--set", pair)))
    assert separate["scale"] is None
    assert without_scale(scaled) == without_scale(separate)
    assert scaled["totals"] != report(spec)["totals"]  # the scale changed the network


def test_mobilenet_v2_scale_is_its_width_set(tmp_path):
    scaled = report("mobilenet_v2", "--scale", "x0_5")
    assert without_scale(scaled) == without_scale(report("mobilenet_v2", "--set", "width=0.5"))
    assert "mobilenet_v2 (scale x0_5)" in run_cli("check", "mobilenet_v2", "--scale", "x0_5", "--depth", "0").stdout


def test_set_wins_over_the_scale_for_the_same_param(tmp_path):
    spec = str(write_spec(tmp_path, SPEC))
    both = report(spec, "--scale", "s", "--set", "width=8")
    assert both["scale"] == "s"
    assert without_scale(both) == without_scale(report(spec, "--set", "width=8", "--set", "depth=2"))


def test_an_unknown_scale_is_a_located_error_listing_the_scales(tmp_path):
    spec = write_spec(tmp_path, SPEC)
    result = run_cli("check", str(spec), "--scale", "m")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{spec}:5:1: error: scales: unknown scale 'm'" in result.stderr
    assert "the spec's scales: n, s" in result.stderr
    close = run_cli("check", str(spec), "--scale", "ss").stderr
    assert "did you mean 's'?" in close
    none = run_cli("check", "lenet5", "--scale", "n")
    assert none.returncode == 1 and "unknown scale 'n': the spec declares no scales" in none.stderr


def test_a_scale_that_sets_no_param_is_an_error_at_its_key(tmp_path):
    spec = write_spec(tmp_path, SPEC.replace("n: {width: 8, depth: 1}", "n: {widht: 8, depth: 1}"))
    result = run_cli("check", str(spec))
    assert result.returncode == 1
    assert "scales.n.widht: scale 'n' sets 'widht', which is not a param — did you mean 'width'?" in result.stderr


def test_sweep_and_explain_take_the_scale(tmp_path):
    spec = str(write_spec(tmp_path, SPEC))
    sweep = run_cli("sweep", spec, "--scale", "s", "--set", "divisor=8,24", "--format", "json")
    assert sweep.returncode == 0, sweep.stderr
    document = json.loads(sweep.stdout)
    assert document["scale"] == "s"
    for row in document["rows"]:
        divisor = f"divisor={row['settings']['divisor']}"
        separate = report(spec, "--set", "width=24", "--set", "depth=2", "--set", divisor)
        assert (row["params"], row["macs"]) == (separate["totals"]["params"], separate["totals"]["macs"])
    assert document["rows"][0]["params"] != document["rows"][1]["params"]
    explained = run_cli("explain", spec, "--scale", "s")
    assert explained.returncode == 0, explained.stderr
    assert "# --scale s" in explained.stdout
    path = write_spec(tmp_path, explained.stdout, "explained.yaml")
    assert report(str(path))["totals"] == report(spec, "--set", "width=24", "--set", "depth=2")["totals"]


def test_load_takes_the_scale_and_checks_it():
    assert archspec.load("mobilenet_v2", scale="x0_75").params["width"] == 0.75
    assert archspec.load("mobilenet_v2").scale is None
    with pytest.raises(SpecError, match="unknown scale 'x9'"):
        archspec.load("mobilenet_v2", scale="x9")
    with pytest.raises(SpecError, match="scale"):
        archspec.load("mobilenet_v2", scale=0.5)
    with pytest.raises(SpecError, match="scale"):
        archspec.load(archspec.load("mobilenet_v2"), scale="x0_5")


def test_diff_applies_the_scale_to_both_sides():
    same = run_cli("diff", "mobilenet_v2", "--scale", "x0_5", "--set-b", "width=0.5")
    assert same.returncode == 0, same.stdout + same.stderr
    differ = run_cli("diff", "mobilenet_v2", "--scale", "x0_5", "--set-b", "width=0.75", "--format", "json")
    assert differ.returncode == 1
    totals = json.loads(differ.stdout)
    assert report("mobilenet_v2", "--set", "width=0.5")["totals"]["params"] == totals["a"]["totals"]["params"]
