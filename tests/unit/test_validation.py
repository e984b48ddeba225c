"""Validation and expansion of spec structure: every independent problem reported, located, with a fix;
params, overrides, user blocks, ``repeat`` / ``first`` and ``if``."""

from __future__ import annotations

import re
import textwrap

import pytest

import archspec
from archspec.errors import SpecError
from archspec.loading.yaml_loader import load_text
from archspec.spec.validate import validate

HEADER = "archspec: 1\nname: t\ninput: [3, 8, 8]\n"


def where(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def errors(text: str, overrides=None, analyse: bool = True) -> list:
    """The diagnostics of ``text`` (validation, then expansion when ``analyse``)."""
    with pytest.raises(SpecError) as info:
        spec = validate(load_text(text, "s.yaml"), overrides)
        if analyse:
            archspec.analyze(spec)
    return info.value.diagnostics


def analyse(text: str, overrides=None):
    return archspec.analyze(validate(load_text(text, "s.yaml"), overrides))


def at(diagnostic) -> tuple[int, int]:
    return diagnostic.location.line, diagnostic.location.column


# -- several independent errors -------------------------------------------------------------------------------

SEVERAL = HEADER + textwrap.dedent("""\
    layers:
      - conv: {out: 4, kernal: 3}
      - reul
      - maxpool: {kernel: 2, strid: 2}
      - conv: {out: 4.5, kernel: 3}
      - conv: {out: 4, kernel: 3, bias: yes}
    """)


def test_collects_every_independent_error_in_source_order():
    found = errors(SEVERAL)
    by_message = {d.message: d for d in found}
    assert "unknown key 'kernal'" in by_message
    assert by_message["unknown key 'kernal'"].fix == "did you mean 'kernel'?"
    assert at(by_message["unknown key 'kernal'"]) == where(SEVERAL, "kernal")
    assert by_message["unknown op 'reul'"].fix == "did you mean 'relu'?"
    assert at(by_message["unknown op 'reul'"]) == where(SEVERAL, "reul")
    assert by_message["unknown key 'strid'"].fix == "did you mean 'stride'?"
    assert at(by_message["unknown key 'strid'"]) == where(SEVERAL, "strid")
    out = next(d for d in found if d.path == ("layers", 3, "conv", "out"))
    assert at(out) == where(SEVERAL, "4.5")
    bias = next(d for d in found if d.path == ("layers", 4, "conv", "bias"))
    assert at(bias) == where(SEVERAL, "yes")
    assert "true or false" in bias.fix
    lines = [d.location.line for d in found]
    assert lines == sorted(lines)
    assert len({d.location.line for d in found}) == 5


def test_error_text_has_file_line_column_path_and_fix():
    with pytest.raises(SpecError) as info:
        validate(load_text(HEADER + "layers:\n  - reul\n", "s.yaml"))
    assert str(info.value) == "s.yaml:5:5: error: layers[0].reul: unknown op 'reul' — did you mean 'relu'?"


def test_top_level_errors_are_all_reported():
    text = "archspec: 1\nnmae: t\ninput: [3, 0]\nlayers: []\n"
    found = errors(text)
    messages = " | ".join(d.message for d in found)
    assert "unknown key 'nmae'" in messages
    assert next(d for d in found if d.message == "unknown key 'nmae'").fix == "did you mean 'name'?"
    assert any(d.path == ("input", 1) for d in found)
    assert any(d.path == ("layers",) for d in found)


def test_top_level_error_does_not_hide_layer_errors():
    """At f1fc28f a top-level error stopped validation before unknown ops and op arguments were checked."""
    text = HEADER + "nmae: x\nlayers:\n  - reul\n  - conv: {out: 4, kernal: 3}\n"
    found = errors(text)
    messages = [d.message for d in found]
    assert "unknown key 'nmae'" in messages
    assert "unknown op 'reul'" in messages
    assert "unknown key 'kernal'" in messages
    assert at(next(d for d in found if d.message == "unknown op 'reul'")) == where(text, "reul")


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("layer", "layers"), ("param", "params"), ("inputs", "input"), ("block", "blocks"), ("docs", "doc")],
)
def test_unknown_top_level_keys_suggest(key, suggestion):
    text = HEADER + f"{key}: 1\n" + ("layers:\n  - relu\n" if key != "layer" else "")
    found = [d for d in errors(text) if d.message == f"unknown key '{key}'"]
    assert found and found[0].fix == f"did you mean '{suggestion}'?"
    assert at(found[0]) == where(text, f"{key}:")


