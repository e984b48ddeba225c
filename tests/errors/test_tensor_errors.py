"""Located errors of the parameter items (class_token, pos_embedding, layer_scale): a wrong layout or a length
its tensor does not hold stops the spec at the item, naming both shapes, with a fix."""

from __future__ import annotations

import pytest
from errortools import assert_located_error

import archspec
from archspec.errors import SpecError


def _diagnostic(tmp_path, layers: str, spec_input: str = "[3, 32, 32]", **options):
    path = tmp_path / "spec.yaml"
    path.write_text(f"archspec: 1\nname: tokens\ninput: {spec_input}\nlayers:\n{layers}", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        archspec.analyze(str(path), **options)
    assert_located_error(caught.value, str(path))
    (diagnostic,) = caught.value.diagnostics
    return diagnostic


def test_class_token_needs_a_sequence(tmp_path):
    diagnostic = _diagnostic(tmp_path, "  - conv: {out: 8, kernel: 3}\n  - class_token\n")
    assert diagnostic.location.line == 6
    assert "[L, D]" in diagnostic.message and "8×30×30" in diagnostic.message and "1×1×D" in diagnostic.message
    assert "flatten" in diagnostic.fix


def test_pos_embedding_of_another_length_names_both_shapes(tmp_path):
    layers = "  - flatten: {start: 2}\n  - pos_embedding: {length: 196, dim: 2}\n"
    diagnostic = _diagnostic(tmp_path, layers, "[3, 16, 16]")
    assert diagnostic.location.line == 6
    assert "1×3×196" in diagnostic.message and "3×256" in diagnostic.message
    assert "length: 256" in diagnostic.fix


def test_pos_embedding_rejects_another_input_given_on_the_command_line(tmp_path):
    layers = (
        "  - conv: {out: 4, kernel: 16, stride: 16}\n  - flatten: {start: 2}\n"
        "  - pos_embedding: {length: 196, dim: 2}\n"
    )
    diagnostic = _diagnostic(tmp_path, layers, "[3, 224, 224]", input_shape=[3, 240, 240])
    assert diagnostic.location.line == 7
    assert "1×4×196" in diagnostic.message and "4×225" in diagnostic.message


@pytest.mark.parametrize(("op", "dim"), [("layer_scale", 4), ("layer_scale", 0), ("pos_embedding", -5)])
def test_dim_outside_the_feature_dims(tmp_path, op, dim):
    diagnostic = _diagnostic(tmp_path, f"  - {op}: {{dim: {dim}}}\n")
    assert diagnostic.location.line == 5
    assert f"dim {dim} is not a feature dimension" in diagnostic.message and "3×32×32" in diagnostic.message
    assert "use a dim from 1 to 3" in diagnostic.fix
