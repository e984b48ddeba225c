"""Spec expressions: a whitelisted arithmetic language evaluated without ``eval`` (DESIGN.md §2-3)."""

from __future__ import annotations

import contextlib
import math
import re

import pytest

import archspec
from archspec.errors import SpecError
from archspec.spec.expressions import ExpressionError, evaluate_expression, evaluate_value, referenced_names

SCOPE = {
    "act": "relu",
    "pad": 1,
    "c": 64,
    "k": 3,
    "ratio": 0.25,
    "flag": True,
    "dims": [7, 7],
    "in.channels": 3,
    "in.spatial": [32, 32],
    "in.dims": 2,
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 / 2", 3.5),
        ("7 % 3", 1),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("-c", -64),
        ("+k", 3),
        ("c * ratio", 16.0),
        ("k // 2", 1),
        ("min(c, 32)", 32),
        ("max(16, round(c * 0.1))", 16),
        ("max(1, 2, 3)", 3),
        ("min(dims)", 7),
        ("round(2.5)", 2),  # Python's banker's rounding
        ("round(3.5)", 4),
        ("round(2.675, 2)", 2.67),
        ("floor(-1.5)", -2),
        ("ceil(1.2)", 2),
        ("floor(7 / 2)", 3),
        ("abs(-3)", 3),
        ("max(16, round(c * 0.25)) // 8 * 8", 16),
        ("in.channels * 2", 6),
        ("in.spatial", [32, 32]),
        ("in.dims", 2),
        ("in.channels == 3 and k > 1", True),
        ("1 < k < 5", True),
        ("1 < k < 2", False),
        ("k != 3 or flag", True),
        ("not flag", False),
        ("c if k == 3 else 0", 64),
        ("[k, k]", [3, 3]),
        ("True", True),
        ("1e-3 * 1000", 1.0),
        # strings: values to choose and to compare with == and != (README "Expressions")
        ("'text'", "text"),
        ('"text"', "text"),
        ("''", ""),
        ("act", "relu"),
        ("act == 'relu'", True),
        ('act == "relu"', True),
        ("act != 'relu'", False),
        ("act == 'hardswish'", False),
        ("'relu' == act == 'relu'", True),
        ("act == 'relu' and k == 3", True),
        ("pad == 'same'", False),  # a string equals no number, as in Python: a number-or-word argument needs no check
        ("pad != 'same'", True),
        ("'1' == 1", False),
        ("[act] == ['relu']", True),
        ("'hardswish' if k == 3 else 'relu'", "hardswish"),
        ("'relu6' if act == 'relu6' else act", "relu"),
        ("[act, 'x y-z:1.5']", ["relu", "x y-z:1.5"]),
        ('"it\'s" != \'say "hi"\'', True),
        ("not act", False),
        ("act or 'relu6'", "relu"),
    ],
)
def test_arithmetic(source, expected):
    result = evaluate_expression(source, SCOPE)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$c", 64),
        ("${c * 2}", 128),
        ("${ k*k }", 9),
        ("$in.channels", 3),
        ("${in.channels + 1}", 4),
        ("stage${k}", "stage3"),
        ("b$k", "b3"),
        ("${k}x${k}", "3x3"),
        ("plain", "plain"),
        ("stage_${act}", "stage_relu"),
        ("${'hardswish' if k == 3 else act}", "hardswish"),
        ("$act", "relu"),
        (["$k", {"x": "${k + 1}"}, 5], [3, {"x": 4}, 5]),
        ({"out": "$c", "kernel": "${k * 2 + 1}"}, {"out": 64, "kernel": 7}),
        (3, 3),
        (None, None),
    ],
)
def test_evaluate_value(value, expected):
    assert evaluate_value(value, SCOPE) == expected


def rejected(source: str, scope=None) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        evaluate_expression(source, SCOPE if scope is None else scope)
    return info.value


