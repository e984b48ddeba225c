"""``maxpool``: max pooling (``nn.MaxPool1d/2d/3d``)."""

from __future__ import annotations

from typing import Any

from archspec.ops.base import Context, Example, Op, OpArgs, PerDim, PerDimNonNegative, Shape, WindowStep, per_dim
from archspec.ops.library.pooling import pooled_shape, pooled_window, torch_window
from archspec.ops.registry import register


class MaxPoolArgs(OpArgs):
    kernel: PerDim
    stride: PerDim | None = None
    padding: PerDimNonNegative = 0
    dilation: PerDim = 1
    ceil_mode: bool = False


@register
class MaxPool(Op):
    """Max pooling; stride defaults to the kernel (torch.nn.MaxPoolNd)."""

    name = "maxpool"
    fresh_output = True
    Args = MaxPoolArgs
    min_dims = 2
    examples = [
        Example({"kernel": 2}, (3, 9)),
        Example({"kernel": 3, "stride": 2, "padding": 1, "dilation": 2}, (2, 12)),
        Example({"kernel": 3, "stride": 2}, (4, 13, 13)),
        Example({"kernel": 3, "stride": 2, "ceil_mode": True}, (4, 112, 112)),
        Example({"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 5, 6)),
        Example({"kernel": [3, 2], "stride": [1, 2], "padding": [1, 0], "dilation": [2, 1]}, (2, 8, 9)),
        Example({"kernel": 2}, (2, 4, 6, 5)),
        Example({"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 5, 6, 7)),
    ]

    def output_shape(self, args: MaxPoolArgs, x: Shape, ctx: Context) -> Shape:
        return pooled_shape(self.name, args, x)

    def receptive_field(self, args: MaxPoolArgs, x: Shape, y: Shape) -> WindowStep:
        return pooled_window(self.name, args, x)

    def build(self, nn: Any, args: MaxPoolArgs, x: Shape) -> Any:
        dims = len(x) - 1
        cls = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[dims - 1]
        return cls(dilation=per_dim(args.dilation, dims, "dilation"), **torch_window(self.name, args, x))
