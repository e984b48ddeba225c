"""Contract over the op registry: every op's worked examples agree with the torch module it builds —
output shape, parameters, buffers and MACs, at batch 1 and batch 3 — and every op that torch has in
1-D, 2-D and 3-D is exercised in each."""

from __future__ import annotations

import pytest
from truth import assert_static_equals_measured

from archspec.ops.registry import all_ops

EXAMPLES = [(name, index, example) for name, op in sorted(all_ops().items())
            for index, example in enumerate(op.examples)]


def spec_for(op_name: str, args: dict, input_shape: tuple[int, ...]) -> dict:
    return {"archspec": 1, "name": f"{op_name}_example", "input": list(input_shape),
            "layers": [{op_name: args}]}


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(("name", "index", "example"), EXAMPLES,
                         ids=[f"{name}-{index}" for name, index, _ in EXAMPLES])
def test_example_static_equals_measured(name, index, example, batch):
    assert_static_equals_measured(spec_for(name, example.args, example.input), batch=batch)


SPATIAL_OPS = ["conv", "conv_transpose", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool",
               "global_avgpool", "global_maxpool", "upsample", "batchnorm", "dropout", "lrn"]


@pytest.mark.parametrize("name", SPATIAL_OPS)
def test_every_dimensionality_is_exercised(name):
    spatial_dims = {len(example.input) - 1 for example in all_ops()[name].examples}
    assert {1, 2, 3} <= spatial_dims


def test_every_op_has_examples():
    assert all(op.examples for op in all_ops().values())