# (source, a pattern the message must match): the wording may change, the subject of the refusal must not.
REJECTED = [
    ("c.real", r"attribute"),
    ("().__class__", r"attribute"),
    ("(1).__class__.__bases__", r"attribute"),
    ("k[0]", r"subscript"),
    ("dims[0]", r"subscript"),
    ("lambda: 1", r"lambda"),
    ("[x for x in dims]", r"comprehension"),
    ("(x for x in dims)", r"comprehension"),
    ("{x: 1 for x in dims}", r"comprehension"),
    ("{x for x in dims}", r"comprehension"),
    ("{1: 2}", r"mapping|dict"),
    ("{1, 2}", r"\bset\b"),
    ("(y := 1)", r"assignment|:="),
    ("max(*dims)", r"unpacking|\*"),
    ("f'{k}'", r"f-string|string"),
    ("b'x'", r"not allowed|bytes"),
    # strings are compared with == and != only, and never computed with (README "Expressions")
    ("act < 'z'", r"cannot order a string \(relu\) and a string \(z\) with '<'"),
    ("'a' >= act", r"cannot order a string"),
    ("1 < act", r"cannot order a number \(1\) and a string"),
    ("1 < 2 < act", r"cannot order"),
    ("max(act, 'gelu')", r"max\(\) takes numbers, got a string"),
    ("min([1, act])", r"min\(\) takes numbers, got a string"),
    ("round(act)", r"round\(\) takes numbers"),
    ("act + 'x'", r"cannot apply '\+' to a string"),
    ("act * 3", r"cannot apply '\*' to a string"),
    ("-act", r"unary '-' cannot apply to a string"),
    # string literals mean what they show: no prefixes, escapes, braces or implicit concatenation
    ("r'relu'", r"prefix"),
    ("u'relu'", r"prefix"),
    ("'re' 'lu'", r"prefix"),
    (r"'\x41'", r"escape"),
    (r"'it\'s'", r"escape"),
    ("'{x}'", r"brace"),
    ('"a}"', r"brace"),
    ("'''relu'''", r"prefix"),
    ("'caf\u00e9'", r"non-ASCII"),
    ("None", r"None"),
    ("open('x')", r"'open'"),
    ("eval('1')", r"'eval'"),
    ("__import__('os')", r"'__import__'"),
    ("exec", r"'exec'"),
    ("min(c, key=abs)", r"keyword|'min'"),
    ("k.__class__", r"attribute|__class__"),
    ("__builtins__", r"'__builtins__' is not allowed"),
    ("__class__", r"'__class__' is not allowed"),
    ("__x", r"'__x' is not allowed"),
    ("2 ** 100", r"too large"),
    ("round(k, -10 ** 18)", r"number of digits"),
    ("10 ** 10 ** 10", r"too large"),
    ("9 ** 9 ** 9", r"too large"),
    ("2.0 ** 4096", r"too large"),
    ("(2 ** 40) * (2 ** 40)", r"out of range|too large"),
    ("1 / 0", r"division by zero"),
    ("1 // 0", r"division by zero"),
    ("1 % 0", r"division by zero"),
    ("1 << 70", r"'<<'|LShift"),
    ("c @ k", r"'@'|MatMult"),
    ("~k", r"'~'|Invert"),
    ("k in dims", r"\bIn\b|'in'"),
    ("k is 3", r"\bIs\b|'is'"),
    ("min()", r"min"),
    ("1 +", r"parse"),
    ("k = 3", r"parse"),
    ("width", r"unknown name 'width'"),
    ("cc", r"unknown name 'cc'"),
    ("x" * 501, r"longer than 500"),
]


@pytest.mark.parametrize(("source", "pattern"), REJECTED, ids=[source[:30] for source, _ in REJECTED])
def test_rejections(source, pattern):
    assert re.search(pattern, rejected(source).message)


def test_unknown_names_suggest_the_closest_param():
    assert rejected("cc").fix == "did you mean 'c'?"
    assert "declare it under params" in rejected("zzz", {"a": 1}).fix
    assert "none" in rejected("zzz", {}).fix


def test_did_you_mean_for_whole_name_references():
    with pytest.raises(ExpressionError) as info:
        evaluate_value("$ratoi", SCOPE)
    assert info.value.fix == "did you mean 'ratio'?"


def test_dunder_names_are_refused_even_as_whole_references():
    with pytest.raises(ExpressionError, match="not allowed"):
        evaluate_value("$__class__", SCOPE)


def test_rejections_carry_a_fix():
    for source in ("c.real", "k[0]", "lambda: 1", "open('x')", "2 ** 100"):
        assert rejected(source).fix


def test_never_evaluates_python(tmp_path):
    marker = tmp_path / "pwned"
    for source in (
        f"__import__('pathlib').Path('{marker}').touch()",
        f"open('{marker}', 'w')",
        "[c for c in ().__class__.__base__.__subclasses__()]",
    ):
        with pytest.raises(ExpressionError):
            evaluate_expression(source, SCOPE)
    assert not marker.exists()


