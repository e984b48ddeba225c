"""``linear``: a fully connected layer over the last dimension (``nn.Linear``)."""

from __future__ import annotations

from math import prod
from typing import Any

from archspec.ops.base import Context, Example, Op, OpArgs, PositiveInt, RFStep, Shape, format_shape, global_along
from archspec.ops.registry import register


class LinearArgs(OpArgs):
    out: PositiveInt
    bias: bool = True


@register
class Linear(Op):
    """Fully connected layer acting on the last dimension: (*, in) → (*, out) (torch.nn.Linear)."""

    name = "linear"
    fresh_output = True
    Args = LinearArgs
    examples = [
        Example({"out": 10}, (84,)),
        Example({"out": 7, "bias": False}, (12,)),
        Example({"out": 5}, (3, 8), "acts on the last dimension"),
        Example({"out": 4}, (2, 3, 6)),
        Example({"out": 3}, (2, 3, 4, 5), "3-D input: only the last dim is mixed"),
    ]

    def output_shape(self, args: LinearArgs, x: Shape, ctx: Context) -> Shape:
        self.check_input(x)
        return (*x[:-1], args.out)

    def parameters(self, args: LinearArgs, x: Shape, y: Shape) -> int:
        return x[-1] * args.out + (args.out if args.bias else 0)

    def macs(self, args: LinearArgs, x: Shape, y: Shape) -> int:
        return prod(y) * x[-1]

    def pointwise_along_channels(self, args: LinearArgs, x: Shape) -> bool:
        return len(x) > 1  # it mixes the last dim only ([H, W, C]: pointwise along H)

    def receptive_field(self, args: LinearArgs, x: Shape, y: Shape) -> RFStep:
        return global_along(x, (len(x) - 2,), "linear mixes the whole last dimension") if len(x) > 1 else None

    def warnings(self, args: LinearArgs, x: Shape, y: Shape) -> list[tuple[str, str]]:
        # Valid (torch maps every row of the last dim alike) but usually a forgotten flatten: a classifier
        # meant to see all C×H×W features sees only the W values of one row.
        if len(x) < 2:
            return []
        return [
            (
                f"linear acts on the last dimension only: its input {format_shape(x)} has spatial dims, so it "
                f"maps each of the {prod(x[:-1]):,} rows of {x[-1]} values on its own (output {format_shape(y)})",
                f"if it should see all {prod(x):,} features, put 'flatten' (or 'global_avgpool' and 'flatten') "
                "before it",
            )
        ]

    def build(self, nn: Any, args: LinearArgs, x: Shape) -> Any:
        return nn.Linear(x[-1], args.out, bias=args.bias)
