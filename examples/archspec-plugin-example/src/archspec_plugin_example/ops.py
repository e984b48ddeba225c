"""``hard_gate``: a squeeze-and-excitation gate without the bottleneck, gated with a hard sigmoid."""

from __future__ import annotations

from typing import Any, ClassVar

from archspec.ops.base import Context, Example, Global, Op, OpArgs, Shape, require_spatial
from archspec.ops.registry import register


class HardGateArgs(OpArgs):
    bias: bool = True


@register
class HardGate(Op):
    """x · hardsigmoid(W · mean(x) + b): each channel scaled by a gate read from every channel's mean."""

    name = "hard_gate"
    Args = HardGateArgs
    min_dims = 2  # (C, *spatial): the gate averages the spatial dims
    examples: ClassVar[list[Example]] = [
        Example({}, (8, 16)),
        Example({}, (6, 5, 7)),
        Example({"bias": False}, (4, 3, 5, 6)),
    ]

    def output_shape(self, args: Any, x: Shape, ctx: Context) -> Shape:
        require_spatial(self.name, x)  # a located error for a (C,) input: there is nothing to average
        return x

    def parameters(self, args: Any, x: Shape, y: Shape) -> int:
        channels = x[0]
        return channels * channels + (channels if args.bias else 0)

    def macs(self, args: Any, x: Shape, y: Shape) -> int:
        # The C×C linear layer on the channel means (FlopCounterMode counts its matmul, not the mean or product).
        return x[0] * x[0]

    def receptive_field(self, args: Any, x: Shape, y: Shape) -> Global:
        return Global("hard_gate's gate reads the mean over every input position")

    def build(self, nn: Any, args: Any, x: Shape) -> Any:
        return nn.HardGate(x[0], bias=args.bias)  # layers.py, which archspec adds to `nn`
