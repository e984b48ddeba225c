"""Strings in expressions (README "Expressions"): ``==`` and ``!=`` agree with Python for any two values the
walker can hold, a literal means exactly the characters between its quotes, and ordering or computing with a
string is always a refusal with a fix — never a value, never a traceback."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archspec.spec.expressions import ExpressionError, evaluate_expression

# What a literal may hold: printable ASCII without backslashes, braces or the quote that delimits it.
PLAIN = st.text(st.sampled_from([chr(c) for c in range(0x20, 0x7F) if chr(c) not in "\\{}'\""]), max_size=20)
WORDS = st.one_of(PLAIN, st.sampled_from(["relu", "hardswish", "same", "1", "True", ""]))
VALUES = st.one_of(WORDS, st.integers(-(2**40), 2**40), st.booleans(), st.floats(-1e6, 1e6, allow_nan=False))


@given(WORDS, VALUES)
def test_equality_is_pythons(word, other):
    scope = {"a": word, "b": other}
    assert evaluate_expression("a == b", scope) is (word == other)
    assert evaluate_expression("b != a", scope) is (other != word)


@given(PLAIN, st.booleans())
def test_a_literal_is_the_text_between_its_quotes(text, double):
    literal = f'"{text}"' if double else f"'{text}'"
    assert evaluate_expression(literal, {}) == text
    assert evaluate_expression(f"x == {literal}", {"x": text}) is True
    assert evaluate_expression(f"{literal} if c else 0", {"c": True}) == text


@given(WORDS, VALUES, st.sampled_from(["<", "<=", ">", ">="]), st.booleans())
def test_ordering_a_string_is_refused(word, other, symbol, word_first):
    source = f"a {symbol} b" if word_first else f"b {symbol} a"
    with pytest.raises(ExpressionError) as info:
        evaluate_expression(source, {"a": word, "b": other})
    assert "cannot order" in info.value.message and "== and !=" in info.value.fix


@given(WORDS, VALUES, st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]))
def test_arithmetic_on_a_string_is_refused(word, other, symbol):
    with pytest.raises(ExpressionError) as info:
        evaluate_expression(f"a {symbol} b", {"a": word, "b": other})
    assert info.value.fix


@given(WORDS, VALUES, st.sampled_from(["min", "max", "round", "floor", "ceil", "abs"]))
def test_functions_refuse_strings(word, other, function):
    for source in (f"{function}(a)", f"{function}([b, a])", f"{function}(b, a)"):
        with pytest.raises(ExpressionError) as info:
            evaluate_expression(source, {"a": word, "b": other})
        assert info.value.fix
