"""Explicit tags follow the YAML 1.2 core schema, and numbers are ASCII digits everywhere a spec or the command line
writes one: YAML scalars, --set values, --input, --batch, --max-nodes, --depth and expressions' number literals.
Python's int() and float() read '٣٢', '３２' and '1_6' as numbers; archspec refuses them, saying what to write."""

from __future__ import annotations

import pytest

import archspec
from archspec.cli import main
from archspec.errors import SpecError
from archspec.loading.yaml_loader import load_text

SPEC = "archspec: 1\nname: t\ninput: [3, 8, 8]\nparams: {{w: 4}}\nlayers:\n  - conv: {{out: {out}, kernel: 1}}\n"


def value(text: str):
    return load_text(f"v: {text}\n", "s.yaml").data["v"]


def refused(text: str):
    with pytest.raises(SpecError) as info:
        load_text(f"v: {text}\n", "s.yaml")
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.location.line, diagnostic.location.column) == (1, 4)
    return diagnostic


# Per tag: texts the core schema defines for it (and their values), and texts it does not.
TAGS = {
    "float": (
        [("3", 3.0), ("-2.5e-3", -2.5e-3), (".5", 0.5), ("5.", 5.0), ("1E3", 1000.0)],
        ["half", '""', "0x1p-2", "1_0.5", '"١.٥"', "infinity", "'1,5'"],
    ),
    "int": (
        [("0x1F", 31), ("0o17", 15), ("-7", -7), ("+3", 3), ("010", 10)],
        ['"٣٢"', '"1_6"', "1.5", "0b11", '" 3"', "0X1F"],
    ),
    "bool": ([("True", True), ("FALSE", False), ("false", False)], ["yes", "off", "1", "tRUE", '""']),
    "null": ([("~", None), ("", None), ("Null", None)], ["x", "None", "0"]),
}


@pytest.mark.parametrize("kind", sorted(TAGS))
def test_a_tag_reads_exactly_the_texts_the_core_schema_gives_it(kind):
    good, bad = TAGS[kind]
    for text, expected in good:
        read = value(f"!!{kind} {text}")
        assert read == expected and type(read) is type(expected), text
    for text in bad:
        assert f"is not a !!{kind}: YAML 1.2 writes one as" in refused(f"!!{kind} {text}").message, text


@pytest.mark.parametrize(
    ("text", "message", "fix"),
    [
        ('!!float "half"', "'half' is not a !!float", "write 0.5, or remove the tag '!!float'"),
        ('!!float ""', "'' is not a !!float", "write 0.5, or remove the tag '!!float'"),
        ('!!float "0x1p-2"', "'0x1p-2' is not a !!float", "write 0.5, or remove the tag '!!float'"),
        ('!!float "١.٥"', "'١.٥' is not a !!float", "write 1.5 (numbers are ASCII digits 0-9, without '_')"),
        ('!!float "1_0.5"', "'1_0.5' is not a !!float", "write 10.5 (numbers are ASCII digits 0-9, without '_')"),
        ('!!bool "yes"', "'yes' is not a !!bool", "write true or false, or remove the tag '!!bool'"),
        ("!!bool off", "'off' is not a !!bool", "write true or false, or remove the tag '!!bool'"),
        ('!!bool "1"', "'1' is not a !!bool", "write true or false, or remove the tag '!!bool'"),
        ('!!int "٣٢"', "'٣٢' is not a !!int", "write 32 (numbers are ASCII digits 0-9, without '_')"),
        ('!!int "３２"', "'３２' is not a !!int", "write 32 (numbers are ASCII digits 0-9, without '_')"),
        ('!!int "1_6"', "'1_6' is not a !!int", "write 16 (numbers are ASCII digits 0-9, without '_')"),
        ('!!int "1.5"', "'1.5' is not a !!int", "write a whole number, or tag it !!float (or remove the tag)"),
        ('!!int " 3"', "' 3' is not a !!int", "write 3 (numbers are ASCII digits 0-9, without '_')"),
        ('!!null "x"', "'x' is not a !!null", "write null, or remove the tag '!!null'"),
    ],
)
def test_tagged_scalars_not_of_their_type_are_located_errors(text, message, fix):
    diagnostic = refused(text)
    assert diagnostic.message.startswith(message + ": YAML 1.2 writes one as ")
    assert diagnostic.fix == fix