def test_unknown_key_in_a_block_definition():
    text = HEADER + "blocks:\n  b:\n    param: {x: 1}\n    layers: [relu]\nlayers:\n  - b\n"
    found = errors(text)
    assert found[0].message == "unknown key 'param'"
    assert found[0].fix == "did you mean 'params'?"
    assert at(found[0]) == where(text, "param:")


# -- format version -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2", "0", "'1'", "two", "null"])
def test_unknown_versions_name_the_known_ones(version):
    text = f"archspec: {version}\nname: t\ninput: [3, 8, 8]\nlayers:\n  - relu\n"
    found = errors(text)
    assert len(found) == 1
    assert "version" in found[0].message
    assert re.search(r"\b1\b", f"{found[0].message} {found[0].fix}")  # names the version that exists
    assert at(found[0]) == (1, 11)


def test_missing_version():
    found = errors("name: t\ninput: [3, 8, 8]\nlayers:\n  - relu\n")
    assert any("archspec" in d.message for d in found)


def test_not_a_mapping():
    found = errors("- relu\n")
    assert "mapping" in found[0].message


# -- params and overrides -------------------------------------------------------------------------------------

PARAMS = HEADER + "params:\n  width: 8\n  depth: 2\nlayers:\n  - conv: {out: $width, kernel: 3}\n    repeat: $depth\n"


def test_overrides_apply():
    report = analyse(PARAMS, {"width": 5, "depth": 3})
    assert report.output_shape == [1, 5, 2, 2]
    assert archspec.load(PARAMS and "lenet5", overrides={"num_classes": 3}).params["num_classes"] == 3


def test_unknown_override_suggests_the_param():
    found = errors(PARAMS, {"widht": 3})
    assert len(found) == 1
    assert "widht" in found[0].message
    assert found[0].fix == "did you mean 'width'?"
    assert where(PARAMS, "params:")[0] <= found[0].location.line <= where(PARAMS, "depth")[0]


def test_unknown_override_lists_params_when_nothing_is_close():
    found = errors(PARAMS, {"zzz": 3})
    assert "width" in found[0].fix and "depth" in found[0].fix


def test_override_through_the_api():
    with pytest.raises(SpecError, match="did you mean 'num_classes'"):
        archspec.load("lenet5", overrides={"num_class": 3})
    assert archspec.analyze(archspec.load("lenet5", overrides={"num_classes": 3})).output_shape == [1, 3]


def test_required_spec_param():
    text = HEADER + "params:\n  width: required\nlayers:\n  - conv: {out: $width, kernel: 1}\n"
    found = errors(text)
    assert "width" in found[0].message and "required" in found[0].message
    assert "--set width=" in found[0].fix
    assert analyse(text, {"width": 6}).output_shape == [1, 6, 8, 8]


def test_params_can_use_earlier_params():
    text = HEADER + "params:\n  base: 4\n  wide: ${base * 3}\nlayers:\n  - conv: {out: $wide, kernel: 1}\n"
    assert analyse(text).output_shape == [1, 12, 8, 8]
    assert analyse(text, {"base": 2}).output_shape == [1, 6, 8, 8]


