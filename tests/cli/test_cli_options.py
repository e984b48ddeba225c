"""The analysis options ``check`` and ``build`` share (--quiet, --depth, --format json with several specs),
SPEC as ``-`` (standard input), and output paths that cannot be written (a usage error, found before
compiling)."""

from __future__ import annotations

import io
import json
import os
import re

import pytest
from clitools import cli_runner, position, run_cli, write_spec

import archspec.api

HEADER = "archspec: 1\nname: piped\ninput: [3, 8, 8]\n"
PIPED = HEADER + "layers:\n  - conv: {out: 4, kernel: 3}\n  - relu\n"
BROKEN = HEADER + "layers:\n  - conv: {out: 4, kernel: 3}\n  - reul\n"


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture
def no_compile(monkeypatch):
    """Make compiling fail loudly: a usage error must be found before the (slow) compile."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("compile must not run")

    monkeypatch.setattr(archspec.api, "compile", refuse)


def stdin_with(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8"))


def table_paths(out: str) -> list[str]:
    """The first cell of every layer row of a table (the rows between the header's rule and the next rule)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Layer (path)")) + 2
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("="))
    return [line.split()[0] for line in lines[start:end]]


# -- --save / --output paths: exit 2 before compiling --------------------------------------------------------


@pytest.mark.parametrize("where", ["missing-directory", "file-as-directory", "directory"])
def test_bad_save_path_is_a_usage_error_before_compiling(cli, tmp_path, no_compile, where):
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_dir").mkdir()
    path = {
        "missing-directory": tmp_path / "nonexistent" / "x.pt",
        "file-as-directory": tmp_path / "a_file" / "x.pt",
        "directory": tmp_path / "a_dir",
    }[where]
    code, out, err = cli("build", "lenet5", "--save", str(path))
    assert code == 2, err
    assert out == ""  # not even the report: the path is checked first
    assert err.count("\n") == 1 and err.startswith("archspec: error: --save ")
    assert str(path) in err
    assert "internal" not in err and "Traceback" not in err


def test_unwritable_save_path_is_a_usage_error(cli, tmp_path, monkeypatch, no_compile):
    """Root may write anywhere, so the permission check is exercised by making os.access say no."""
    path = tmp_path / "x.pt"
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if os.fspath(p) == str(tmp_path) else real_access(p, mode))
    code, out, err = cli("build", "lenet5", "--save", str(path))
    assert code == 2, err
    assert out == ""
    assert str(path) in err and "permission denied" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only directories")
def test_read_only_directory_is_a_usage_error(cli, tmp_path, no_compile):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = cli("build", "lenet5", "--save", str(folder / "x.pt"))
    finally:
        folder.chmod(0o700)
    assert code == 2, err
    assert "permission denied" in err


def test_failed_write_is_reported_with_the_path(cli, tmp_path, monkeypatch):
    import archspec.backend.checkpoint

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archspec.backend.checkpoint, "save", disk_full)
    path = tmp_path / "x.pt"
    code, _, err = cli("build", "lenet5", "--save", str(path), "-q")
    assert code == 2, err
    assert f"--save {path}: cannot write the file: No space left on device" in err
    assert "internal" not in err


def test_bad_save_path_as_a_real_process(tmp_path):
    path = tmp_path / "nonexistent" / "dir" / "x.pt"
    result = run_cli("build", "lenet5", "--save", str(path))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == f"archspec: error: --save {path}: the directory {path.parent} does not exist"


def test_bad_codegen_output_is_a_usage_error(cli, tmp_path):
    path = tmp_path / "nonexistent" / "net.py"
    code, out, err = cli("codegen", "lenet5", "-o", str(path))
    assert code == 2, err
    assert out == "" and str(path) in err and "internal" not in err


# -- --quiet means the same for check and build ---------------------------------------------------------------


def test_build_quiet_prints_nothing_but_still_verifies_and_saves(cli, tmp_path):
    path = tmp_path / "lenet.pt"
    code, out, err = cli("build", "lenet5", "-q", "--verify", "--save", str(path))
    assert code == 0, err
    assert (out, err) == ("", "")
    assert path.is_file()


def test_build_quiet_still_reports_errors(cli, tmp_path):
    spec = write_spec(tmp_path, BROKEN, "broken.yaml")
    code, out, err = cli("build", str(spec), "--quiet")
    assert code == 1
    assert out == ""
    line, column = position(BROKEN, "reul")
    assert err.startswith(f"{spec}:{line}:{column}: error: ")


# -- --depth --------------------------------------------------------------------------------------------------


def test_depth_zero_prints_totals_only(cli):
    code, out, err = cli("check", "lenet5", "--depth", "0")
    assert code == 0, err
    assert "Layer (path)" not in out
    assert not any(line.split() and line.split()[0] == "c1" for line in out.splitlines())
    assert "Params: 61,706" in out and "MACs: 416,520" in out


def test_depth_limits_the_table(cli):
    code, out, err = cli("check", "resnet18", "--depth", "1")
    assert code == 0, err
    # torchvision's resnet18 top level (named_children order).
    assert table_paths(out) == [
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "9",
        "fc",
    ]
    code, out, _ = cli("check", "resnet18", "--depth", "2")
    assert table_paths(out).count("0") == 4  # each stage's first block, one level down


