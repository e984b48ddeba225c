"""The fix an output-size error gives is true and tight: the padding it names makes the layer valid (and one less
does not), and so does the input size it names (and one less in a dimension that failed does not). And every
hint that names a concrete argument value — for any op, any wrong argument — makes the layer valid once applied.

Shapes come from archspec's own rules, which the op contract and property tests check against PyTorch.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import archspec

SETTINGS = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PADDING = re.compile(r"use padding (>=|<=) (\d+|\[[\d, ]+\])")
SMALLEST = re.compile(r"make this layer's input at least ([\d×]+)")


def spec(op: str, args: dict, sizes: list[int]) -> dict:
    return {"archspec": 1, "name": "hint", "input": [2, *sizes], "layers": [{op: args}]}


def error_of(data: dict) -> archspec.SpecError | None:
    try:
        archspec.analyze(data)
    except archspec.SpecError as error:
        return error
    return None


def per_dim(text: str, dims: int) -> list[int]:
    values = [int(v) for v in re.findall(r"\d+", text)]
    return values * dims if len(values) == 1 else values


@st.composite
def too_small_layers(draw):
    op = draw(st.sampled_from(["conv", "maxpool", "avgpool", "conv_transpose"]))
    dims = draw(st.integers(1, 2))
    kernel = draw(st.integers(1, 9))
    args: dict = {"kernel": kernel, "stride": draw(st.integers(1, 4))}
    if op in ("conv", "conv_transpose"):
        args["out"] = 2
    if op in ("conv", "maxpool", "conv_transpose"):
        args["dilation"] = draw(st.integers(1, 3))
    if op in ("maxpool", "avgpool"):
        args["padding"] = draw(st.integers(0, kernel // 2))
        args["ceil_mode"] = draw(st.booleans())
    else:
        args["padding"] = draw(st.integers(0, 6))
    if op == "conv_transpose":
        args["output_padding"] = draw(st.integers(0, max(args["stride"], args["dilation"]) - 1))
    sizes = [draw(st.integers(1, 8)) for _ in range(dims)]
    return op, args, sizes


@SETTINGS
@given(too_small_layers())
def test_output_size_hints_are_true_and_tight(layer):
    op, args, sizes = layer
    error = error_of(spec(op, args, sizes))
    assume(error is not None and "output size would be" in str(error))
    note(str(error))
    fix = error.diagnostics[0].fix or ""
    dims = len(sizes)

    smallest = SMALLEST.search(fix)
    assert smallest, fix
    minimum = per_dim(smallest.group(1), dims)
    assert error_of(spec(op, args, minimum)) is None, f"the input size {minimum} the hint names does not work"
    for dim, (size, least) in enumerate(zip(sizes, minimum, strict=True)):
        if size < least and least > 1:
            smaller = list(minimum)
            smaller[dim] = least - 1
            assert error_of(spec(op, args, smaller)) is not None, f"{smaller} works too: the hint is not tight"

    padding = PADDING.search(fix)
    if padding is None:
        assert op in ("maxpool", "avgpool") and "padding cannot make up for it" in fix
        return
    wanted = per_dim(padding.group(2), dims)
    assert error_of(spec(op, {**args, "padding": wanted}, sizes)) is None, f"padding {wanted} does not work"
    step = 1 if padding.group(1) == ">=" else -1
    for dim in range(dims):
        closer = list(wanted)
        closer[dim] -= step
        if closer[dim] != args["padding"] and closer[dim] >= 0 and (closer[dim] - args["padding"]) * step > 0:
            assert error_of(spec(op, {**args, "padding": closer}, sizes)) is not None, (
                f"padding {closer} works too: the hint is not tight"
            )


# -- every hint that names a concrete value works when applied ------------------------------------------------

_VALUE = r"'[^']*'|\[[^\]]*\]|-?\d[\d.e+-]*|true|false|null"
_USE = re.compile(
    rf"^use (?:an? )?(?P<key>\w+)(?P<index>\[\d+\])?:? (?P<value>{_VALUE})(?P<bound> or (?:more|less))?"
    rf"(?: and (?P<key2>\w+) (?P<value2>{_VALUE}))?"
)
_RANGE = re.compile(
    r"^use (?:an? )?(?P<key>\w+) from (?P<a>-?\d+) to (?P<b>-?\d+)"
    r"(?: \(or (?P<c>-?\d+) to (?P<d>-?\d+)\))?"
)
_AT_LEAST = re.compile(rf"^(?:an? )?(?P<key>\w+) of at least (?P<value>{_VALUE})")
_EXAMPLE = re.compile(rf"e\.g\. (?P<key>\w+): (?P<value>{_VALUE})")
_UNQUOTED = re.compile(rf"without quotes: (?P<value>{_VALUE})$")
_DIVISORS = re.compile(r"^use (?P<key>\w+) that divide both \d+ and \d+: (?P<values>[\d, ]+)$")
_REMOVE = re.compile(r"^remove (?P<key>\w+)$")
_REMOVED = object()


class _UsersValue:
    """The user's own value, retyped by the hint (``write the number without quotes: 16``): applying it fixes the
    type; whether 16 suits the layer is the user's choice, not the hint's."""

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, _UsersValue) and other.value == self.value


CAP = 2**31 - 1  # the bound that only stops absurd numbers: applying it fixes that key, not the layer


def yaml_value(text: str):
    from archspec.loading.yaml_loader import load_text

    return load_text(f"v: {text}\n").data["v"]


def alternatives(fix: str, key: str) -> list[dict]:
    """The argument changes each alternative of ``fix`` names (``use padding 1 or less, or a kernel of at least
    4`` → ``[{padding: 1}, {kernel: 4}]``); alternatives that name no argument value are left out."""
    found: list[dict] = []
    for part in re.split(r", or |; ", fix):
        part = part.strip()
        if match := _RANGE.match(part):
            found += [{match["key"]: int(match[g])} for g in "abcd" if match[g] is not None]
        elif match := _DIVISORS.match(part):
            found += [{match["key"]: int(v)} for v in match["values"].split(",")]
        elif match := _USE.match(part):
            change = {match["key"] + (match["index"] or ""): yaml_value(match["value"])}
            if match["key2"]:
                change[match["key2"]] = yaml_value(match["value2"])
            found.append(change)
        elif match := _AT_LEAST.match(part):
            found.append({match["key"]: yaml_value(match["value"])})
        elif match := _REMOVE.match(part):
            found.append({match["key"]: _REMOVED})
        if match := _EXAMPLE.search(part):
            found.append({match["key"]: yaml_value(match["value"])})
        if match := _UNQUOTED.search(part):
            found.append({key: _UsersValue(yaml_value(match["value"]))})
    return found


def applied(args: dict, change: dict) -> dict:
    result = dict(args)
    for key, value in change.items():
        name, _, index = key.partition("[")
        value = value.value if isinstance(value, _UsersValue) else value
        if value is _REMOVED:
            result.pop(name, None)
        elif index:
            result[name] = list(result[name])
            result[name][int(index.rstrip("]"))] = value
        else:
            result[name] = value
    return result


def single_layer_cases() -> list[tuple[str, dict, list[int]]]:
    """Single-layer specs with one wrong argument: every argument of every op given wrong values, plus the shape
    errors whose hints name values (each from the audit that found hints which did not work)."""
    from test_every_fix import WRONG_VALUES

    from archspec.ops.registry import all_ops

    cases = []
    for name, op in sorted(all_ops().items()):
        example = op.examples[0] if op.examples else None
        args, shape = (dict(example.args), list(example.input)) if example else ({}, [3, 8, 8])
        cases += [(name, {**args, field: wrong}, shape) for field in op.Args.model_fields for wrong in WRONG_VALUES]
    cases += [
        ("avgpool", {"kernel": 3, "padding": 1}, [2, 1, 8, 8]),  # said "use kernel [1, 3, 3]": padding 1 then fails
        ("avgpool", {"kernel": 3, "stride": 1, "padding": 1}, [2, 2, 8, 8]),
        ("avgpool", {"kernel": [3, 5, 5], "padding": [1, 2, 2]}, [2, 2, 3, 8]),
        ("adaptive_avgpool", {"output": -1}, [2, 8, 8]),  # said "use output 0 or more", and 0 is rejected
        ("adaptive_maxpool", {"output": [0, 4]}, [2, 8, 8]),
        ("adaptive_avgpool", {"output": [2, 2, 2]}, [2, 8, 8]),
        ("flatten", {"start": 4}, [3, 8, 8]),  # said "use start >= 1" with no upper bound
        ("flatten", {"start": -5}, [3, 8, 8]),
        ("flatten", {"start": 2}, [12]),
        ("flatten", {"start": 2, "end": 1}, [3, 8, 8]),
        ("upsample", {"scale": 2, "mode": "bilinear"}, [2, 8]),  # said "use mode 'linear' (or 'linear')"
        ("upsample", {"scale": 2, "mode": "trilinear"}, [2, 8, 8]),
        ("upsample", {"scale": 2, "mode": "bicubic"}, [2, 8]),
        ("upsample", {"scale": 0.01}, [2, 8, 30]),
        ("upsample", {"size": 4, "align_corners": True}, [2, 8]),
        ("maxpool", {"kernel": 3, "padding": 2}, [2, 8, 8]),
        ("avgpool", {"kernel": [2, 4], "padding": [1, 3]}, [2, 8, 8]),
        ("avgpool", {"kernel": 2, "divisor_override": 2}, [2, 8]),
        ("conv", {"out": 4, "kernel": 3, "stride": 2, "padding": "same"}, [2, 8, 8]),
        ("conv", {"out": 8, "kernel": 3, "groups": 4}, [6, 8, 8]),
        ("conv", {"out": 4, "kernel": 3, "padding": 5, "padding_mode": "reflect"}, [2, 4, 4]),
        ("conv", {"out": 4, "kernel": [3, 3, 3]}, [2, 8, 8]),
        ("conv_transpose", {"out": 4, "kernel": 3, "stride": 2, "output_padding": 2}, [2, 8, 8]),
        ("softmax", {"dim": 5}, [2, 8, 8]),
        ("dropout", {"channel": True}, [12]),
        ("batchnorm", {}, [12]),
    ]
    return cases


def test_every_hint_that_names_a_value_works():
    """Apply each hint's values to its layer: the spec is then valid (or, for the cap on absurd numbers, the
    key is fixed)."""
    tried = 0
    for op, args, shape in single_layer_cases():
        error = error_of(layer_spec(op, args, shape))
        if error is None or len(error.diagnostics) != 1:
            continue
        (diagnostic,) = error.diagnostics
        key = next((str(part) for part in reversed(diagnostic.path) if isinstance(part, str) and part != op), op)
        for change in alternatives(diagnostic.fix, key):
            if not set(k.partition("[")[0] for k in change) <= set(archspec_fields(op)):
                continue  # a hint about something else (the batch, the input size)
            tried += 1
            fixed = error_of(layer_spec(op, applied(args, change), shape))
            note = f"{op} {args} on {shape}: '{diagnostic.fix}' → {change}: {fixed}"
            if CAP in change.values() or any(isinstance(v, _UsersValue) for v in change.values()):
                assert fixed is None or all(
                    d.path != diagnostic.path or d.message != diagnostic.message for d in fixed.diagnostics
                ), note
            elif not arguments_valid(op, args):
                # A hint about the argument alone (its type or range) cannot see the layer's input: it must fix
                # the argument, and whatever the layer's rules then say about it must have a hint that works.
                assert settles(op, applied(args, change), shape, diagnostic.path), note
            else:  # a hint from the layer's rules, which saw the whole layer and its input
                assert fixed is None, note
    print(f"\n{tried} hints applied")
    assert tried > 500  # the parser keeps up with the hints' wording


def layer_spec(op: str, args: dict, shape: list[int]) -> dict:
    return {"archspec": 1, "name": "hint", "input": shape, "layers": [{op: args}]}


def settles(op: str, args: dict, shape: list[int], path: tuple, steps: int = 2) -> bool:
    """No diagnostic is left at ``path``, or the one left names a value that, applied, leads there."""
    error = error_of(layer_spec(op, args, shape))
    left = [d for d in (error.diagnostics if error else []) if d.path == path]
    if not left:
        return True
    key = str(path[-1])
    changes = [
        c for c in alternatives(left[0].fix, key) if set(k.partition("[")[0] for k in c) <= set(archspec_fields(op))
    ]
    return steps > 0 and bool(changes) and settles(op, applied(args, changes[0]), shape, path, steps - 1)


def arguments_valid(op: str, args: dict) -> bool:
    """Whether the arguments pass their model (types, ranges) — the layer may still reject its input."""
    from pydantic import ValidationError

    from archspec.ops.registry import all_ops

    try:
        all_ops()[op].Args.model_validate(args)
    except ValidationError:
        return False
    return True


def archspec_fields(op: str) -> list[str]:
    from archspec.ops.registry import all_ops

    return list(all_ops()[op].Args.model_fields)


def test_hint_parser():
    assert alternatives("use padding 1 or less, or a kernel of at least 4", "padding") == [
        {"padding": 1},
        {"kernel": 4},
    ]
    assert alternatives(
        "use kernel [1, 3, 3] and padding [0, 1, 1], or make this layer's input at least 3×3×3", "kernel"
    ) == [{"kernel": [1, 3, 3], "padding": [0, 1, 1]}]
    assert alternatives("use start from 1 to 3 (or -3 to -1)", "start") == [{"start": v} for v in (1, 3, -3, -1)]
    assert alternatives("write a number, not false, e.g. eps: 1e-05", "eps") == [{"eps": 1e-05}]
    assert alternatives("use mode 'linear'", "mode") == [{"mode": "linear"}]
    assert alternatives("write the number without quotes: 16", "out") == [{"out": _UsersValue(16)}]


@pytest.mark.parametrize(
    ("op", "args", "shape", "fix"),
    [
        ("flatten", {"start": 4}, [3, 8, 8], "use start from 1 to 3 (or -3 to -1)"),  # was "use start >= 1"
        ("flatten", {"start": 2}, [12], "use start 1 (or -1)"),
        ("upsample", {"scale": 2, "mode": "bilinear"}, [2, 8], "use mode 'linear'"),  # was "... (or 'linear')"
        ("upsample", {"scale": 2, "mode": "trilinear"}, [2, 8, 8], "use mode 'linear' (or 'bilinear')"),
        ("adaptive_avgpool", {"output": -1}, [2, 8, 8], "use output 1 or more"),  # was "use output 0 or more"
        (
            "avgpool",
            {"kernel": 3, "padding": 1},
            [2, 1, 8, 8],
            "use kernel [1, 3, 3] and padding [0, 1, 1], or make this layer's input at least 3×3×3",
        ),
        (
            "avgpool",
            {"kernel": [2, 4], "padding": [1, 3]},
            [2, 8, 8],
            "use padding [1, 2] or less, or a kernel of at least [2, 6]",
        ),
    ],
)
def test_hints_name_the_whole_range_and_nothing_twice(op, args, shape, fix):
    error = error_of(layer_spec(op, args, shape))
    assert error.diagnostics[0].fix == fix