@pytest.mark.parametrize(
    ("params", "message", "fix"),
    [
        (
            "  a: ${b + 1}\n  b: 2\n",
            "param 'a' uses 'b', which is declared after it; params may only use params "
            "declared before them (the order here: a, b)",
            "move 'b' above 'a'",
        ),
        ("  a: ${b + 1}\n  b: ${a + 1}\n", "param 'a' is part of a cycle, a → b → a", "give one of 'a', 'b' a value"),
        ("  a: ${c}\n  b: ${a}\n  c: ${b}\n", "param 'a' is part of a cycle, a → c → b → a", "give one of"),
        ("  a: ${a * 2}\n", "param 'a' uses itself", "give 'a' a value that does not use 'a'"),
        ("  a: 1\n  b: stage${c}\n  c: 2\n", "param 'b' uses 'c', which is declared after it", "move 'c' above 'b'"),
    ],
)
def test_params_may_only_use_earlier_params(params, message, fix):
    """Was "unknown name 'b' — known names: none; declare it under params", though b is declared."""
    text = HEADER + "params:\n" + params + "layers:\n  - relu\n"
    found = errors(text, analyse=False)
    assert len(found) == 1  # a cycle is reported once, at its first member
    assert message in found[0].message and fix in found[0].fix
    line, column = where(text, f"  {found[0].path[-1]}: ")
    assert at(found[0]) == (line, column + len(f"  {found[0].path[-1]}: "))


def test_an_override_can_break_a_forward_reference():
    text = HEADER + "params:\n  a: ${b + 1}\n  b: 2\nlayers:\n  - conv: {out: $a, kernel: 1}\n"
    assert analyse(text, {"a": 5}).output_shape == [1, 5, 8, 8]


def test_block_parameters_may_only_use_earlier_ones():
    text = HEADER + textwrap.dedent("""\
        blocks:
          stage:
            params: {hidden: "${out * 2}", out: required}
            layers: [{conv: {out: $hidden, kernel: 1}}]
        layers:
          - stage: {out: 4}
        """)
    (found,) = errors(text, analyse=False)
    assert found.path == ("blocks", "stage", "params", "hidden")
    assert "parameter 'hidden' of block 'stage' uses 'out', which is declared after it" in found.message
    assert found.fix == "move 'out' above 'hidden'"


def test_block_parameters_may_use_spec_params_and_earlier_ones():
    text = HEADER + textwrap.dedent("""\
        params: {base: 2}
        blocks:
          stage:
            params: {out: required, hidden: "${out * base}"}
            layers: [{conv: {out: $hidden, kernel: 1}}]
        layers:
          - stage: {out: 4}
        """)
    assert analyse(text).output_shape == [1, 8, 8, 8]


# -- user blocks ----------------------------------------------------------------------------------------------

BLOCKS = HEADER + textwrap.dedent("""\
    blocks:
      cbr:
        doc: conv + batchnorm + relu
        params: {out: required, kernel: 3, stride: 1, padding: "${kernel // 2}"}
        layers:
          - conv: {out: $out, kernel: $kernel, stride: $stride, padding: $padding, bias: false}
            name: conv
          - batchnorm
            # a comment between items
          - relu
    layers:
      - cbr: {out: 8}
        name: stem
      - cbr: {out: 16, stride: 2, kernel: 5}
    """)


def test_user_block_with_required_params_and_defaults():
    report = analyse(BLOCKS)
    rows = {row.path: row for row in report.layers}
    assert rows["stem"].op == "cbr"
    assert rows["stem.conv"].output_shape == [1, 8, 8, 8]
    assert rows["stem.conv"].params == 8 * 3 * 9  # bias false
    assert rows["stem.batchnorm"].op == "batchnorm"  # unnamed items of a block are named after their op
    assert rows["1.conv"].output_shape == [1, 16, 4, 4]  # kernel 5, padding 5 // 2 = 2, stride 2
    assert rows["1"].params == 16 * 8 * 25 + 2 * 16
    assert rows["1"].buffers == 2 * 16 + 1


def test_block_missing_required_argument():
    text = BLOCKS + "  - cbr: {kernel: 1}\n"
    found = errors(text)
    assert "needs the argument 'out'" in found[0].message
    assert found[0].path == ("layers", 2, "cbr")
    assert at(found[0]) == where(text, "{kernel: 1}")


def test_block_unknown_argument_suggests():
    text = BLOCKS + "  - cbr: {out: 4, strides: 2}\n"
    found = errors(text)
    assert "no parameter 'strides'" in found[0].message
    assert found[0].fix == "did you mean 'stride'?"
    assert at(found[0]) == where(text, "strides")


