"""``archspec explain SPEC [--set ...] [--input ...] [-o FILE]``: the expanded spec as a spec file, held to separate
``archspec check`` runs of the original and of the written file; torch-free; errors located, usage errors exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from clitools import run_cli, subprocess_env, write_spec
from test_cli_torch_free import BLOCKER


def check_json(*args: str) -> dict:
    result = run_cli("check", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    report["layers"] = [
        {key: value for key, value in row.items() if key != "source" and (key != "op" or row["leaf"])}
        for row in report["layers"]
    ]
    report["warnings"] = [(w["module"], w["message"]) for w in report["warnings"]]
    return report


@pytest.mark.parametrize(
    "options",
    [
        ["vgg16", "--set", "num_classes=10", "--set", "batchnorm=true", "--input", "3,64,64"],
        ["googlenet"],
        ["gpt_tiny", "--set", "context=32"],
    ],
)
def test_the_written_spec_checks_as_the_original(tmp_path, options):
    out = tmp_path / "explained.yaml"
    result = run_cli("explain", *options, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == f"wrote {out}\n"
    expected = check_json(*options)
    actual = check_json(str(out))
    assert actual == expected
    # Standard output holds the same text as the file.
    printed = run_cli("explain", *options)
    assert printed.returncode == 0 and printed.stdout == out.read_text(encoding="utf-8")


def test_the_header_says_what_was_explained():
    text = run_cli("explain", "lenet5", "--set", "num_classes=7", "--input", "1,40,40").stdout
    lines = text.splitlines()
    assert lines[0] == "# archspec explain lenet5: the spec expanded for the input [1, 40, 40]."
    assert lines[1] == "# --set num_classes=7"
    assert "input: [1, 40, 40]" in lines and "- linear: {out: 7, bias: true}" in lines
    assert "params:" not in text and "$" not in text


def test_a_spec_from_standard_input(tmp_path):
    spec = "archspec: 1\nname: tiny\ninput: [3, 8, 8]\nparams: {w: 5}\nlayers:\n  - conv: {out: $w, kernel: 3}\n"
    result = run_cli("explain", "-", stdin=spec)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# archspec explain <stdin>:")
    assert "- conv: {out: 5, kernel: 3, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true" in result.stdout


def test_explain_never_imports_torch():
    code = (
        BLOCKER
        + "import contextlib, io\nfrom archspec.cli import main\nout = io.StringIO()\n"
        + "with contextlib.redirect_stdout(out):\n    code = main(['explain', 'resnet18'])\n"
        + "print(code, _NoTorch.attempts, sorted(m for m in sys.modules if m.split('.')[0] == 'torch'), "
        + "len(out.getvalue()) > 1000)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 [] [] True"


def test_an_invalid_spec_is_a_located_error(tmp_path):
    path = write_spec(tmp_path, "archspec: 1\nname: bad\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 9}\n")
    result = run_cli("explain", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:5:") and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_override_error_says_it_came_from_set():
    result = run_cli("explain", "lenet5", "--set", "num_classes=0")
    assert result.returncode == 1
    assert "(num_classes = 0 from --set)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lenet5", "-o", "/no/such/folder/x.yaml"], "--output /no/such/folder/x.yaml: the directory"),
        (["lenet5", "--input", "1,32"], "--input 1,32 has 1 spatial dims but lenet5 is written for 2"),
    ],
)
def test_usage_errors(args, message):
    result = run_cli("explain", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
