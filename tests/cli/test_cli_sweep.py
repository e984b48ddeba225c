"""``archspec sweep``: every combination of ``--set`` values is one row holding the numbers of a separate
``archspec check --set`` run (the ground truth here), invalid combinations are rows with their located error,
``--jobs`` gives the same rows, and no torch is imported."""

from __future__ import annotations

import csv
import io
import json

import pytest
from clitools import bundled_text, cli_runner, position, run_cli, subprocess_env, write_spec
from test_cli_torch_free import BLOCKER

from archspec.commands.shared import UsageError
from archspec.commands.sweep import parse_sweep

UNET = ["unet", "--set", "width=4,8", "--set", "num_classes=2,3", "--input", "1,32,32"]
# check's report fields that a sweep row repeats under the same names
ROW_FIELDS = ("input_shape", "min_input", "receptive_field")


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def checked(cli, spec: str, *options: str) -> dict:
    """The JSON report of a separate ``archspec check`` run."""
    code, out, err = cli("check", spec, "--format", "json", *options)
    assert code == 0, err
    return json.loads(out)


def assert_row_is_check(cli, row: dict, spec: str, *options: str) -> None:
    sets = [part for key, value in row["settings"].items() for part in ("--set", f"{key}={json.dumps(value)}")]
    report = checked(cli, spec, *sets, *options)
    assert row["error"] is None
    for key, value in report["totals"].items():
        assert row[key] == value, key
    for key in ROW_FIELDS:
        assert row[key] == report[key], key
    assert row["output_shape"] == report["outputs"][0]["shape"]
    assert row["name"] == report["name"]