def test_depth_applies_to_markdown(cli):
    code, out, err = cli("check", "resnet18", "--format", "markdown", "--depth", "1")
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]  # below the header
    assert len(rows) == 11 and not any("&nbsp;" in row for row in rows)
    code, out, _ = cli("check", "resnet18", "--format", "markdown", "--depth", "0")
    assert not any(line.startswith("|") for line in out.splitlines())
    assert "11,689,512" in out


@pytest.mark.parametrize(
    "argv", [["--depth", "-1"], ["--depth", "1", "--format", "json"]], ids=["negative", "with-json"]
)
def test_depth_usage_errors(cli, no_compile, argv):
    for command in ("check", "build"):
        code, out, err = cli(command, "lenet5", *argv)
        assert code == 2, (command, err)
        assert out == "" and "--depth" in err


# -- --format json: one document ------------------------------------------------------------------------------


def test_json_for_one_spec_is_an_object(cli):
    code, out, _ = cli("check", "lenet5", "--format", "json")
    assert code == 0
    assert json.loads(out)["name"] == "lenet5"


def test_json_for_several_specs_is_an_array(cli):
    code, out, err = cli("check", "lenet5", "alexnet", "vgg11", "--format", "json")
    assert code == 0, err
    reports = json.loads(out)
    assert [report["name"] for report in reports] == ["lenet5", "alexnet", "vgg11"]
    assert reports[0]["totals"]["params"] == 61_706


def test_json_array_keeps_the_valid_reports_when_one_spec_fails(cli, tmp_path):
    spec = write_spec(tmp_path, BROKEN, "broken.yaml")
    code, out, err = cli("check", "lenet5", str(spec), "--format", "json")
    assert code == 1
    assert [report["name"] for report in json.loads(out)] == ["lenet5"]
    assert re.match(rf"^{re.escape(str(spec))}:\d+:\d+: error: ", err)


def test_json_for_several_specs_as_a_real_process():
    result = run_cli("check", "lenet5", "alexnet", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [report["name"] for report in json.loads(result.stdout)] == ["lenet5", "alexnet"]


# -- SPEC '-': standard input ---------------------------------------------------------------------------------


def test_check_reads_standard_input():
    result = run_cli("check", "-", "--format", "json", stdin=PIPED)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["name"] == "piped"
    assert report["outputs"] == [{"name": "output", "shape": [1, 4, 6, 6]}]


def test_errors_in_standard_input_are_located_as_stdin():
    result = run_cli("check", "-", stdin=BROKEN)
    assert result.returncode == 1
    line, column = position(BROKEN, "reul")
    assert result.stderr.startswith(f"<stdin>:{line}:{column}: error: "), result.stderr
    assert "did you mean 'relu'" in result.stderr


def test_build_reads_standard_input(cli, monkeypatch):
    stdin_with(monkeypatch, PIPED)
    code, out, err = cli("build", "-", "--verify", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["params"] == 4 * 3 * 9 + 4


def test_build_locates_errors_in_standard_input(cli, monkeypatch):
    stdin_with(monkeypatch, BROKEN)
    code, _, err = cli("build", "-")
    assert code == 1
    line, column = position(BROKEN, "reul")
    assert err.startswith(f"<stdin>:{line}:{column}: error: ")


def test_standard_input_only_once(cli):
    code, _, err = cli("check", "-", "lenet5", "-")
    assert code == 2
    assert "standard input" in err


# -- SPEC that is not a regular file, and bounds of the numeric options -------------------------------------


def test_a_directory_as_spec_names_the_specs_inside(cli, tmp_path):
    (tmp_path / "net.yaml").write_text(PIPED)
    code, out, err = cli("check", str(tmp_path))
    assert code == 1 and not out
    assert err == f"{tmp_path}: error: is a directory, not a spec file — name a spec file in it (net.yaml)\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_as_spec_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = run_cli("check", str(fifo), timeout=60)  # opening a FIFO with no writer would block forever
    assert result.returncode == 1
    assert result.stderr == (
        f"{fifo}: error: is not a regular file (a pipe or a device) — save the spec to a "
        "file, or pass '-' to read it from standard input\n"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "must be >= 1, got 0"), ("-5", "must be >= 1, got -5"), ("many", "expected a whole number, got 'many'")],
)
def test_max_nodes_must_be_a_positive_count(capsys, value, message):
    from archspec.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["check", "lenet5", "--max-nodes", value])
    assert exit_info.value.code == 2
    assert f"argument --max-nodes: {message}\n" in capsys.readouterr().err


def test_input_sizes_are_bounded_like_the_spec_input(cli, no_compile):
    code, out, err = cli("build", "lenet5", "--input", "1,99999999999,32")
    assert code == 2 and not out
    assert err == "archspec: error: --input sizes must be from 1 to 2,147,483,647, got '1,99999999999,32'\n"


def test_api_input_shape_is_bounded():
    with pytest.raises(archspec.api.SpecError, match=r"input_shape\[1\]: expected an int from 1 to 2,147,483,647"):
        archspec.api.analyze("lenet5", input_shape=[1, 2**40, 32])