@pytest.mark.parametrize(
    "source", ["floor(1e308 * 10)", "ceil(-1e308 * 10)", "round(1e308 * 10)", "floor(inf)", "ceil(nan)"]
)
def test_floor_of_infinity_is_an_expression_error(source):
    """Was an OverflowError traceback (math.floor(inf)) at f1fc28f."""
    rejected(source, {"inf": float("inf"), "nan": float("nan")})


@pytest.mark.parametrize(
    "source", ["-" * 498 + "1", "not " * 124 + "1", "(" * 249 + "1" + ")" * 249, "+-" * 249 + "1", "1" + "+1" * 249]
)
def test_deeply_nested_expression_is_a_value_or_an_expression_error(source):
    """498 unary minus signs were a RecursionError traceback at f1fc28f; the 500-character cap alone does not
    bound the nesting depth."""
    with contextlib.suppress(ExpressionError):  # a clear refusal is as good as the value
        assert evaluate_expression(source, SCOPE) in (1, True, False, 250)


def test_moderately_nested_expression():
    assert evaluate_expression("-" * 100 + "1", SCOPE) == 1
    assert evaluate_expression("(" * 50 + "k" + ")" * 50, SCOPE) == 3


@pytest.mark.parametrize(
    "source", ["[0] * 10 ** 7", "dims * 10 ** 7", "10 ** 7 * dims", "name * 10 ** 8", "in.spatial * 2 ** 40"]
)
def test_sequence_repetition_is_refused(source):
    """'[0] * 10**7' built a 10-million-element list (and 2**31 copies exhausted memory) at f1fc28f."""
    rejected(source, {**SCOPE, "name": "abc"})


def test_expressions_in_a_spec_are_evaluated():
    spec = {
        "archspec": 1,
        "name": "e",
        "input": [3, 16, 16],
        "params": {"width": 8, "k": 3},
        "layers": [
            {"conv": {"out": "${width * 2}", "kernel": "$k", "padding": "${k // 2}"}},
            {"conv": {"out": "${in.channels // 2}", "kernel": 1}},
            {"conv": {"out": "${max(4, round(in.channels * 0.25))}", "kernel": 1}},
            {"maxpool": {"kernel": "${2 ** 1}"}},
            "flatten",
        ],
    }
    report = archspec.analyze(spec)
    shapes = [row.output_shape for row in report.layers]
    assert shapes == [[1, 16, 16, 16], [1, 8, 16, 16], [1, 4, 16, 16], [1, 4, 8, 8], [1, 256]]


def test_float_results_that_are_whole_become_integers():
    spec = {
        "archspec": 1,
        "name": "e",
        "input": [3, 8, 8],
        "params": {"width": 8},
        "layers": [{"conv": {"out": "${width / 2}", "kernel": 1}}],
    }
    assert archspec.analyze(spec).output_shape == [1, 4, 8, 8]


def spec_error(spec: dict) -> SpecError:
    with pytest.raises(SpecError) as info:
        archspec.analyze(spec)
    return info.value


def test_integer_fields_need_integral_results():
    error = spec_error(
        {
            "archspec": 1,
            "name": "e",
            "input": [3, 8, 8],
            "params": {"width": 9},
            "layers": [{"conv": {"out": "${width / 2}", "kernel": 1}}],
        }
    )
    assert error.diagnostics[0].path[:3] == ("layers", 0, "conv")
    assert "4.5" in str(error)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("${width.bit_length()}", r"attribute|bit_length"),
        ("${__import__('os')}", r"not allowed"),
        ("$widht", r"did you mean 'width'"),
        ("${width ** 99}", r"too large"),
    ],
)
def test_bad_expressions_in_a_spec_are_located(expression, message):
    error = spec_error(
        {
            "archspec": 1,
            "name": "e",
            "input": [3, 8, 8],
            "params": {"width": 8},
            "layers": [{"conv": {"out": expression, "kernel": 1}}],
        }
    )
    assert re.search(message, str(error))
    assert error.diagnostics[0].path[:3] == ("layers", 0, "conv")


# -- no argument makes Python do unbounded work ---------------------------------------------------------------

# The work of Python's integer arithmetic grows with the size of the numbers it computes: a call is checked before
# it is made, so that one that would never finish fails at once. 128 bits: the product of two numbers below 2**62.
MAX_WORK_BITS = 128


