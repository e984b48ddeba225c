"""A container is one registered class: one defined here, in the test, works everywhere a built-in one does —
parsing, the JSON Schema, ``archspec list``, analysis, the table, compiling and codegen — because every pass
reads what the container declares (syntax, module, side output, training only) instead of its name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
import torch
from truth import assert_static_equals_measured

import archspec
from archspec.blocks.schema import spec_schema
from archspec.ops.containers.base import LAYERS, Container, ContainerExample
from archspec.ops.containers.head import HeadArgs
from archspec.ops.registry import CONTAINERS, all_containers, register_container
from archspec.render.table import render_table


@pytest.fixture
def probe_container() -> Iterator[type[Container]]:
    """``probe: {layers: [...]}``: a side output that always runs only in training (a deep-supervision tap),
    compiled to the backend's Head module. Registered for the test only."""

    class Probe(Container):
        """A training-only side output (deep supervision)."""

        name, syntax, Args = "probe", LAYERS, HeadArgs
        module = "Head"
        produces_side_output = True
        chains_children = True
        examples: ClassVar[list[ContainerExample]] = [
            ContainerExample(
                {}, [{"global_avgpool": {}}, {"flatten": {}}, {"linear": {"out": 3}}], (4, 6, 6), train=True
            )
        ]

        def runs_only_in_training(self, args):
            return True

        def module_arguments(self, args):
            return {"train_only": True}

        def output_shape(self, args, input, child_outputs, labels=None):
            return input

        def side_output(self, args, input, child_outputs):
            return child_outputs[-1]

        def propagate(self, state, children, visit, merge, side):
            branch = state
            for child in children:
                branch = visit(child, branch)
            return side(state, branch)

    all_containers()  # the built-in ones first, so that the test's is the only one removed afterwards
    register_container(Probe)
    try:
        yield Probe
    finally:
        del CONTAINERS["probe"]


def network(input_shape: list[int]) -> dict:
    return {
        "archspec": 1,
        "name": "tapped",
        "input": input_shape,
        "layers": [
            {"conv": {"out": 4, "kernel": 3, "padding": 1}},
            {"probe": {"layers": [{"global_avgpool": {}}, {"flatten": {}}, {"linear": {"out": 3}}]}, "name": "tap"},
            {"conv": {"out": 2, "kernel": 3}},
        ],
    }


def test_a_new_container_is_analysed_and_compiled_from_its_declarations(probe_container):
    spec = network([2, 6, 6])
    eval_report = assert_static_equals_measured(spec)
    train_report = assert_static_equals_measured(spec, train=True)
    # Eval mode: the tap does not run, so the network returns the tensor; training: the tap's output too.
    assert eval_report.outputs == [{"name": "output", "shape": [1, 2, 4, 4]}]
    assert train_report.outputs == [{"name": "output", "shape": [1, 2, 4, 4]}, {"name": "tap", "shape": [1, 3]}]
    model = archspec.compile(archspec.load(spec)).train()
    outputs = model(torch.zeros(1, 2, 6, 6))
    assert set(outputs) == {"output", "tap"}
    # The table marks where the training-only part starts, read from the container's declaration.
    assert "probe (train)" in render_table(eval_report)


def test_a_new_container_is_written_in_its_declared_syntax(probe_container):
    with pytest.raises(archspec.SpecError, match="'probe' needs 'layers'"):
        archspec.analyze(
            archspec.load({"archspec": 1, "name": "x", "input": [2, 4, 4], "layers": [{"probe": {"train_only": True}}]})
        )
    item = spec_schema()["$defs"]["item"]
    choice = next(c for c in item["anyOf"] if c.get("required") == ["probe"])
    assert choice["properties"]["probe"]["required"] == ["layers"]


def test_a_new_container_compiles_to_standalone_code(probe_container):
    from archspec.render.codegen import generate_source

    spec = archspec.load(network([2, 6, 6]))
    namespace: dict = {}
    exec(compile(generate_source(archspec.expand(spec)), "<generated>", "exec"), namespace)
    torch.manual_seed(0)
    generated = namespace["build_model"]()
    torch.manual_seed(0)
    compiled = archspec.compile(spec)
    assert generated.state_dict().keys() == compiled.state_dict().keys()
    generated.train()
    assert set(generated(torch.zeros(1, 2, 6, 6))) == {"output", "tap"}


def test_a_stray_key_beside_a_containers_children_is_an_error():
    """Only the container's own children key is taken apart from its arguments: 'layers' beside a concat's
    branches used to be dropped without a word."""
    with pytest.raises(archspec.SpecError, match="layers"):
        archspec.analyze(
            archspec.load(
                {
                    "archspec": 1,
                    "name": "x",
                    "input": [2, 4, 4],
                    "layers": [{"concat": {"branches": [[], []], "layers": ["relu"]}}],
                }
            )
        )
