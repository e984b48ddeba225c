"""``channel_split``: splits its input into one equal part per branch along the channels, runs branch k on part
k and concatenates the outputs (ShuffleNet v2's channel split: ``x1, x2 = x.chunk(2, dim=1)``,
``torch.cat((x1, branch2(x2)), dim=1)``; the module is ``modules.ChannelSplit``, or inlined, part steps of
``archspec.backend.flow`` and a concat)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from archspec.errors import OpError
from archspec.ops.base import OpArgs, Shape, format_shape
from archspec.ops.containers.base import (
    BRANCHES,
    Container,
    ContainerExample,
    Inputs,
    Merge,
    Side,
    Visit,
    default_labels,
    listed,
)
from archspec.ops.registry import register_container


class ChannelSplitArgs(OpArgs):
    # The channels only: a split along a spatial dim would give each branch a shifted part of the field.
    dim: Literal[1] = 1


def _conv(out: int, kernel: int = 1, **args: Any) -> dict[str, Any]:
    return {"conv": {"out": out, "kernel": kernel, **args}}


@register_container
class ChannelSplit(Container):
    """Splits the channels into one equal part per branch, runs branch k on part k, concatenates the outputs."""

    name, Args, order = "channel_split", ChannelSplitArgs, 45
    syntax = BRANCHES
    module = "ChannelSplit"
    flow_step = "concat"  # inlined: the parts (flow part steps), the branches, then a concat of their outputs
    splits_input = True
    examples = [
        ContainerExample({}, [[], [_conv(4), "relu"]], (8, 6, 6), "ShuffleNet v2: identity and a conv chain"),
        ContainerExample(
            {},
            {"left": [_conv(2, 3, padding=1)], "right": [{"maxpool": {"kernel": 3, "stride": 1, "padding": 1}}]},
            (6, 9),
            "named branches, 1-D",
        ),
        ContainerExample({}, [[_conv(1)], [], [_conv(5, 3, padding=1)]], (9, 4, 4, 4), "three parts, 3-D"),
        ContainerExample({}, [[{"linear": {"out": 3}}], []], (8,), "features"),
    ]

    def module_arguments(self, args: ChannelSplitArgs) -> dict[str, Any]:
        return {"dim": args.dim}

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        return True  # torch.cat always allocates its result

    def joined_dim(self, args: ChannelSplitArgs, rank: int) -> int | None:
        return args.dim - 1

    def parts(self, x: Shape | Inputs, count: int) -> list[Shape]:
        """The shape of each branch's part of the input."""
        if isinstance(x, Inputs):  # refused before (only merges take several inputs), kept for the type
            raise OpError("'channel_split' takes one input", "merge the inputs first")
        if count < 2:
            raise OpError(
                f"'channel_split' splits its input into one part per branch, but it has {count}",
                "give it two or more branches (e.g. 'branches: [[], [...]]', where [] is the identity)",
                "branches",
            )
        if x[0] % count:
            raise OpError(
                f"cannot split the {x[0]} channels of the input {format_shape(x)} into {count} equal parts "
                f"(one per branch)",
                f"give it a number of branches that divides {x[0]}, or change the channels before it",
                "branches",
            )
        return [(x[0] // count, *x[1:])] * count

    def branch_inputs(self, x: Shape | Inputs, count: int) -> list[Shape]:
        return self.parts(x, count)

    def output_shape(
        self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape], labels: Sequence[str] | None = None
    ) -> Shape:
        shapes = list(child_outputs) or self.parts(input, 0)
        labels = labels or default_labels(len(shapes))
        first = shapes[0]
        for index, shape in enumerate(shapes[1:], start=1):
            if len(shape) != len(first) or shape[1:] != first[1:]:
                raise OpError(
                    f"cannot concatenate the branches' outputs along the channels: they are {listed(shapes, labels)}",
                    f"make every size but the channels agree ({labels[0]} and {labels[index]} differ; check their "
                    "strides and padding)",
                )
        return (sum(shape[0] for shape in shapes), *first[1:])

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        # A shape (the smallest-input search) splits into the parts; a field or a graph node reaches every
        # branch as it is (a part along the channels is every position of the input).
        if _is_shape(state):
            inputs: list[Any] = self.parts(state, len(children))
        else:
            inputs = [state] * len(children)
        return merge([visit(child, x) for child, x in zip(children, inputs, strict=True)])


def _is_shape(state: Any) -> bool:
    return isinstance(state, tuple) and not isinstance(state, Inputs) and all(type(v) is int for v in state)
