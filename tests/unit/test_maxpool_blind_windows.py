"""Dilated max pooling whose window can lie wholly in the padding: PyTorch returns -inf there and its backward
pass writes out of bounds ("double free or corruption", a segfault). archspec refuses exactly those layers.

Ground truth is PyTorch's forward pass (no gradients, which is safe): for every small 1-D geometry that
archspec accepts otherwise, archspec refuses the layer if and only if torch's output holds -inf for a finite
input.
"""

from __future__ import annotations

import itertools

import pytest
import torch

import archspec

BLIND = "reads only padding"


def spec(length: int, **pool) -> dict:
    return {"archspec": 1, "name": "pool", "input": [1, length], "layers": [{"maxpool": pool}]}


def geometries():
    for length, kernel, stride, dilation, ceil_mode in itertools.product(
        range(1, 7), range(1, 5), range(1, 4), range(1, 5), (False, True)
    ):
        for padding in range(kernel // 2 + 1):
            yield (
                length,
                {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "ceil_mode": ceil_mode},
            )


def test_refused_exactly_where_torch_returns_minus_infinity():
    refused = 0
    x = torch.rand(1, 1, 6)  # finite, and the same values for every length
    for length, pool in geometries():
        try:
            archspec.analyze(spec(length, **pool))
            blind = False
        except archspec.SpecError as error:
            if BLIND not in str(error):
                continue  # refused for another reason (torch refuses these too: see the op contract tests)
            blind = True
        module = torch.nn.MaxPool1d(
            pool["kernel"], pool["stride"], pool["padding"], pool["dilation"], ceil_mode=pool["ceil_mode"]
        )
        with torch.no_grad():
            output = module(x[..., :length])
        assert blind == bool(torch.isinf(output).any()), (length, pool)
        refused += blind
    assert refused > 10  # the geometry grid really reaches the case


def test_the_message_is_located_and_its_fix_works():
    bad = spec(1, kernel=2, stride=1, padding=1, dilation=2)
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(bad)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == ("layers", 0, "maxpool", "dilation")
    assert diagnostic.message.startswith(
        "output position 0 reads only padding: its window starts at -1 and "
        "with dilation 2 its taps skip the whole input of 1"
    )
    assert diagnostic.fix == "use a dilation of at most 1, or make this layer's input at least 2 long there"
    for fixed in (
        spec(1, kernel=2, stride=1, padding=1, dilation=1),
        spec(2, kernel=2, stride=1, padding=1, dilation=2),
    ):
        archspec.analyze(fixed)


def test_every_suggested_fix_is_accepted():
    """Both suggestions — the dilation and the input length — give a layer archspec and torch accept."""
    checked = 0
    for length, pool in geometries():
        try:
            archspec.analyze(spec(length, **pool))
            continue
        except archspec.SpecError as error:
            if BLIND not in str(error):
                continue
            fix = error.diagnostics[0].fix
        archspec.analyze(spec(length, **{**pool, "dilation": length}))
        if "input at least" in fix:
            archspec.analyze(spec(int(fix.split("input at least ")[1].split()[0]), **pool))
        checked += 1
    assert checked > 10
