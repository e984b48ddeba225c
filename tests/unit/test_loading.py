"""The loader: YAML 1.2 core scalars, no tags, no duplicate keys, bounded input, 1-based source marks."""

from __future__ import annotations

import json

import pytest

import archspec
from archspec.errors import SpecError
from archspec.loading.resolve import bundled_specs, load_document
from archspec.loading.yaml_loader import LoadLimits, load_text


def value(text: str):
    return load_text(f"v: {text}\n").data["v"]


@pytest.mark.parametrize(("text", "expected"), [
    ("1e-5", 1e-5),
    ("1E+3", 1000.0),
    ("-2.5e-3", -2.5e-3),
    (".5", 0.5),
    ("5.", 5.0),
    ("3.0", 3.0),
    ("0.001", 0.001),
    ("+7", 7),
    ("-7", -7),
    ("010", 10),  # decimal in YAML 1.2 (octal in 1.1)
    ("0o17", 15),
    ("0x1F", 31),
    ("true", True),
    ("True", True),
    ("FALSE", False),
    ("null", None),
    ("~", None),
    ("", None),
    ("yes", "yes"),  # YAML 1.1 booleans are plain strings in 1.2
    ("no", "no"),
    ("on", "on"),
    ("off", "off"),
    ("y", "y"),
    ("1:30", "1:30"),  # YAML 1.1 sexagesimal
    ("0b101", "0b101"),
    ("1_000", "1_000"),
    ("2024-01-01", "2024-01-01"),  # no timestamps
    ("'3'", "3"),
    ('"1e-5"', "1e-5"),
    ("!!str 5", "5"),
    ("$width", "$width"),
    ("${c * 2}", "${c * 2}"),
])
def test_core_schema_scalars(text, expected):
    result = value(text)
    assert result == expected
    assert type(result) is type(expected)


def test_lists_and_mappings():
    data = load_text("a: [1, 2.0, x]\nb: {c: 1, d: [true]}\n").data
    assert data == {"a": [1, 2.0, "x"], "b": {"c": 1, "d": [True]}}


def test_integer_keys_become_strings():
    assert load_text("1: a\n").data == {"1": "a"}


def test_aliases_and_merge_keys():
    data = load_text("base: &b {kernel: 3, stride: 1}\nconv: {<<: *b, stride: 2}\nsame: *b\n").data
    assert data["conv"] == {"kernel": 3, "stride": 2}
    assert data["same"] == {"kernel": 3, "stride": 1}


def diagnostics(text: str, file: str = "s.yaml", **kwargs):
    with pytest.raises(SpecError) as info:
        load_text(text, file, **kwargs)
    return info.value.diagnostics