def test_block_used_without_arguments_when_none_are_required():
    text = (
        HEADER + "blocks:\n  pair:\n    params: {n: 4}\n    layers:\n      - conv: {out: $n, kernel: 1}\n"
        "      - relu\nlayers:\n  - pair\n  - pair: {n: 2}\n"
    )
    assert analyse(text).output_shape == [1, 2, 8, 8]


def test_block_cannot_take_an_op_name():
    text = HEADER + "blocks:\n  conv:\n    layers: [relu]\nlayers:\n  - relu\n"
    found = errors(text)
    assert "built-in op" in found[0].message


def test_error_inside_a_user_block_points_into_the_block():
    text = (
        HEADER + "blocks:\n  b:\n    params: {k: 3}\n    layers:\n      - conv: {out: 4, kernel: $k}\n"
        "layers:\n  - b: {k: 20}\n"
    )
    found = errors(text)
    assert "output size" in found[0].message
    assert found[0].location.line in (where(text, "- conv")[0], where(text, "- b:")[0])
    assert "b" in found[0].message or found[0].path[0] == "layers"


def test_builtin_block_error_points_at_the_users_call():
    text = (
        HEADER + "layers:\n  - vgg_block: {convs: 1, out: 4}\n  - vgg_block: {convs: 1, out: 4}\n"
        "  - vgg_block: {convs: 1, out: 4}\n  - vgg_block: {convs: 1, out: 4}\n"
    )
    found = errors(text)
    assert found[0].location.file == "s.yaml"
    assert found[0].location.line == where(text, "vgg_block", 4)[0]
    assert "vgg_block" in found[0].message


def test_builtin_block_needs_its_arguments():
    text = HEADER + "layers:\n  - vgg_block: {out: 4}\n"
    found = errors(text)
    assert "convs" in found[0].message
    assert found[0].location.file == "s.yaml"


# -- repeat / first -------------------------------------------------------------------------------------------

REPEAT = HEADER + textwrap.dedent("""\
    layers:
      - conv: {out: 16, kernel: 3, stride: 1, padding: 1}
        repeat: 3
        first: {stride: 2, out: 4}
        name: stage
    """)


def test_repeat_with_first():
    report = analyse(REPEAT)
    rows = {row.path: row for row in report.layers}
    assert [p for p in rows if p.startswith("stage")] == ["stage", "stage.0", "stage.1", "stage.2"]
    assert rows["stage.0"].output_shape == [1, 4, 4, 4]
    assert rows["stage.1"].output_shape == [1, 16, 4, 4]
    assert rows["stage.2"].output_shape == [1, 16, 4, 4]
    assert rows["stage.0"].params == 4 * 3 * 9 + 4
    assert rows["stage.1"].params == 16 * 4 * 9 + 16
    assert rows["stage"].params == sum(rows[f"stage.{i}"].params for i in range(3))


def test_repeat_of_a_block_and_the_compiled_paths():
    text = BLOCKS.replace(
        "  - cbr: {out: 16, stride: 2, kernel: 5}\n", "  - cbr: {out: 16}\n    repeat: 2\n    first: {stride: 2}\n"
    )
    report = analyse(text)
    rows = {row.path: row for row in report.layers}
    assert rows["1.0.conv"].output_shape == [1, 16, 4, 4]
    assert rows["1.1.conv"].output_shape == [1, 16, 4, 4]
    model = archspec.compile(validate(load_text(text, "s.yaml")))
    assert {p for p, _ in model.named_modules() if p} == set(rows)


def test_repeat_from_an_expression():
    assert len(analyse(PARAMS, {"depth": 3}).layers) == 1 + 3


@pytest.mark.parametrize(
    ("repeat", "message"),
    [("0", "repeat"), ("-1", "repeat"), ("2.5", "repeat"), ("true", "repeat"), ("many", "repeat")],
)
def test_bad_repeat(repeat, message):
    text = HEADER + f"layers:\n  - relu: {{}}\n    repeat: {repeat}\n"
    found = errors(text)
    assert message in found[0].message
    line, column = where(text, f"repeat: {repeat}")
    assert at(found[0]) == (line, column + len("repeat: "))


