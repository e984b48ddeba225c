"""Invalid specs exit 1 with ``FILE:LINE:COL: error: ...`` pointing at the offending key or value — never a
traceback. Usage errors exit 2. The expected line and column are computed from the YAML text written here."""

from __future__ import annotations

import re

import pytest
from clitools import cli_runner, position, run_cli

HEADER = "archspec: 1\nname: broken\ninput: [3, 8, 8]\n"
SMALL_HEADER = "archspec: 1\nname: broken\ninput: [3, 3, 3]\n"
ERROR_LINE = re.compile(r"^(?P<file>\S+):(?P<line>\d+):(?P<column>\d+): error: (?P<message>.*)$")

# id, layers text (after HEADER), the text whose position the error must name (with alternatives for
# errors that may reasonably point at either of several spots), and a pattern the message must match.
CASES = [
    (
        "unknown-op",
        "layers:\n  - conv: {out: 4, kernel: 3}\n  - reul\n",
        ["reul"],
        r"unknown op 'reul'.*did you mean 'relu'",
    ),
    ("unknown-op-with-args", "layers:\n  - reul: {}\n", ["reul"], r"did you mean 'relu'"),
    ("missing-out", "layers:\n  - conv: {kernel: 3}\n", ["{kernel", "conv"], r"\bout\b"),
    ("mistyped-kernel", "layers:\n  - conv: {out: 4, kernel: 3.0}\n", ["3.0"], r"kernel.*(integer|whole)"),
    ("output-size", "layers:\n  - conv: {out: 4, kernel: 9}\n", ["{out", "9}", "conv"], r"output size"),
    (
        "output-size-3x3",
        "input: [3, 3, 3]\nlayers:\n  - conv: {out: 4, kernel: 7}\n",
        ["{out", "7}", "conv"],
        r"output size.*3",
    ),
    (
        "output-size-later",
        "layers:\n  - conv: {out: 4, kernel: 5}\n  - maxpool: {kernel: 5}\n",
        ["{kernel: 5}", "5}\n", "maxpool"],
        r"output|input",
    ),
    ("groups", "layers:\n  - conv: {out: 4, kernel: 3, groups: 2}\n", ["2}"], r"groups"),
    ("groups-out", "layers:\n  - conv: {out: 5, kernel: 3, groups: 3}\n", ["3}", "5,", "{out"], r"groups"),
    ("yaml-syntax", "layers:\n  - conv: {out: 4, kernel: 3]\n  - relu\n", ["]\n  - relu"], r"YAML"),
    ("duplicate-key", "layers:\n  - conv: {out: 4, out: 8, kernel: 3}\n", ["out", 2], r"duplicate key 'out'"),
    ("duplicate-top-key", "name: again\nlayers:\n  - relu\n", ["name", 2], r"duplicate key 'name'"),
    ("python-tag", "layers:\n  - relu: !!python/object:os.system {}\n", ["!!python"], r"tag"),
    ("python-tag-scalar", "layers:\n  - conv: {out: !!python/name:os.system 4, kernel: 3}\n", ["!!python"], r"tag"),
    ("unknown-arg", "layers:\n  - conv: {out: 4, kernal: 3}\n", ["{out", "kernal"], r"kernal|kernel"),
    ("negative-padding", "layers:\n  - conv: {out: 4, kernel: 3, padding: -1}\n", ["-1"], r"padding|-1"),
    ("zero-stride", "layers:\n  - maxpool: {kernel: 2, stride: 0}\n", ["0}"], r"stride|0"),
    ("unknown-param", "layers:\n  - conv: {out: $width, kernel: 3}\n", ["$width", "{out"], r"width"),
]


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def error_lines(stderr: str) -> list[re.Match[str]]:
    return [m for m in map(ERROR_LINE.match, stderr.splitlines()) if m]


def expected_positions(text: str, needles: list) -> set[tuple[int, int]]:
    if len(needles) == 2 and isinstance(needles[1], int):
        return {position(text, needles[0], needles[1])}
    return {position(text, needle) for needle in needles}


