"""Contract over the op and container registries: every op's and every container's worked examples agree
with the torch module it builds — output shape, parameters, buffers and MACs, at batch 1 and batch 3 (and in
training mode where an example says so) — and every op that torch has in 1-D, 2-D and 3-D is exercised in
each. The lists come from the registries, so a new op or container is covered by adding its file."""

from __future__ import annotations

import pytest
from truth import assert_static_equals_measured

from archspec.ops.base import Tokens
from archspec.ops.registry import all_containers, all_ops

EXAMPLES = [
    (name, index, example) for name, op in sorted(all_ops().items()) for index, example in enumerate(op.examples)
]
CONTAINER_EXAMPLES = [
    (name, index, example)
    for name, container in sorted(all_containers().items())
    for index, example in enumerate(container.examples)
]


def spec_for(op_name: str, value: object, input_shape: tuple[int, ...]) -> dict:
    """A spec of one item; a ``Tokens`` example input is written as a token input (measured with randint)."""
    if isinstance(input_shape, Tokens):
        written: object = {"tokens": input_shape[0], "vocab": input_shape.vocab}
    else:
        written = list(input_shape)
    return {"archspec": 1, "name": f"{op_name}_example", "input": written, "layers": [{op_name: value}]}


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(("name", "index", "example"), EXAMPLES, ids=[f"{name}-{index}" for name, index, _ in EXAMPLES])
def test_example_static_equals_measured(name, index, example, batch):
    assert_static_equals_measured(spec_for(name, example.args, example.input), batch=batch)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(
    ("name", "index", "example"), CONTAINER_EXAMPLES, ids=[f"{name}-{index}" for name, index, _ in CONTAINER_EXAMPLES]
)
def test_container_example_static_equals_measured(name, index, example, batch):
    value = all_containers()[name].syntax.written(example.args, example.children)
    for train in (False, True) if example.train else (False,):
        report = assert_static_equals_measured(spec_for(name, value, example.input), batch=batch, train=train)
        assert report.layers[0].op == name  # the example is the container itself


SPATIAL_OPS = [
    "conv",
    "conv_transpose",
    "maxpool",
    "avgpool",
    "adaptive_avgpool",
    "adaptive_maxpool",
    "global_avgpool",
    "global_maxpool",
    "upsample",
    "batchnorm",
    "dropout",
    "lrn",
    "layer_scale",
    "pos_embedding",
    "layernorm",
    "groupnorm",
    "instancenorm",
    "stochastic_depth",
]


@pytest.mark.parametrize("name", SPATIAL_OPS)
def test_every_dimensionality_is_exercised(name):
    spatial_dims = {len(example.input) - 1 for example in all_ops()[name].examples}
    assert {1, 2, 3} <= spatial_dims


def test_every_op_has_examples():
    assert all(op.examples for op in all_ops().values())


def test_every_container_has_examples_in_every_dimensionality():
    for name, container in all_containers().items():
        spatial_dims = {len(example.input) - 1 for example in container.examples}
        assert {1, 2} <= spatial_dims, name


def test_every_container_names_a_module_of_the_backend():
    from archspec.backend import modules

    for name, container in all_containers().items():
        assert callable(getattr(modules, container.module, None)), name


def test_no_name_is_both_an_op_and_a_container():
    assert not set(all_ops()) & set(all_containers())
