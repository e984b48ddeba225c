"""The fix an output-size error gives is true and tight: the padding it names makes the layer valid (and one less
does not), and so does the input size it names (and one less in a dimension that failed does not).

Shapes come from archspec's own rules, which the op contract and property tests check against PyTorch.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import archspec

SETTINGS = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
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
            assert error_of(spec(op, {**args, "padding": closer}, sizes)) is not None, \
                f"padding {closer} works too: the hint is not tight"