@pytest.mark.parametrize(
    ("layers", "needles", "pattern"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_invalid_spec_is_located(cli, tmp_path, layers, needles, pattern):
    text = layers.replace("input: [3, 3, 3]\n", SMALL_HEADER) if layers.startswith("input:") else HEADER + layers
    spec = tmp_path / "broken.yaml"
    spec.write_text(text)
    code, out, err = cli("check", str(spec))
    assert code == 1, (out, err)
    assert "Traceback" not in err
    assert re.match(r"^\S+:\d+:\d+: error: ", err), err
    found = error_lines(err)
    assert found, err
    first = found[0]
    assert first["file"].endswith("broken.yaml")
    assert (int(first["line"]), int(first["column"])) in expected_positions(text, needles), err
    assert re.search(pattern, err), err


def test_build_reports_invalid_specs_the_same_way(cli, tmp_path):
    text = HEADER + "layers:\n  - conv: {out: 4, kernel: 3}\n  - reul\n"
    spec = tmp_path / "broken.yaml"
    spec.write_text(text)
    code, _, err = cli("build", str(spec))
    assert code == 1
    line, column = position(text, "reul")
    assert err.startswith(f"{spec}:{line}:{column}: error: ")


def test_several_files_are_all_reported(cli, tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(HEADER + "layers:\n  - reul\n")
    second.write_text(HEADER + "layers:\n  - conv: {out: 4, kernel: 3.0}\n")
    code, _, err = cli("check", str(first), "lenet5", str(second), "-q")
    assert code == 1
    files = [m["file"] for m in error_lines(err)]
    assert any(f.endswith("a.yaml") for f in files) and any(f.endswith("b.yaml") for f in files)


def test_json_spec_with_tabs_is_located(cli, tmp_path):
    text = '{\n\t"archspec": 1,\n\t"name": "j",\n\t"input": [3, 8, 8],\n\t"layers": ["reul"]\n}\n'
    spec = tmp_path / "broken.json"
    spec.write_text(text)
    code, _, err = cli("check", str(spec))
    assert code == 1
    line, column = position(text, '"reul"')
    assert err.startswith(f"{spec}:{line}:{column}: error: "), err  # a tab counts as one column


def test_unknown_spec_name_suggests_a_bundled_one(cli):
    code, _, err = cli("check", "lenet")
    assert code == 1
    assert err == "lenet: error: no such file or bundled spec 'lenet' — did you mean 'lenet5'?\n"


@pytest.mark.parametrize("command", ["check", "build"])
def test_missing_spec_is_named_like_every_other_error(cli, command):
    """``FILE: error: ...`` (no line: there is no file to point into), then the bundled names."""
    code, _, err = cli(command, "nosuch")
    assert code == 1
    assert err.startswith("nosuch: error: no such file or bundled spec 'nosuch' — bundled specs: alexnet, ")
    assert "lenet5" in err and err.count("\n") == 1


def test_missing_file_path_as_a_real_process(tmp_path):
    result = run_cli("check", "specs/nosuch.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("specs/nosuch.yaml: error: no such file or bundled spec 'specs/nosuch.yaml'")


def test_invalid_spec_as_a_real_process(tmp_path):
    text = HEADER + "layers:\n  - conv: {out: 4, kernel: 3, groups: 2}\n"
    (tmp_path / "broken.yaml").write_text(text)
    result = run_cli("check", "broken.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line, column = position(text, "2}")
    assert result.stderr.startswith(f"broken.yaml:{line}:{column}: error: "), result.stderr


# -- usage errors: exit 2 -------------------------------------------------------------------------------------


def test_unknown_command_in_process(cli):
    with pytest.raises(SystemExit) as exit_info:
        cli("frobnicate")
    assert exit_info.value.code == 2


def test_no_command(cli):
    assert cli()[0] == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "lenet5", "--input", "abc"],
        ["check", "lenet5", "--input", ","],
        ["check", "lenet5", "--set", "num_classes"],
        ["check", "lenet5", "--set", "=3"],
        ["check", "lenet5", "--batch", "0"],
        ["build", "lenet5", "--input", "3;32;32"],
    ],
    ids=["input-letters", "input-empty", "set-without-equals", "set-without-key", "batch-zero", "input-semicolons"],
)
def test_usage_errors_exit_2(cli, argv):
    code, out, err = cli(*argv)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert err.strip()


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "lenet5", "--batch", "x"],
        ["check", "lenet5", "--format", "xml"],
        ["check"],
        ["build", "lenet5", "--no-such-option"],
    ],
)
def test_argparse_usage_errors_exit_2(cli, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli(*argv)
    assert exit_info.value.code == 2


@pytest.mark.parametrize("text", ["3,32", "0,32,32"])
def test_input_of_wrong_rank_is_a_usage_error(cli, text):
    code, _, err = cli("check", "lenet5", "--input", text)
    assert code == 2, err
    assert "--input" in err and "Traceback" not in err


def test_unparsable_set_value_is_a_usage_error(cli):
    code, _, err = cli("check", "lenet5", "--set", "num_classes=[")
    assert code == 2, err


def test_unknown_override_suggests_the_param(cli):
    code, _, err = cli("check", "lenet5", "--set", "numclasses=3")
    assert code in (1, 2)
    assert "num_classes" in err
    assert "Traceback" not in err


def test_usage_errors_as_a_real_process():
    for args in (["frobnicate"], ["check", "lenet5", "--set", "oops"]):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_expression_overflow_is_a_located_error(cli, tmp_path):
    text = HEADER + 'layers:\n  - conv: {out: 4, kernel: "${floor(1e308 * 10)}"}\n'
    spec = tmp_path / "broken.yaml"
    spec.write_text(text)
    code, _, err = cli("check", str(spec))
    assert code == 1
    line, column = position(text, '"${floor')
    assert err.startswith(f"{spec}:{line}:{column}: error: "), err
