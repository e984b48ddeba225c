"""``head``: a named side output; the main path continues from its input (the module is ``modules.Head``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.ops.base import OpArgs, Shape
from archspec.ops.containers.base import LAYERS, Container, ContainerExample, Inputs, Merge, Side, Visit
from archspec.ops.registry import register_container


class HeadArgs(OpArgs):
    train_only: bool = False


_CLASSIFIER = [{"global_avgpool": {}}, {"flatten": {}}, {"linear": {"out": 5}}]


@register_container
class Head(Container):
    """A named side output; the main path continues from its input unchanged (GoogLeNet's auxiliary heads)."""

    name, syntax, Args, order = "head", LAYERS, HeadArgs, 50
    module = "Head"
    produces_side_output = True
    chains_children = True  # its output is its input, passed on: never fresh
    examples = [
        ContainerExample({}, _CLASSIFIER, (4, 6, 6), "an auxiliary classifier"),
        ContainerExample(
            {"train_only": True},
            [{"conv": {"out": 3, "kernel": 3}}, *_CLASSIFIER],
            (2, 7, 7),
            "runs only in training",
            train=True,
        ),
        ContainerExample({}, [{"conv": {"out": 2, "kernel": 1}}], (3, 5), "1-D"),
    ]

    def runs_only_in_training(self, args: HeadArgs) -> bool:
        return args.train_only

    def module_arguments(self, args: HeadArgs) -> dict[str, Any]:
        return {"train_only": args.train_only}

    def output_shape(
        self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape], labels: Sequence[str] | None = None
    ) -> Shape:
        return input  # type: ignore[return-value]

    def side_output(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape]) -> Shape | None:
        return child_outputs[-1] if child_outputs else input  # type: ignore[return-value]

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        branch = state
        for child in children:
            branch = visit(child, branch)
        return side(state, branch)
