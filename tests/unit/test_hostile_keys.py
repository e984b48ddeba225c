"""Keys whose text reads like pydantic's own location labels (``int``, ``str``, ``none``, ``x[1]``, ``[key]``) are
located by their real key path, like any other key; names match exactly (no trailing line break slips through)."""

from __future__ import annotations

import pytest

from archspec.errors import SpecError, format_spec_path
from archspec.loading.yaml_loader import load_text
from archspec.spec.validate import validate

HEADER = "archspec: 1\nname: t\ninput: [3, 8, 8]\n"


def diagnostics(text: str) -> list:
    with pytest.raises(SpecError) as info:
        validate(load_text(text, "s.yaml"))
    return info.value.diagnostics


def position(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def at(diagnostic) -> tuple[int, int]:
    return diagnostic.location.line, diagnostic.location.column


# pydantic names union branches 'int', 'float', 'bool', 'str', 'none', 'list[...]', 'literal[...]', and marks an
# error in a mapping's key with '[key]'.
LABEL_LIKE = ["int", "str", "bool", "none", "float", "a[0]", "[key]", "list[int]", "function-after"]


@pytest.mark.parametrize("key", LABEL_LIKE)
def test_unknown_top_level_key_named_like_a_label(key):
    """... while params named like labels are params like any other."""
    text = HEADER + f'"{key}": 1\nparams: {{int: 4, str: 2}}\nlayers:\n  - conv: {{out: "${{int * str}}", kernel: 1}}\n'
    [found] = diagnostics(text)
    assert found.path == (key,)
    assert found.message == f"unknown key '{key}'"
    assert at(found) == position(text, f'"{key}"')


@pytest.mark.parametrize("key", LABEL_LIKE)
def test_unknown_key_inside_a_block_is_that_key(key):
    text = HEADER + f'blocks:\n  b:\n    "{key}": 3\n    layers: [relu]\nlayers: [b]\n'
    [found] = diagnostics(text)
    assert found.path == ("blocks", "b", key)
    assert found.message == f"unknown key '{key}'"
    assert at(found) == position(text, f'"{key}"')


def test_block_named_like_a_label_with_a_misspelt_key():
    text = HEADER + "blocks:\n  int:\n    layerz: [relu]\nlayers: [relu]\n"
    found = diagnostics(text)
    assert [(d.path, d.message) for d in found] == [(("blocks", "int", "layerz"), "unknown key 'layerz'")]
    assert found[0].fix == "did you mean 'layers'?"


@pytest.mark.parametrize("key", ["[key]", "x[1]", "q.r"])
def test_invalid_param_name_is_located_at_the_key(key):
    text = HEADER + f'params:\n  "{key}": 1\nlayers: [relu]\n'
    [found] = diagnostics(text)
    assert found.path == ("params", key)
    assert "is not a valid name" in found.message
    assert at(found) == position(text, f'"{key}"')


@pytest.mark.parametrize("key", LABEL_LIKE)
def test_unknown_op_argument_named_like_a_label(key):
    """... beside ``kernel: {int: 3}``, where pydantic's error for the union's int branch is ('kernel', 'int') and
    the data has a key 'int' too: that error is the argument's own (a mapping is no kernel)."""
    text = HEADER + f'layers:\n  - conv: {{out: 4, kernel: {{int: 3}}, "{key}": 1}}\n'
    found = {d.path: d for d in diagnostics(text)}
    assert set(found) == {("layers", 0, "conv", "kernel"), ("layers", 0, "conv", key)}
    assert found["layers", 0, "conv", key].message == f"unknown key '{key}'"
    assert "got {'int': 3} (mapping)" in found["layers", 0, "conv", "kernel"].message


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("name", '  - relu:\n    name: "fc\\n"\n'),
        ("id", '  - relu:\n    id: "a\\n"\n'),
        ("op", '  - "relu\\n"\n'),
    ],
)
def test_names_with_a_trailing_line_break_are_not_names(where, text):
    found = diagnostics(HEADER + "layers:\n" + text)
    assert len(found) == 1 and "\\n" in found[0].message


def test_paths_quote_keys_that_are_not_plain_names():
    assert format_spec_path(("params", "a\n")) == 'params["a\\n"]'
    assert format_spec_path(("blocks", "x[1]", "layers", 0)) == 'blocks["x[1]"].layers[0]'
    assert format_spec_path(("layers", 0, "conv", "out")) == "layers[0].conv.out"
    text = str(SpecError(diagnostics(HEADER + 'params: {"a\\nb": 1}\nlayers: [relu]\n')))
    assert "\n" not in text  # one line per problem, whatever the key