def test_repeat_zero_from_a_param():
    text = HEADER + "params: {n: 0}\nlayers:\n  - relu: {}\n    repeat: $n\n"
    found = errors(text)
    assert "repeat" in found[0].message
    assert at(found[0]) == where(text, "$n")


@pytest.mark.parametrize(
    ("modifier", "expression", "fix"),
    [
        ("repeat", "${n / 4}", "make it whole, e.g. 'repeat: ${ceil(n / 4)}'"),
        ("repeat", "${-n / 4}", "e.g. 'repeat: ${max(1, ceil(-n / 4))}'"),
        ("repeat", "${n - 6}", "the expression gives 0: keep at least one copy with 'repeat: ${max(1, n - 6)}'"),
        ("repeat", "${n > 2}", "choose a count with 'a if condition else b', e.g. 'repeat: ${2 if n > 2 else 1}'"),
        ("repeat", "${in.spatial}", "make it give a whole number of copies, e.g. 'repeat: 2'"),
        ("if", "${n}", "compare the number, e.g. 'if: ${n > 0}'"),
        ("if", "${in.spatial}", "e.g. 'if: ${min(in.spatial) >= 8}'"),
    ],
)
def test_if_and_repeat_expression_errors_say_what_to_write(modifier, expression, fix):
    """Were "check the expression" (repeat) and a generic hint (if); what they suggest is itself valid."""
    text = HEADER + f"params: {{n: 6}}\nlayers:\n  - relu: {{}}\n    {modifier}: '{expression}'\n"
    (found,) = errors(text)
    assert fix in found.fix
    suggested = re.search(rf"'{modifier}: (.*?)'", found.fix).group(1)
    analyse(text.replace(f"'{expression}'", f"'{suggested}'" if "$" in suggested else suggested))


def test_first_without_repeat():
    text = HEADER + "layers:\n  - relu: {}\n    first: {}\n"
    found = errors(text)
    assert "'first' only makes sense with 'repeat'" in found[0].message
    assert at(found[0]) == where(text, "first")


def test_first_must_be_a_mapping():
    text = HEADER + "layers:\n  - relu: {}\n    repeat: 2\n    first: 3\n"
    assert "'first' must be a mapping" in errors(text)[0].message


def test_bad_argument_in_first_is_found():
    text = HEADER + "layers:\n  - conv: {out: 4, kernel: 3, padding: 1}\n    repeat: 2\n    first: {stride: 0}\n"
    found = errors(text)
    assert "stride" in str(found[0])


def test_misspelt_modifier_suggests_the_modifier():
    """At f1fc28f 'repaet' was reported as a second op, with the advice to split the item."""
    text = HEADER + "layers:\n  - conv: {out: 4, kernel: 3}\n    repaet: 2\n"
    found = errors(text)
    assert found[0].fix == "did you mean 'repeat'?"


def test_two_ops_in_one_item():
    text = HEADER + "layers:\n  - conv: {out: 4, kernel: 3}\n    relu: {}\n"
    found = errors(text)
    assert "two ops" in found[0].message
    assert at(found[0]) == where(text, "relu:")


# -- if -------------------------------------------------------------------------------------------------------

CONDITIONAL = HEADER + textwrap.dedent("""\
    params: {norm: false, pool: true}
    layers:
      - conv: {out: 4, kernel: 3, padding: 1}
      - batchnorm: {}
        if: $norm
      - maxpool: {kernel: 2}
        if: ${pool and in.spatial[0] > 2}
      - relu: {}
        if: ${in.channels == 4}
      - tanh: {}
        if: false
    """)


def test_if():
    with pytest.raises(SpecError, match="subscripting"):
        analyse(CONDITIONAL)
    text = CONDITIONAL.replace("in.spatial[0] > 2", "min(in.spatial) > 2")
    ops = [row.op for row in analyse(text).layers]
    assert ops == ["conv", "maxpool", "relu"]
    assert [row.op for row in analyse(text, {"norm": True, "pool": False}).layers] == ["conv", "batchnorm", "relu"]


