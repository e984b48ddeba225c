"""Characters and numbers a spec file may not hold (issue 4): control characters are located at their own
line and column on one line each (PyYAML reports only a stream offset, over two lines); JSON's NaN and
Infinity and integers too long for Python to convert are located at the value; a byte-order mark is
accepted in YAML and JSON alike, with columns counted as editors count them."""

from __future__ import annotations

import pytest
from errortools import assert_located_error, assert_located_report

import archspec
from archspec.cli import main
from archspec.loading.yaml_loader import load_text

VALID_YAML = "archspec: 1\nname: text\ninput: [3, 8]\nlayers:\n  - relu\n  - relu\n"
VALID_JSON = '{"archspec": 1, "name": "text", "input": [3, 8],\n "layers": ["relu", "relu"]}\n'


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x9f", "\ufffe"])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_control_character_is_located_on_one_line(tmp_path, character, suffix, capsys):
    text = VALID_YAML if suffix == ".yaml" else VALID_JSON
    line_index = 5 if suffix == ".yaml" else 1
    lines = text.split("\n")
    lines[line_index] = lines[line_index][:4] + character + lines[line_index][4:]
    path = write(tmp_path, "spec" + suffix, "\n".join(lines).encode("utf-8"))
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    (match,) = assert_located_report(err, path)
    assert (int(match["line"]), int(match["column"])) == (line_index + 1, 5)
    code = f"U+{ord(character):04X}"
    assert (
        f"remove the {'control ' if ord(character) < 0xA0 else ''}character {code} at line {line_index + 1}, "
        "column 5" in match["fix"]
    )
    assert "position" not in err and "<unicode string>" not in err


def test_columns_count_characters_not_bytes(tmp_path):
    path = write(
        tmp_path, "spec.yaml", "archspec: 1\nname: text\ndoc: 'größe é'\x01\ninput: [3, 8]\nlayers: [relu]\n".encode()
    )
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(path)
    location = info.value.diagnostics[0].location
    assert (location.line, location.column) == (3, 15)


def test_line_breaks_count_as_yaml_counts_them():
    with pytest.raises(archspec.SpecError) as info:
        load_text("a: 1\r\nb: 2\rc: 3\n\x07\n", "x.yaml")
    location = info.value.diagnostics[0].location
    assert (location.line, location.column) == (4, 1)


def test_a_file_full_of_control_characters_is_capped():
    with pytest.raises(archspec.SpecError) as info:
        load_text("\x00" * 100_000, "x.yaml")
    lines = str(info.value).splitlines()
    assert len(lines) == 51
    assert "... and 99,950 more errors" in lines[-1]


@pytest.mark.parametrize(("constant", "column"), [("NaN", 31), ("Infinity", 31), ("-Infinity", 31)])
def test_json_non_finite_constants_are_located_at_the_value(tmp_path, constant, column):
    text = '{"archspec": 1, "name": "text", "input": [3, 8],\n "layers": [{"dropout": {"p": ' + constant + "}}]}\n"
    path = write(tmp_path, "spec.json", text.encode())
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(path)
    assert_located_error(info.value, path)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == ("layers", 0, "dropout", "p")
    assert (diagnostic.location.line, diagnostic.location.column) == (2, column)
    assert f"number {constant} is not finite" in diagnostic.message


@pytest.mark.parametrize("digits", [31, 4301, 100_000])
def test_json_huge_integers_are_located_and_called_too_large(tmp_path, digits):
    """Past 4,300 digits Python refuses to convert a string to int; the message leaked that, at 1:1."""
    text = '{"archspec": 1, "name": "text", "input": [3, 8],\n "layers": [{"linear": {"out": ' + "7" * digits + "}}]}"
    path = write(tmp_path, "spec.json", text.encode())
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(path)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == ("layers", 0, "linear", "out")
    assert (diagnostic.location.line, diagnostic.location.column) == (2, 32)
    assert f"absurdly large ({digits} digits)" in diagnostic.message
    assert "4300" not in str(info.value)


def test_json_huge_float_is_located(tmp_path):
    text = '{"archspec": 1, "name": "text", "input": [3, 8],\n "layers": [{"dropout": {"p": 1e999}}]}'
    with pytest.raises(archspec.SpecError, match="not finite") as info:
        archspec.load(write(tmp_path, "spec.json", text.encode()))
    assert info.value.diagnostics[0].path == ("layers", 0, "dropout", "p")


@pytest.mark.parametrize(("name", "text"), [("spec.yaml", VALID_YAML), ("spec.json", VALID_JSON)])
def test_byte_order_mark_is_accepted(tmp_path, name, text):
    path = write(tmp_path, name, "\ufeff".encode() + text.encode())
    assert archspec.analyze(path).output_shape == [1, 3, 8]


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("spec.yaml", "archspec: 1\nname: text\ninput: [3, 8]\nlayers: [reul]\n", 10),
        ("spec.json", '{"archspec": 1, "name": "text", "input": [3, 8], "layers": ["reul"]}', 61),
    ],
)
def test_columns_after_a_byte_order_mark_are_the_editors(tmp_path, name, text, column):
    """The mark is invisible in editors: the same error is at the same place with and without it."""
    lines = text.splitlines()
    with_mark = write(tmp_path, name, "\ufeff".encode() + text.encode())
    without = write(tmp_path, "plain_" + name, text.encode())
    locations = []
    for path in (with_mark, without):
        with pytest.raises(archspec.SpecError) as info:
            archspec.load(path)
        location = info.value.diagnostics[0].location
        locations.append((location.line, location.column))
    assert locations[0] == locations[1] == (len(lines), column)


def test_byte_order_mark_on_the_first_line_keeps_its_columns(tmp_path):
    path = write(
        tmp_path, "spec.json", '\ufeff{"archspec": 2, "name": "text", "input": [3, 8], "layers": ["relu"]}'.encode()
    )
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(path)
    location = info.value.diagnostics[0].location
    assert (location.line, location.column) == (1, 14)