def _bits(value) -> float:
    if isinstance(value, list | tuple):
        return max((_bits(item) for item in value), default=0)
    return float(value.bit_length()) if isinstance(value, int) else 64.0  # a float is one machine number


def _work_bits(name: str, args: tuple) -> float:
    """The size of the largest number Python computes for the call: ``a ** b`` of integers is about b·log2|a| bits,
    ``round(n, d)`` of an integer computes 10 ** |d|; float arithmetic works on 64-bit numbers."""
    integers = all(isinstance(arg, int) for arg in args)
    if name == "**" and integers and abs(args[0]) > 1 and args[1] > 0:
        return args[1] * math.log2(abs(args[0]))
    if name == "round" and len(args) == 2 and integers:
        return max(_bits(args[0]), abs(args[1]) * math.log2(10))
    return sum(_bits(arg) for arg in args) if name == "*" else max((_bits(arg) for arg in args), default=0)


@pytest.fixture
def arithmetic(monkeypatch):
    """Every operator and function the walker calls, with its arguments, each checked to be bounded work before
    it runs."""
    from archspec.spec import expression_walker as walker

    calls = []

    def recorded(name, function):
        def call(*args):
            calls.append((name, args))
            assert _work_bits(name, args) <= MAX_WORK_BITS, (
                f"{name}{args} computes a number of {_work_bits(name, args):.3g} bits"
            )
            return function(*args)

        return call

    monkeypatch.setattr(
        walker, "_BINARY", {op: recorded(walker._SYMBOLS[op], function) for op, function in walker._BINARY.items()}
    )
    monkeypatch.setattr(
        walker, "FUNCTIONS", {name: recorded(name, function) for name, function in walker.FUNCTIONS.items()}
    )
    return calls


@pytest.mark.parametrize(
    "source", ["round(w, -10**18)", "round(w, -19)", "round(w, 19)", "round(2.5, 10**18)", "round(2.5, -10**18)"]
)
def test_round_digits_are_bounded(source, arithmetic):
    """``round(12345, -10**18)`` hung: Python's integer round computes 10**18 digits' worth of 10 ** -ndigits. It
    is refused before round is called."""
    error = rejected(source, {"w": 12345})
    assert "number of digits" in error.message
    assert error.fix == "use digits from -18 to 18"
    assert [name for name, _ in arithmetic] == ["**"] * source.count("**")  # the 10**18 itself; never round


@pytest.mark.parametrize(
    ("source", "expected"),
    [("round(w, -18)", 0), ("round(w, 18)", 12345), ("round(w, -2)", 12300), ("round(1234.5678, 2)", 1234.57)],
)
def test_round_digits_within_the_bound(source, expected):
    assert evaluate_expression(source, {"w": 12345}) == expected


@pytest.mark.parametrize("digits", ["1.5", "True", "[2]"])
def test_round_digits_must_be_whole(digits):
    error = rejected(f"round(w, {digits})", {"w": 12345})
    assert "must be a whole number" in error.message and error.fix


# Every allowed function and operator at the edges of what the walker lets through: each finishes at once, with
# a value below 2**62 or a refusal — never a huge integer, an overflow traceback or minutes of arithmetic.
EDGE_CASES = [
    "abs(-2**62)",
    "abs(-4611686018427387904 - 1)",
    "floor(1e18 * 1e3)",
    "ceil(-1e300)",
    "round(1e300)",
    "round(-1e18)",
    "max(2**61, 2**61) * 4",
    "min(0.5 ** -3000, 1)",
    "2 ** 61.99",
    "(-2) ** 0.5",
    "0.5 ** -10**18",
    "1 ** 10**18",
    "(-1) ** (10**18 + 1)",
    "10 ** -10**18",
    "0 ** 10**18",
    "4611686018427387904 * 4611686018427387904",
    "4611686018427387904 // 3 * 4611686018427387904",
    "4611686018427387904 % 7.5",
    "-4611686018427387904 // 1e-300",
    "1e300 * 1e300",
    "1e-300 / 1e300",
    "floor(2 ** 62 + 0.5)",
    "ceil(4611686018427387904 / 1e-10)",
    "round(4e18, 18)",
]


@pytest.mark.parametrize("source", EDGE_CASES)
def test_functions_and_operators_stay_bounded(source, arithmetic):
    try:
        value = evaluate_expression(source, SCOPE)
    except ExpressionError as error:
        assert error.fix
    else:
        assert isinstance(value, int | float) and abs(value) <= 2**62


