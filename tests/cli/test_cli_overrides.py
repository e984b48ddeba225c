"""Errors caused by ``--set`` (``overrides=``) say so: the message names the override that the offending value
comes from — through expressions, params defined from params, and block arguments — and, for a fault that
no single value explains (a shape rule), names every override in effect."""

from __future__ import annotations

import pytest
from clitools import bundled_text, cli_runner, position, write_spec

import archspec

SPEC = """archspec: 1
name: overridden
input: [3, 16, 16]
params: {width: 8, hidden: "${width * 2}", depth: 2}
blocks:
  unit:
    params: {c: required, g: 1}
    layers:
      - conv: {out: $c, kernel: 3, groups: $g}
layers:
  - unit: {c: $hidden, g: 1}
  - residual: {out: $width}
    repeat: $depth
  - conv: {out: 4, kernel: 5}
"""


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture
def spec(tmp_path):
    return write_spec(tmp_path, SPEC, "overridden.yaml")


def test_bundled_spec_error_names_the_override(cli):
    code, _, err = cli("check", "vgg16", "--set", "num_classes=0")
    assert code == 1
    line, column = position(bundled_text("vgg16"), "$num_classes")
    assert err == (
        f"<archspec>/specs/vgg16.yaml:{line}:{column}: error: layers[3].sequential[6].linear.out: out must "
        "be >= 1, got 0 (num_classes = 0 from --set) — use out 1 or more\n"
    )


def test_override_traced_through_a_param_and_a_user_block(cli, spec):
    code, _, err = cli("check", str(spec), "--set", "width=0")
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"{spec}:{position(SPEC, '$c')[0]}:")  # inside the block, where $c is used
    assert "out must be >= 1, got 0 (width = 0 from --set)" in first


def test_override_traced_into_a_bundled_block(cli, spec):
    code, _, err = cli("check", str(spec), "--set", "width=2.5", "--set", "depth=1")
    assert code == 1
    # hidden = 5.0 fills the user block's conv; residual's convs get 2.5 from its 'out' argument
    residual = [line for line in err.splitlines() if "→ block 'residual' at " in line]
    assert residual and all("(width = 2.5 from --set)" in line for line in residual), err
    assert all("depth" not in line for line in residual)


def test_override_traced_to_a_modifier(cli, spec):
    code, _, err = cli("check", str(spec), "--set", "depth=0")
    assert code == 1
    line, column = position(SPEC, "$depth")
    assert err.startswith(f"{spec}:{line}:{column}: error: layers[1].repeat: repeat must be a whole number >= 1")
    assert "(depth = 0 from --set)" in err


def test_error_not_caused_by_an_override_does_not_blame_it(cli, tmp_path):
    text = SPEC.replace("conv: {out: 4, kernel: 5}", 'conv: {out: "${4 - 4}", kernel: 5}')
    code, _, err = cli("check", str(write_spec(tmp_path, text)), "--set", "depth=1")
    assert code == 1
    assert "out must be >= 1, got 0 — " in err  # no note: the value is wrong whatever the params


def test_shape_rule_error_names_the_overrides_in_effect(cli, tmp_path):
    """groups 5 does not divide the 3 input channels: the argument is not overridden, but the input's shape is
    not traced, so the overrides in effect are named."""
    text = SPEC.replace("g: 1}\n  - residual", "g: 5}\n  - residual")
    code, _, err = cli("check", str(write_spec(tmp_path, text)), "--set", "depth=1")
    assert code == 1
    assert "groups" in err and "(with depth = 1 from --set)" in err


def test_shape_error_names_the_overrides_in_effect(cli, tmp_path):
    """The last conv's input shrinks because of --input, but no value says so: every override is named."""
    spec = write_spec(tmp_path, SPEC)
    code, _, err = cli("check", str(spec), "--input", "3,4,4", "--set", "depth=1", "--set", "width=4")
    assert code == 1
    assert "output size" in err
    assert "(with depth = 1, width = 4 from --set)" in err


def test_python_api_names_overrides(spec):
    with pytest.raises(archspec.SpecError) as error:
        archspec.analyze(archspec.load(spec, overrides={"width": 0}))
    assert "(width = 0 from overrides)" in str(error.value)


def test_no_note_without_overrides(cli, tmp_path):
    code, _, err = cli("check", str(write_spec(tmp_path, SPEC.replace("width: 8", "width: 0"))))
    assert code == 1
    assert "in layers[0] → block 'unit' at layers[0].conv.out: out must be >= 1, got 0 — " in err
    assert "from --set" not in err


def test_shape_rule_error_traced_to_the_argument(cli, tmp_path):
    text = (
        "archspec: 1\nname: g\ninput: [3, 8, 8]\nparams: {g: 1}\nlayers:\n  - conv: {out: 6, kernel: 3, groups: $g}\n"
    )
    spec = write_spec(tmp_path, text)
    code, _, err = cli("check", str(spec), "--set", "g=2")
    assert code == 1
    line, column = position(text, "$g}")
    assert err.startswith(f"{spec}:{line}:{column}: error: layers[0].conv.groups: ")
    assert "(g = 2 from --set)" in err
