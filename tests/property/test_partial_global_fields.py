"""Ops that read a whole spatial dimension but stay local along the others: ``linear`` on a spatial input (it
acts on the last dim) and ``softmax`` along a spatial dim. Their field is exact, with jump 0 along the dim
they read whole (every output's span along it is the entire input) — not "global", which would claim the
other dims are read whole too. The gradient probe is the judge, at the first, middle and last positions.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from probe import clipped, receptive_spans

import archspec

CONV = {"conv": {"out": 2, "kernel": 3, "padding": 1}}


def spec(input: list[int], *layers: Any) -> dict:
    return {"archspec": 1, "name": "partial", "input": input, "layers": list(layers)}


CASES = [
    pytest.param(spec([2, 8, 8], {"linear": {"out": 3}}), id="linear-2d"),
    pytest.param(
        spec([2, 9, 7], CONV, {"linear": {"out": 4}}, {"conv": {"out": 2, "kernel": 3, "stride": 2}}),
        id="conv-linear-conv",
    ),
    pytest.param(spec([2, 5, 6, 7], {"linear": {"out": 2}}), id="linear-3d"),
    pytest.param(spec([2, 8, 8], CONV, {"softmax": {"dim": 2}}), id="softmax-height"),
    pytest.param(
        spec([2, 8, 9], {"softmax": {"dim": -1}}, {"conv": {"out": 2, "kernel": 3, "stride": 2}}),
        id="softmax-width-then-strided-conv",
    ),
    pytest.param(spec([2, 4, 5, 6], {"softmax": {"dim": 3}}, CONV), id="softmax-3d-middle-dim"),
]


@pytest.mark.parametrize("case", CASES)
def test_field_equals_probe(case):
    report = archspec.analyze(case)
    field = report.layers[-1].rf
    assert field.kind == "exact"
    assert 0 in field.jump  # the dim read whole
    sizes = report.output_shape[2:]
    lengths = case["input"][1:]
    indices = list(itertools.product(*[sorted({0, n // 2, n - 1}) for n in sizes]))
    measured = receptive_spans(archspec.compile(case), case["input"], indices)
    for index, spans in zip(indices, measured, strict=True):
        static = [clipped(field.span(i, d), lengths[d]) for d, i in enumerate(index)]
        assert static == spans, index


def test_along_every_dim_is_global():
    """With one spatial dim, softmax along it reads everything: the field is global."""
    field = archspec.analyze(spec([2, 10], CONV, {"softmax": {"dim": -1}})).layers[-1].rf
    assert field.kind == "global"
