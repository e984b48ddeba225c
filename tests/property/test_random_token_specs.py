"""Random specs over integer tokens (issue 11 "Also"): ``input: {tokens: L, vocab: V}``, an ``embedding`` (a table of
V rows or more, sometimes a padding row), then what a sequence [L, D] takes — attention, linears, norms, parameter
items, activations — drawn by the float specs' builder (test_random_specs.Builder). Static == measured at every
module (shapes, params, buffers, MACs with the indices drawn by torch.randint; tests/truth.py). And any op other
than the embedding, placed where the tokens arrive, is a located error, never a traceback."""

from __future__ import annotations

from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from test_random_specs import ANYWHERE, Builder
from truth import assert_static_equals_measured

import archspec
from archspec.ops.registry import all_ops


@st.composite
def token_specs(draw: Any) -> tuple[dict, tuple[int, ...]]:
    length, vocab, dim = draw(st.integers(1, 12)), draw(st.integers(1, 40)), draw(st.integers(1, 16))
    builder = Builder(draw, (length, dim))
    embedding: dict[str, Any] = {"dim": dim}
    rows = vocab
    if builder.flag():
        rows = embedding["vocab"] = vocab + builder.integer(0, 5)
    if builder.flag():
        embedding["padding_idx"] = builder.integer(-rows, rows - 1)
    layers: list[Any] = [{"embedding": embedding}]
    x: tuple[int, ...] = (length, dim)
    for _ in range(builder.integer(0, 4)):
        kind = builder.pick(["attention", "linear", "pointwise"])
        item, x = getattr(builder, kind)(x) if len(x) == 2 or kind != "attention" else builder.linear(x)
        layers.append(builder.named(item))
    spec = {"archspec": 1, "name": "tokens", "input": {"tokens": length, "vocab": vocab}, "layers": layers}
    return spec, x


@given(token_specs(), st.integers(1, 3), st.booleans())
def test_random_token_spec_static_equals_measured(case, batch, train):
    spec, output = case
    note(f"spec: {spec}")
    report = assert_static_equals_measured(spec, batch=batch, train=train and batch > 1)
    assert report.output_shape == [batch, *output]
    assert report.input_vocab == spec["input"]["vocab"] and report.receptive_field is None


FLOAT_OPS = sorted(name for name, op in all_ops().items() if not op.takes_tokens)


@given(st.sampled_from(FLOAT_OPS), st.integers(1, 9), st.integers(1, 30))
def test_a_float_op_on_tokens_is_a_located_error(op, length, vocab):
    examples = all_ops()[op].examples
    args = examples[0].args if examples else {}
    spec = {"archspec": 1, "name": "t", "input": {"tokens": length, "vocab": vocab}, "layers": [{op: args}]}
    try:
        archspec.analyze(spec)
    except archspec.SpecError as error:
        [diagnostic] = error.diagnostics
        assert diagnostic.path == ("layers", 0, op)
        assert "integer token indices" in diagnostic.message
    else:
        raise AssertionError(f"{op} took integer tokens")


def test_the_float_items_that_are_invalid_anywhere_stay_invalid_on_tokens():
    for what, item in ANYWHERE:
        spec = {"archspec": 1, "name": "t", "input": {"tokens": 4, "vocab": 9}, "layers": [item]}
        try:
            archspec.analyze(spec)
        except archspec.SpecError:
            continue
        raise AssertionError(what)
