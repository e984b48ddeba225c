"""``concat``: concatenates its branches' outputs (``torch.cat``; the module is ``modules.Concat``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.errors import OpError
from archspec.ops.base import OpArgs, Shape, format_shape
from archspec.ops.containers._merge import Parallel
from archspec.ops.containers.base import ContainerExample, FieldMerge, Inputs, default_labels, listed
from archspec.ops.registry import register_container


class ConcatArgs(OpArgs):
    dim: int = 1


def _conv(out: int, kernel: int | list[int], padding: int = 0) -> dict[str, Any]:
    return {"conv": {"out": out, "kernel": kernel, "padding": padding}}


@register_container
class Concat(Parallel):
    """Concatenates its branches' outputs along ``dim`` (torch numbering; 1 = channels, the default)."""

    name, Args, order = "concat", ConcatArgs, 20
    module = "Concat"
    flow_step = "concat"
    examples = [
        ContainerExample({}, [[_conv(8, 1)], [_conv(4, 3, 1)], []], (3, 10, 10), "Inception-style, with identity"),
        ContainerExample(
            {},
            {"left": [_conv(2, 3, 1)], "right": [{"maxpool": {"kernel": 3, "stride": 1, "padding": 1}}]},
            (5, 11),
            "named branches, 1-D",
        ),
        ContainerExample(
            {"dim": 2}, [[_conv(4, 1)], [{"conv": {"out": 4, "kernel": [3, 1]}}]], (2, 6, 5), "along a spatial dim"
        ),
        ContainerExample(
            {"dim": -1}, [[{"linear": {"out": 3}}], [{"linear": {"out": 5}}]], (7,), "features, negative dim"
        ),
        ContainerExample({}, [[_conv(3, 1)], [_conv(2, 3, 1)]], (2, 4, 5, 6), "3-D"),
    ]

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        return True  # torch.cat always allocates its result

    def module_arguments(self, args: ConcatArgs) -> dict[str, Any]:
        return {"dim": args.dim}

    def field_merge(self, args: ConcatArgs, rank: int) -> FieldMerge:
        # Along channels every branch's position i lands at position i; along a spatial dim it does not.
        return FieldMerge.UNION if args.dim % (rank + 1) == 1 else FieldMerge.SHIFTED

    def joined_dim(self, args: ConcatArgs, rank: int) -> int | None:
        return args.dim % (rank + 1) - 1

    def output_shape(
        self,
        args: ConcatArgs,
        input: Shape | Inputs,
        child_outputs: Sequence[Shape],
        labels: Sequence[str] | None = None,
    ) -> Shape:
        shapes = self.merged(input, child_outputs)
        labels = labels or default_labels(len(shapes))
        rank = len(shapes[0]) + 1
        dim = args.dim + rank if args.dim < 0 else args.dim
        if not 1 <= dim < rank:
            raise OpError(
                f"dim {args.dim} is not a feature dimension of {format_shape(shapes[0])}",
                f"use dim 1 (channels), or a dim from 1 to {rank - 1}",
                "dim",
            )
        for index, shape in enumerate(shapes[1:], start=1):
            if len(shape) != len(shapes[0]) or any(
                a != b for i, (a, b) in enumerate(zip(shape, shapes[0], strict=True)) if i != dim - 1
            ):
                raise OpError(
                    f"cannot concatenate along dim {dim}: the outputs are {listed(shapes, labels)}",
                    f"make every size except dim {dim} agree: {labels[0]} gives "
                    f"{_except(shapes[0], dim - 1)}, {labels[index]} gives {_except(shape, dim - 1)} "
                    "(check their strides and padding)",
                )
        merged = list(shapes[0])
        merged[dim - 1] = sum(shape[dim - 1] for shape in shapes)
        return tuple(merged)


def _except(shape: Shape, skip: int) -> str:
    return "×".join("*" if i == skip else str(s) for i, s in enumerate(shape))