# -- and / or decide like Python ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "scope", "expected"),
    [
        ("x != 0 and 10 // x > 1", {"x": 0}, False),  # was "division by zero": both sides were evaluated
        ("x != 0 and 10 // x > 1", {"x": 2}, True),
        ("x == 1 or y", {"x": 1}, True),  # was "unknown name 'y'"
        ("x == 0 or 1 // x == 1", {"x": 0}, True),
        ("x > 5 and x < 9 and 1 // 0", {"x": 3}, False),
        ("x > 1 and x < 9", {"x": 3}, True),
        ("x < 1 or x > 9", {"x": 3}, False),
        ("0 and 1 // 0", {}, 0),  # the deciding operand, as in Python
        ("x or 7", {"x": 0}, 7),
    ],
)
def test_and_or_short_circuit(source, scope, expected):
    result = evaluate_expression(source, scope)
    assert result == expected and type(result) is type(expected)


def test_later_operands_are_still_checked_when_they_decide():
    assert "unknown name 'y'" in rejected("x == 2 or y", {"x": 1}).message
    assert "division by zero" in rejected("x == 0 and 1 // x", {"x": 0}).message


# -- in.* is its own namespace ------------------------------------------------------------------------------


def test_params_named_like_the_input_do_not_shadow_it():
    """A param ``in_channels`` used to be read by ``${in.channels}`` (the walker rewrote in.x to in_x)."""
    scope = {"in_channels": 5, "in_spatial": [1], "in_dims": 9, "in.channels": 3, "in.spatial": [32, 32], "in.dims": 2}
    assert evaluate_expression("in.channels", scope) == 3
    assert evaluate_expression("in.spatial", scope) == [32, 32]
    assert evaluate_expression("in.dims", scope) == 2
    assert evaluate_value("$in.channels", scope) == 3
    assert evaluate_expression("in_channels + in_dims", scope) == 14


def test_input_shape_wins_over_params_in_a_spec():
    spec = {
        "archspec": 1,
        "name": "e",
        "input": [3, 16, 16],
        "params": {"in_channels": 7, "in_spatial": [2, 2], "in_dims": 5},
        "blocks": {"b": {"params": {"in_channels": 11}, "layers": [{"conv": {"out": "${in.channels}", "kernel": 1}}]}},
        "layers": [
            {"conv": {"out": "${in.channels * min(in.spatial) // 16 + in.dims}", "kernel": 1}},
            {"conv": {"out": "$in_channels", "kernel": 1}},
            "b",
        ],
    }
    assert [row.output_shape[1] for row in archspec.analyze(spec).layers[:3]] == [5, 7, 7]


@pytest.mark.parametrize(
    ("source", "message", "fix"),
    [
        ("in.height", "unknown name 'in.height'", "use in.channels, in.spatial or in.dims"),
        (
            "in.chanels * 2",
            "unknown name 'in.chanels'",
            "did you mean 'in.channels'? (use in.channels, in.spatial or in.dims)",
        ),
        (
            "in.spatial[0] >= 16",
            "subscripting is not allowed in expressions ('in.spatial[0]')",
            "min(in.spatial) or max(in.spatial)",
        ),
        ("dims[0]", "('dims[0]')", "give the value its own param"),
        ("in.channels.real", "attribute access is not allowed in expressions ('in.channels.real')", "use numbers"),
        ("__in__.channels", "name '__in__' is not allowed", "in.channels, in.spatial or in.dims"),
    ],
)
def test_input_shape_messages_show_the_users_text(source, message, fix):
    error = rejected(source)
    assert message in error.message and fix in error.fix
    assert "in_spatial" not in error.message and "__in__." not in error.message  # no rewritten names leak


def test_whole_name_reference_to_an_unknown_input_field():
    with pytest.raises(ExpressionError, match=re.escape("unknown name 'in.height'")):
        evaluate_value("$in.height", SCOPE)


def test_input_fields_outside_a_layer_say_where_they_are_known():
    error = rejected("in.channels * 2", {"width": 4})
    assert "only layer arguments and block arguments" in error.message


def test_referenced_names():
    assert referenced_names("${a + max(b, in.channels)}") == {"a", "b"}
    assert referenced_names(["$x", {"k": "stage${y}"}, 3, "${min(z)}"]) == {"x", "y", "z"}
    assert referenced_names("${not parsable +}") == set()
    assert referenced_names("plain") == set()