# Python folds identifiers by NFKC: '${ｗ}' would read the param 'w', '${＿＿in＿＿.channels}' the input's channels.
@pytest.mark.parametrize(
    ("out", "fix"),
    [
        ("'${ｗ}'", "write it in ASCII: 'w'"),
        ("'${ｗ * 2}'", "write it in ASCII: 'w * 2'"),
        ("$ｗ", "write it in ASCII: '$w'"),
        ("'${w１}'", "write it in ASCII: 'w1'"),
        (
            "'${＿＿in＿＿.channels}'",
            "write names with ASCII letters, digits and '_' (not starting with '__'), and numbers with ASCII digits",
        ),
        ("'${ｍａｘ(w, 1)}'", "write it in ASCII: 'max(w, 1)'"),
    ],
)
def test_names_in_expressions_match_exactly(out, fix):
    import archspec

    text = HEADER + f"params: {{w: 4, w1: 8}}\nlayers:\n  - conv: {{out: {out}, kernel: 1}}\n"
    with pytest.raises(SpecError) as info:
        archspec.analyze(validate(load_text(text, "s.yaml")))
    [found] = info.value.diagnostics
    assert found.path == ("layers", 0, "conv", "out")
    assert "non-ASCII character" in found.message and "names and numbers in expressions are ASCII" in found.message
    assert found.fix == fix


# -- a spec's block named like an op or a built-in block -------------------------------------------------------

INCEPTION = "inception: {ch1x1: 4, ch3x3red: 4, ch3x3: 4, ch5x5red: 4, ch5x5: 4, pool_proj: 4}"


def _with_block(name: str, override: str = "", layers: str = "[gelu]") -> str:
    """A spec with a block ``name`` (``layers``, then anything more of its definition), used once before an
    inception block."""
    return HEADER + f"blocks:\n  {name}:\n    {override}layers: {layers}\nlayers:\n  - {name}\n  - {INCEPTION}\n"


@pytest.mark.parametrize(("name", "kind"), [("conv_bn_relu", "block"), ("relu", "op")])
def test_a_block_may_not_take_a_built_in_name_unasked(name, kind):
    text = _with_block(name)
    [found] = diagnostics(text)
    assert found.path == ("blocks", name)
    assert found.message == f"block '{name}' has the name of a built-in {kind}"
    assert (
        found.fix == f"rename the block, or add 'override: true' to its definition to use it instead of the "
        f"built-in {kind} in this spec"
    )
    assert at(found) == position(text, f"{name}:")


# What replaces relu, and conv_bn_relu (with the parameters inception gives it): a gelu where the original ends
# in relu, and for conv_bn_relu no batchnorm.
OVERRIDES = {
    "relu": "[gelu]",
    "conv_bn_relu": "[{conv: {out: $out, kernel: $kernel, padding: $padding}}, gelu]\n"
    "    params: {out: 4, kernel: 1, stride: 1, padding: 0, eps: 0.001}",
}


@pytest.mark.parametrize("name", sorted(OVERRIDES))
def test_override_replaces_the_name_everywhere(name):
    """inception is made of conv_bn_relu, which ends in relu: the override reaches inside the built-in blocks."""
    import archspec

    plain = archspec.analyze(validate(load_text(HEADER + f"layers:\n  - {INCEPTION}\n", "s.yaml")))
    text = _with_block(name, "override: true\n    ", OVERRIDES[name])
    report = archspec.analyze(validate(load_text(text, "s.yaml")))
    assert [layer.op for layer in report.layers if layer.path.split(".")[0] == "0"][:1] == [name]
    inside = [layer for layer in report.layers if layer.path.startswith("1.")]
    replaced = [layer for layer in plain.layers if layer.op == name]
    assert replaced and len([layer for layer in inside if layer.op == name]) == len(replaced)
    assert len([layer for layer in inside if layer.op == "gelu"]) == len(replaced)  # one per use, the spec's block
    gone = ("relu",) if name == "relu" else ("relu", "batchnorm")
    assert not any(layer.leaf and layer.op in gone for layer in inside)


def test_override_of_nothing_is_an_error():
    found = diagnostics(_with_block("conv_bn_relux", "override: true\n    "))
    assert [(d.path, d.message, d.fix) for d in found] == [
        (
            ("blocks", "conv_bn_relux", "override"),
            "block 'conv_bn_relux' overrides nothing: no op or built-in block has its name",
            "did you mean 'conv_bn_relu'?",
        )
    ]


def test_a_container_name_cannot_be_overridden():
    found = diagnostics(HEADER + "blocks:\n  concat:\n    override: true\n    layers: [relu]\nlayers: [relu]\n")
    assert [(d.path, d.message, d.fix) for d in found] == [
        (
            ("blocks", "concat"),
            "block 'concat' has the name of a built-in container, which a block cannot replace",
            "rename the block",
        )
    ]
