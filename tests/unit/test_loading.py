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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
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
    ],
)
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


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("v: !!python/object:os.system {}\n", 4),
        ("v: !!python/object/apply:os.system [ls]\n", 4),
        ("v: !!python/name:os.system\n", 4),
        ("v: !custom 3\n", 4),
        ("v: !!binary aGVsbG8=\n", 4),
        ("v: !!set {a, b}\n", 4),
        ("v: !!omap [a: 1]\n", 4),
        ("v: [1, !!python/tuple [1, 2]]\n", 8),
    ],
)
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


# -- dict sources: the strictness and messages of files ------------------------------------------------------


def dict_error(data) -> SpecError:
    with pytest.raises(SpecError) as info:
        archspec.analyze(data)
    return info.value


def base(**changes):
    return {"archspec": 1, "name": "d", "input": [3, 8, 8], "layers": ["relu"], **changes}


@pytest.mark.parametrize(
    ("data", "path", "message", "fix"),
    [
        (base(layers=[{1: {}}]), ("layers", 0, "1"), "unknown op '1'", "run 'archspec list'"),  # was a TypeError
        (base(layers={"relu"}), ("layers",), "a set is not spec data", "write it as a list: [relu]"),
        (base(input=(3, 8, 8)), ("input",), "a tuple is not spec data", "write it as a list: [3, 8, 8]"),
        (
            base(layers=[{"conv": {"out": 4, "kernel": (3, 3)}}]),
            ("layers", 0, "conv", "kernel"),
            "a tuple",
            "write it as a list: [3, 3]",
        ),
        (base(layers=[{(1, 2): 3}]), ("layers", 0), "mapping keys must be plain names", "write the key as a string"),
        (base(layers=[{True: 3}]), ("layers", 0), "mapping keys must be plain names", "write the key as a string"),
        (
            base(layers=[{"dropout": {"p": float("nan")}}]),
            ("layers", 0, "dropout", "p"),
            "not finite",
            "write a finite number",
        ),
        (
            base(layers=[{"linear": {"out": 10**40}}]),
            ("layers", 0, "linear", "out"),
            "absurdly large (41 digits)",
            "at most 30 digits",
        ),
        (base(params={"n": 10**10_000}), ("params", "n"), "absurdly large", "at most 30 digits"),
        (
            base(layers=[{"relu": object()}]),
            ("layers", 0, "relu"),
            "a value of type 'object' is not spec data",
            "use only dicts, lists, strings, numbers",
        ),
        (base(layers=[{"1": {}, 1: {}}]), ("layers", 0, "1"), "duplicate key '1'", "keep only one of them"),
    ],
)
def test_dict_values_a_file_could_not_hold_are_spec_errors(data, path, message, fix):
    error = dict_error(data)
    diagnostic = next(d for d in error.diagnostics if message in d.message)
    assert diagnostic.path == path and fix in diagnostic.fix
    assert str(diagnostic.location) == "<dict>:1:1"


def test_a_dict_that_contains_itself_is_too_deep():
    data = base()
    data["layers"].append(data)
    assert "nesting deeper than 100 levels" in str(dict_error(data))


@pytest.mark.parametrize("source", [[1, 2], 5, None, b"archspec: 1"])
def test_a_source_of_another_type_is_a_spec_error(source):
    error = dict_error(source)
    assert "expected a file path, a bundled spec's name, a dict or an archspec Spec" in error.diagnostics[0].message
    assert error.diagnostics[0].fix


def test_override_values_are_held_to_the_same_rules():
    error = dict_error_of_load(base(params={"k": [3, 3]}), {"k": (1, 1)})
    assert error.diagnostics[0].path == ("params", "k") and "[1, 1]" in error.diagnostics[0].fix


def dict_error_of_load(data, overrides) -> SpecError:
    with pytest.raises(SpecError) as info:
        archspec.load(data, overrides=overrides)
    return info.value


# Data that a YAML file can hold too: the file and the dict get the same messages (locations aside).
PARITY = [
    base(layers=[{1: {}}]),
    base(layers=[{"conv": {"out": "16", "kernel": 3}}]),
    base(layers=[{"dropout": {"p": [1, 2]}}, {"batchnorm": {"eps": False}}, "reul"]),
    base(input=[3, 0, 8], name="9lives"),
    base(params={"a": "${b + 1}", "b": 1}),
    base(layers=[{"conv": {"out": 4, "kernel": 3}, "repeat": 0, "id": "prev"}]),
    base(blocks={"b": {"params": {"x": 1}, "layers": []}}),
    base(layers=[{"add": {"branches": {"1x": []}}}]),
]


@pytest.mark.parametrize("data", PARITY, ids=range(len(PARITY)))
def test_dicts_and_files_get_the_same_messages(data, tmp_path):
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    from_file = [(d.path, d.message, d.fix) for d in dict_error(str(path)).diagnostics]
    from_dict = [(d.path, d.message, d.fix) for d in dict_error(data).diagnostics]
    assert sorted(from_dict, key=repr) == sorted(from_file, key=repr)


def test_pyyamls_own_nesting_limit_reads_as_archspecs(monkeypatch):
    """libyaml 0.2.6 (PyYAML 6.0.4) refuses 1,000 nested '[' while scanning ahead, before archspec's composer meets
    its own limit of 100: the message and position must be archspec's, the same as with a PyYAML without that
    limit. Simulated here (the first composition fails as libyaml 0.2.6 does), so that every PyYAML runs it."""
    import yaml

    from archspec.loading import yaml_compose

    shallow = "v: " + "[" * 150 + "]" * 150 + "\n"  # within every libyaml's limit: the composer stops it
    expected = [str(d) for d in diagnostics(shallow)]
    real = yaml_compose.DepthLimitedLoader.get_single_node
    calls = []

    def libyaml_0_2_6(self):
        calls.append(self)
        if len(calls) == 1:
            raise yaml.MarkedYAMLError(
                "while increasing flow level",
                yaml.Mark("<string>", 0, 0, 1002, None, None),
                "exceeded maximum nesting depth",
                yaml.Mark("<string>", 0, 0, 1002, None, None),
            )
        return real(self)

    monkeypatch.setattr(yaml_compose.DepthLimitedLoader, "get_single_node", libyaml_0_2_6)
    deep = "v: " + "[" * 200_000 + "]" * 200_000 + "\n"
    assert [str(d) for d in diagnostics(deep)] == expected
    assert "nesting deeper than 100 levels" in expected[0]


def test_a_depth_limit_above_the_parsers_is_still_a_located_error():
    found = diagnostics("v: " + "[" * 200_000 + "]" * 200_000 + "\n", limits=LoadLimits(max_depth=5000))
    assert found[0].location.line == 1 and "nest" in found[0].message and "nest" in found[0].fix
