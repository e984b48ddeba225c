"""``maxpool``: max pooling (``nn.MaxPool1d/2d/3d``)."""

from __future__ import annotations

from typing import Any

from archspec.errors import OpError
from archspec.ops.base import Context, Example, OpArgs, PerDim, PerDimNonNegative, Shape, per_dim
from archspec.ops.library.pooling import WindowPool, pooled_shape, window
from archspec.ops.registry import register
from archspec.ops.shape_math import pool_output_size


class MaxPoolArgs(OpArgs):
    kernel: PerDim
    stride: PerDim | None = None
    padding: PerDimNonNegative = 0
    dilation: PerDim = 1
    ceil_mode: bool = False


@register
class MaxPool(WindowPool):
    """Max pooling; stride defaults to the kernel (torch.nn.MaxPoolNd)."""

    name, torch_family = "maxpool", "MaxPool"
    Args = MaxPoolArgs
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
        kernel, stride, padding, dilation = window(self.name, args, x)

        def reads_input(dim: int, length: int, pad: int) -> bool:
            outputs = pool_output_size(length, kernel[dim], stride[dim], pad, dilation[dim], args.ceil_mode)
            return blind_window(length, kernel[dim], stride[dim], pad, dilation[dim], outputs) is None

        y = pooled_shape(self.name, args, x, reads_input)
        for dim, (length, k, s, p, d) in enumerate(zip(x[1:], kernel, stride, padding, dilation, strict=True)):
            blind = blind_window(length, k, s, p, d, y[dim + 1])
            if blind is not None:
                position, needed = blind
                where = f" along spatial dim {dim}" if len(x) > 2 else ""
                larger = f", or make this layer's input at least {needed} long there" if needed else ""
                raise OpError(
                    f"output position {position}{where} reads only padding: its window starts at "
                    f"{position * s - p} and with dilation {d} its taps skip the whole input of "
                    f"{length} (PyTorch returns -inf there, and its backward pass corrupts memory)",
                    f"use a dilation of at most {length}{larger}",
                    "dilation",
                )
        return y

    def torch_options(self, args: MaxPoolArgs, dims: int) -> dict[str, Any]:
        return {"dilation": per_dim(args.dilation, dims, "dilation")}


def blind_window(
    length: int, kernel: int, stride: int, padding: int, dilation: int, outputs: int
) -> tuple[int, int | None] | None:
    """The first of ``outputs`` positions whose dilated window has no tap inside the input, and the least input
    length that gives every window a tap (None if none does); None if every window reads the input.

    Windows never start past the input's last position (PyTorch's ceil-mode rule), so only windows starting
    in the left padding can miss, and only by jumping over an input shorter than the dilation.

    >>> blind_window(1, 2, 1, 1, 2, 3), blind_window(4, 2, 1, 1, 2, 5)
    ((0, 2), None)
    """
    if length >= dilation:
        return None
    first: int | None = None
    needed: int | None = length
    position = 0
    while position < outputs and position * stride < padding:
        start = position * stride - padding
        tap = -(start // dilation)  # the first tap at or past the input's first position
        if tap > kernel - 1 or start + tap * dilation > length - 1:
            first = position if first is None else first
            needed = None if tap > kernel - 1 or needed is None else max(needed, start + tap * dilation + 1)
        position += 1
    return None if first is None else (first, needed)