def test_a_tagged_integer_key_must_be_an_integer():
    with pytest.raises(SpecError, match="'٣' is not a !!int"):
        load_text('m: {!!int "٣": 1}\n', "s.yaml")


def test_plain_non_ascii_digits_are_text_and_the_fix_writes_them_in_ascii():
    with pytest.raises(SpecError) as info:
        archspec.load(load_text(SPEC.format(out="٣٢"), "s.yaml").data)
    [diagnostic] = info.value.diagnostics
    assert diagnostic.message == "expected an integer, got '٣٢' (string)"
    assert diagnostic.fix == "write 32: numbers are ASCII digits 0-9 without '_' (YAML and JSON read '٣٢' as text)"


@pytest.mark.parametrize("setting", ['w=!!int "٣٢"', "w=!!float half", "w=!!bool yes"])
def test_tags_through_set_are_usage_errors_not_crashes(setting, tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.format(out="$w"), encoding="utf-8")
    assert main(["check", "-q", str(path), "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archspec: error: --set w: '") and "is not a !!" in err and "Traceback" not in err
    assert " — write " in err  # the fix, as in a file


@pytest.mark.parametrize(
    ("argv", "ascii", "message"),
    [  # each beside the same number in ASCII, which works
        (
            ["--input", "１,32,32"],
            "1, 32, 32",
            "--input expects numbers like 3,224,224, got '１,32,32' (numbers are ASCII digits 0-9: write 1,32,32)",
        ),
        (["--input", "1,3_2,32"], "1,32,32", "got '1,3_2,32' (numbers are ASCII digits 0-9: write 1,32,32)"),
        (
            ["--batch", "٢"],
            " 2",
            "argument --batch: expected a whole number, got '٢' (numbers are ASCII digits 0-9: write 2)",
        ),
        (
            ["--batch", "1_0"],
            "10",
            "argument --batch: expected a whole number, got '1_0' (numbers are ASCII digits 0-9: write 10)",
        ),
        (["--max-nodes", "１００"], "100", "argument --max-nodes: expected a whole number, got '１００'"),
        (["--depth", "１"], "1", "argument --depth: expected a whole number, got '１'"),
    ],
)
def test_command_line_numbers_are_ascii_digits(argv, ascii, message, capsys):
    assert main(["check", "lenet5", "-q", argv[0], ascii]) == 0
    try:
        code = main(["check", "lenet5", "-q", *argv])
    except SystemExit as exit_status:  # argparse's own usage errors
        code = exit_status.code
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("out", "message", "fix"),
    [
        ("'${w * 1_0}'", "number '1_0' is not written as YAML and JSON write numbers", "write 10"),
        ("'${0b101 + w}'", "number '0b101' is not written as YAML and JSON write numbers", "write 5"),
        ("'${0X10}'", "number '0X10' is not written as YAML and JSON write numbers", "write 16"),
    ],
)
def test_expression_number_literals_are_written_as_in_yaml(out, message, fix):
    """... while the forms YAML writes (with the core schema's 0x and 0o) are numbers."""
    network = archspec.analyze(load_text(SPEC.format(out="'${0x10 + 0o7 - 1e1 * .5 + 5.}'"), "s.yaml").data)
    assert network.layers[0].output_shape[1] == 16 + 7 - 5 + 5
    with pytest.raises(SpecError) as info:
        archspec.analyze(load_text(SPEC.format(out=out), "s.yaml").data)
    [diagnostic] = info.value.diagnostics
    assert diagnostic.path == ("layers", 0, "conv", "out")
    assert message in diagnostic.message and diagnostic.fix == fix