def test_json_rows_hold_the_numbers_of_separate_check_runs(cli):
    code, out, err = cli("sweep", *UNET, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    rows = document["rows"]
    # every combination once, the last --set varying fastest
    assert [row["settings"] for row in rows] == [
        {"width": 4, "num_classes": 2},
        {"width": 4, "num_classes": 3},
        {"width": 8, "num_classes": 2},
        {"width": 8, "num_classes": 3},
    ]
    assert document["sweep"] == {"width": [4, 8], "num_classes": [2, 3]}
    for row in rows:
        assert_row_is_check(cli, row, "unet", "--input", "1,32,32")
    assert len({row["params"] for row in rows}) == 4  # the settings reach the network


def test_batch_and_train_reach_every_row(cli):
    code, out, err = cli(
        "sweep", "vgg11", "--set", "batchnorm=false,true", "--batch", "4", "--train", "--format", "json"
    )
    assert code == 0, err
    for row in json.loads(out)["rows"]:
        assert_row_is_check(cli, row, "vgg11", "--batch", "4", "--train")


def test_jobs_spread_over_processes_give_the_same_rows(cli):
    code, serial, err = cli("sweep", *UNET, "--format", "json")
    assert code == 0, err
    code, parallel, err = cli("sweep", *UNET, "--format", "json", "--jobs", "3")
    assert code == 0, err
    assert json.loads(parallel) == json.loads(serial)


def test_an_invalid_combination_is_a_row_with_its_located_error(cli):
    code, out, _ = cli("sweep", "lenet5", "--set", "num_classes=10,0,3", "--format", "json")
    assert code == 1  # some combination is invalid
    rows = json.loads(out)["rows"]
    assert [row["error"] is None for row in rows] == [True, False, True]
    assert_row_is_check(cli, rows[0], "lenet5")
    assert_row_is_check(cli, rows[2], "lenet5")
    # the error is check's own, located in the bundled spec
    check_code, _, check_err = cli("check", "lenet5", "--set", "num_classes=0")
    assert check_code == 1
    assert rows[1]["error"]["message"] == check_err.strip()
    line, column = position(bundled_text("lenet5"), "$num_classes")
    diagnostic = rows[1]["error"]["diagnostics"][0]
    assert diagnostic["source"] == f"<archspec>/specs/lenet5.yaml:{line}:{column}"
    assert "num_classes = 0 from --set" in diagnostic["message"]


def test_table_lists_settings_numbers_and_errors(cli):
    code, out, err = cli("sweep", "lenet5", "--set", "num_classes=10,0")
    assert code == 1
    report = checked(cli, "lenet5")
    assert f"{report['totals']['params']:,}" in out
    assert "16x16" in out  # the receptive field
    assert "invalid: see error 1 below" in out
    assert "1. num_classes=0: <archspec>/specs/lenet5.yaml:" in out
    assert "training-memory" in out  # the memory columns say what they are
    assert "Traceback" not in err


def test_csv_rows_hold_the_check_numbers(cli):
    code, out, err = cli("sweep", *UNET, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4
    for row in rows:
        report = checked(
            cli,
            "unet",
            "--set",
            f"width={row['width']}",
            "--set",
            f"num_classes={row['num_classes']}",
            "--input",
            "1,32,32",
        )
        for key, value in report["totals"].items():
            assert int(row[key]) == value, key
        assert row["min_input"] == "x".join(map(str, report["min_input"]))
        assert row["error"] == ""


def test_values_are_yaml_with_lists_in_brackets():
    assert parse_sweep(["a=1,2.5,true,x"]) == {"a": [1, 2.5, True, "x"]}
    assert parse_sweep(["k=[3,3],[5,5]"]) == {"k": [[3, 3], [5, 5]]}
    assert parse_sweep(["s='a,b',c"]) == {"s": ["a,b", "c"]}
    assert parse_sweep(["one=7"]) == {"one": [7]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lenet5"], "at least one --set"),
        (["lenet5", "--set", "num_classes=1", "--set", "num_classes=2"], "given twice"),
        (["lenet5", "--set", "num_classes="], "no values"),
        (["lenet5", "--set", "novalue"], "expects KEY=V1,V2"),
        (["lenet5", "--set", "a={", "--set", "b=1"], "not valid YAML"),
        (
            ["lenet5", "--set", "a=" + ",".join(map(str, range(101))), "--set", "b=" + ",".join(map(str, range(100)))],
            "10,100 combinations",
        ),
        (["lenet5", "--set", "num_classes=2", "--input", "a,b"], "--input expects numbers"),
    ],
)
def test_usage_errors(cli, argv, message):
    code, out, err = cli("sweep", *argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_a_missing_spec_is_one_error_not_a_row_each(cli):
    code, out, err = cli("sweep", "nosuch.yaml", "--set", "a=1,2")
    assert code == 1
    assert out == ""
    assert err.count("error:") == 1 and "no such file" in err


def test_a_spec_from_standard_input_in_worker_processes(tmp_path):
    text = bundled_text("lenet5")
    result = run_cli("sweep", "-", "--set", "num_classes=4,5", "--jobs", "2", "--format", "json", stdin=text)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    path = write_spec(tmp_path, text, "lenet.yaml")
    for row, classes in zip(rows, (4, 5), strict=True):
        check = run_cli("check", str(path), "--set", f"num_classes={classes}", "--format", "json")
        assert check.returncode == 0, check.stderr
        assert row["params"] == json.loads(check.stdout)["totals"]["params"]


def test_sweep_never_imports_torch_not_even_in_its_workers(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)  # blocks torch in every process, workers included
    env = subprocess_env(tmp_path)
    result = run_cli("sweep", *UNET, "--jobs", "2", "--format", "json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(json.loads(result.stdout)["rows"]) == 4
    blocked = run_cli("build", "lenet5", "-q", env=env, cwd=tmp_path)
    assert blocked.returncode != 0  # the blocker is active there: building needs torch


def test_parse_sweep_refuses_an_empty_key():
    with pytest.raises(UsageError, match="expects KEY=V1,V2"):
        parse_sweep(["=1,2"])