def test_duplicate_keys_are_rejected_at_the_second_key():
    found = diagnostics("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert len(found) == 1
    assert "duplicate key 'c'" in found[0].message
    assert "line 3" in found[0].message  # where the first one is
    assert (found[0].location.line, found[0].location.column) == (4, 3)
    assert found[0].path == ("b", "c")


def test_every_duplicate_is_reported():
    found = diagnostics("a: 1\na: 2\nb: {x: 1, x: 2}\n")
    assert [(d.location.line, d.location.column) for d in found] == [(2, 1), (3, 11)]


@pytest.mark.parametrize(("text", "column"), [
    ("v: !!python/object:os.system {}\n", 4),
    ("v: !!python/object/apply:os.system [ls]\n", 4),
    ("v: !!python/name:os.system\n", 4),
    ("v: !custom 3\n", 4),
    ("v: !!binary aGVsbG8=\n", 4),
    ("v: !!set {a, b}\n", 4),
    ("v: !!omap [a: 1]\n", 4),
    ("v: [1, !!python/tuple [1, 2]]\n", 8),
])
def test_tags_are_rejected(text, column):
    found = diagnostics(text)
    assert "tag" in found[0].message.lower()
    assert (found[0].location.line, found[0].location.column) == (1, column)


def test_non_scalar_keys_are_rejected():
    found = diagnostics("? [a, b]\n: 1\n")
    assert "key" in found[0].message


def test_syntax_error_is_located():
    found = diagnostics("a: 1\nb: [1, 2\nc: 3\n")
    assert found[0].location.file == "s.yaml"
    assert found[0].location.line >= 2
    assert "YAML" in found[0].message


def test_tab_indentation_in_yaml_is_a_located_error():
    found = diagnostics("a:\n\tb: 1\n")
    assert (found[0].location.line, found[0].location.column) == (2, 1)


def test_empty_document():
    found = diagnostics("# only a comment\n")
    assert "empty" in found[0].message


def test_json_with_tabs_loads(tmp_path):
    spec = {"archspec": 1, "name": "tabbed", "input": [3, 8, 8], "layers": [{"conv": {"out": 4, "kernel": 3}}, "relu"]}
    text = json.dumps(spec, indent="\t")
    assert "\t" in text
    path = tmp_path / "tabbed.json"
    path.write_text(text)
    document = load_document(path)
    assert document.data == spec
    report = archspec.analyze(path)
    assert report.output_shape == [1, 4, 6, 6]


def test_json_marks_count_a_tab_as_one_column():
    text = '{\n\t"name": "x",\n\t"layers": [\n\t\t"reul"\n\t]\n}\n'
    document = load_text(text, "s.json")
    assert document.source.locate(("layers", 0)).line == 4
    assert document.source.locate(("layers", 0)).column == 3
    assert document.source.keys[("layers",)] == (3, 2)


def test_marks_are_one_based():
    text = "archspec: 1\nname: t\nlayers:\n  - conv: {out: 4, kernel: 3}\n  - relu\n"
    source = load_text(text, "s.yaml").source
    assert source.locate(()).line == 1 and source.locate(()).column == 1
    assert (source.locate(("archspec",)).line, source.locate(("archspec",)).column) == (1, 11)
    assert (source.locate(("name",), key=True).line, source.locate(("name",), key=True).column) == (2, 1)
    assert source.values[("layers", 0)] == (4, 5)
    assert source.values[("layers", 0, "conv")] == (4, 11)
    assert source.values[("layers", 0, "conv", "kernel")] == (4, 28)
    assert source.keys[("layers", 0, "conv", "kernel")] == (4, 20)
    assert source.values[("layers", 1)] == (5, 5)


def test_locate_falls_back_to_the_nearest_ancestor():
    source = load_text("a:\n  b: 1\n", "s.yaml").source
    location = source.locate(("a", "b", "missing", 3))
    assert (location.line, location.column) == (2, 6)
    assert str(location) == "s.yaml:2:6"


def test_alias_bomb_fails_fast():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    found = diagnostics("\n".join(lines) + "\n")
    assert "values" in found[0].message


def test_size_and_depth_limits():
    assert "larger" in diagnostics("a: " + "x" * 200 + "\n", limits=LoadLimits(max_bytes=100))[0].message
    nested = "v: " + "[" * 50 + "]" * 50 + "\n"
    assert "nesting" in diagnostics(nested, limits=LoadLimits(max_depth=10))[0].message
    very_deep = "v: " + "[" * 5000 + "]" * 5000 + "\n"
    assert diagnostics(very_deep)  # a located SpecError, not a RecursionError


def test_bundled_specs_resolve_by_name():
    assert {"lenet5", "alexnet", "alexnet_original", "vgg11", "vgg13", "vgg16", "vgg19"} <= set(bundled_specs())
    document = load_document("lenet5")
    assert document.data["name"] == "lenet5"
    assert document.source.file.endswith("lenet5.yaml")


def test_unknown_source_suggests_a_bundled_name():
    with pytest.raises(SpecError) as info:
        load_document("alexnett")
    assert "did you mean 'alexnet'" in str(info.value)


def test_dict_source():
    spec = {"archspec": 1, "name": "d", "input": [3, 4, 4], "layers": ["relu"]}
    assert load_document(spec).data == spec
    assert archspec.analyze(spec).output_shape == [1, 3, 4, 4]


def test_unreadable_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError):
        load_document(path)