def test_if_inside_a_block_depends_on_its_arguments():
    report = archspec.analyze(archspec.load("vgg11", overrides={"batchnorm": True}), [3, 32, 32])
    assert "batchnorm" in {row.op for row in report.layers}
    report = archspec.analyze(archspec.load("vgg11"), [3, 32, 32])
    assert "batchnorm" not in {row.op for row in report.layers}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("3", "'if' must be true/false or an expression"),
        ("${1 + 1}", "'if' must give true or false"),
        ("$nope", "unknown name 'nope'"),
    ],
)
def test_bad_if(condition, message):
    text = HEADER + f"layers:\n  - relu: {{}}\n    if: {condition}\n"
    found = errors(text)
    assert message in found[0].message
    line, column = where(text, f"if: {condition}")
    assert at(found[0]) == (line, column + len("if: "))


# -- names and item shapes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["'1x'", "a.b", "'a b'", "3"])
def test_invalid_names(name):
    text = HEADER + f"layers:\n  - relu: {{}}\n    name: {name}\n"
    found = errors(text)
    assert "name" in found[0].message
    line, column = where(text, f"name: {name}")
    assert at(found[0]) == (line, column + len("name: "))


def test_duplicate_names():
    text = HEADER + "layers:\n  - relu: {}\n    name: act\n  - tanh: {}\n    name: act\n"
    found = errors(text)
    assert "already used" in found[0].message
    assert found[0].location.line == where(text, "act", 2)[0]


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ("layers: relu\n", "list"),
        ("layers:\n  - 3\n", "op name or a mapping"),
        ("layers:\n  - conv: 3\n", "must be a mapping"),
        ("layers:\n  - name: x\n", "no op"),
        ("layers:\n  - 'not a name'\n", "not an op name"),
        ("layers:\n  - sequential: []\n", "empty"),
    ],
)
def test_malformed_items(layers, message):
    found = errors(HEADER + layers)
    assert message in " | ".join(d.message for d in found)


def test_sequential_container():
    text = HEADER + "layers:\n  - sequential:\n      - conv: {out: 4, kernel: 3}\n      - relu\n    name: body\n"
    assert [row.path for row in analyse(text).layers] == ["body", "body.0", "body.1"]


@pytest.mark.parametrize("version", ["1.0", "true", "'1'"])
def test_format_version_must_be_the_integer_1(tmp_path, version):
    path = tmp_path / "v.yaml"
    path.write_text(f"archspec: {version}\nname: x\ninput: [3, 8, 8]\nlayers: [relu]\n")
    with pytest.raises(archspec.SpecError, match="unknown spec format version") as error:
        archspec.load(str(path))
    assert error.value.diagnostics[0].location.line == 1


def test_literal_arguments_beside_expressions_are_checked_without_false_alarms():
    """Keys holding expressions (or overridden by 'first') wait for expansion, and so do rules over several
    keys: a valid item mixing both passes validation; a literal mistake in it is reported at once."""
    base = {"archspec": 1, "name": "mixed", "input": [3, 16, 16], "params": {"s": 2, "w": 8}}
    valid = [
        {"upsample": {"scale": "$s", "mode": "nearest"}},  # 'exactly one of scale/size' sees only mode
        {"conv": {"out": "$w", "kernel": 3}},  # 'out' is required: it is there, as an expression
        {"conv": {"kernel": 3, "padding": 1}, "repeat": 2, "first": {"out": 8}},
        {"conv": {"out": 8, "kernel": 3, "padding": 1}},
    ]
    for layer in valid:
        archspec.load({**base, "layers": [layer, *([{"conv": {"out": 4, "kernel": 1}}] if "first" in layer else [])]})
    with pytest.raises(archspec.SpecError) as info:
        archspec.load({**base, "layers": [{"conv": {"out": "$w", "kernel": 3, "groups": 0}}, "reul"]})
    paths = [diagnostic.path for diagnostic in info.value.diagnostics]
    assert paths == [("layers", 0, "conv", "groups"), ("layers", 1, "reul")]
