"""Located errors of the attention ops: a layout they cannot take names the input's shape and the layout they
want; heads that do not divide the features, a shift as large as the window and a window of three dims are
errors at the argument, with a fix that works."""

from __future__ import annotations

import pytest
from errortools import assert_located_error

import archspec
from archspec.errors import SpecError


def _diagnostic(tmp_path, layers: str, spec_input: str = "[3, 32, 32]"):
    path = tmp_path / "spec.yaml"
    path.write_text(f"archspec: 1\nname: attention\ninput: {spec_input}\nlayers:\n{layers}", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        archspec.analyze(str(path))
    assert_located_error(caught.value, str(path))
    (diagnostic,) = caught.value.diagnostics
    return diagnostic


def test_self_attention_needs_a_sequence(tmp_path):
    diagnostic = _diagnostic(tmp_path, "  - conv: {out: 8, kernel: 3}\n  - self_attention: {heads: 2}\n")
    assert diagnostic.location.line == 6
    assert "[L, D]" in diagnostic.message and "8×30×30" in diagnostic.message
    assert "flatten" in diagnostic.fix and "permute" in diagnostic.fix


def test_self_attention_heads_must_divide_the_features(tmp_path):
    diagnostic = _diagnostic(tmp_path, "  - self_attention: {heads: 5}\n", "[197, 768]")
    assert (diagnostic.location.line, diagnostic.location.column) == (5, 29)  # at the value of heads
    assert "5 heads do not divide the input's 768 features" in diagnostic.message and "197×768" in diagnostic.message
    assert "e.g. 4" in diagnostic.fix  # 4 and 6 divide 768 and are as near to 5: the smaller is named


def test_window_attention_needs_a_channels_last_map(tmp_path):
    diagnostic = _diagnostic(tmp_path, "  - window_attention: {window: 7, heads: 3}\n", "[96, 3136]")
    assert diagnostic.location.line == 5
    assert "[H, W, C]" in diagnostic.message and "96×3136" in diagnostic.message
    assert "permute" in diagnostic.fix


def test_window_attention_heads_must_divide_the_channels(tmp_path):
    diagnostic = _diagnostic(tmp_path, "  - window_attention: {window: 7, heads: 5}\n", "[56, 56, 96]")
    assert diagnostic.location.line == 5
    assert "5 heads do not divide the input's 96 channels" in diagnostic.message
    assert "e.g. 4" in diagnostic.fix


@pytest.mark.parametrize(("shift", "text"), [("7", "shift [7, 7]"), ("[3, 4]", "shift [3, 4]")])
def test_window_attention_shift_below_the_window(tmp_path, shift, text):
    layers = f"  - window_attention: {{window: [7, 4], shift: {shift}, heads: 3}}\n"
    diagnostic = _diagnostic(tmp_path, layers, "[56, 56, 96]")
    assert diagnostic.location.line == 5
    assert f"{text} is not smaller than the window [7, 4]" in diagnostic.message
    assert "[3, 2]" in diagnostic.fix


def test_window_attention_window_has_two_dims(tmp_path):
    diagnostic = _diagnostic(tmp_path, "  - window_attention: {window: [7, 7, 7], heads: 3}\n", "[56, 56, 96]")
    assert diagnostic.location.line == 5
    assert "'window' has 3 values" in diagnostic.message and "rows, cols" in diagnostic.message
