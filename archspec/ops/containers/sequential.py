"""``sequential``: items run one after another, under one name (``nn.Sequential``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.ops.base import Shape
from archspec.ops.containers.base import (
    ITEM_LIST,
    LIST_INPUT,
    PREVIOUS,
    Container,
    ContainerExample,
    Inputs,
    Merge,
    Side,
    Visit,
)
from archspec.ops.registry import register_container


@register_container
class Sequential(Container):
    """Runs its items one after another (torch.nn.Sequential); items may use ``id`` / ``from``."""

    name, syntax, order = "sequential", ITEM_LIST, 10
    module = "sequential"  # nn.Sequential, or RoutedSequential where an item uses id / from
    chains_children = True
    routes_children = True
    examples = [
        ContainerExample({}, [{"conv": {"out": 8, "kernel": 3}}, "relu", {"maxpool": {"kernel": 2}}], (3, 12, 12)),
        ContainerExample({}, [{"linear": {"out": 6}}, "tanh"], (5,)),
        ContainerExample(
            {},
            [
                {"conv": {"out": 4, "kernel": 1}, "id": "skip"},
                {"conv": {"out": 4, "kernel": 3, "padding": 1}},
                {"add": {}, "from": ["prev", "skip"]},
            ],
            (2, 9),
            "routed: id / from inside",
        ),
    ]

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        return bool(children_fresh) and children_fresh[-1]

    def output_shape(
        self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape], labels: Sequence[str] | None = None
    ) -> Shape:
        return child_outputs[-1] if child_outputs else input  # type: ignore[return-value]

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        saved: dict[str, Any] = {LIST_INPUT: state}
        for child in children:
            if child.sources:
                state = Inputs(state if source == PREVIOUS else saved[source] for source in child.sources)
                if len(state) == 1:
                    state = state[0]
            state = visit(child, state)
            if child.id:
                saved[child.id] = state
        return state
