"""``avgpool``: average pooling (``nn.AvgPool1d/2d/3d``)."""

from __future__ import annotations

from typing import Any

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    OpArgs,
    PerDim,
    PerDimNonNegative,
    PositiveInt,
    Shape,
    per_dim_text,
)
from archspec.ops.library.pooling import WindowPool, pooled_shape, window
from archspec.ops.registry import register


class AvgPoolArgs(OpArgs):
    kernel: PerDim
    stride: PerDim | None = None
    padding: PerDimNonNegative = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: PositiveInt | None = None


@register
class AvgPool(WindowPool):
    """Average pooling; stride defaults to the kernel (torch.nn.AvgPoolNd)."""

    name, torch_family = "avgpool", "AvgPool"
    Args = AvgPoolArgs
    examples = [
        Example({"kernel": 2}, (3, 9)),
        Example({"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 10)),
        Example({"kernel": 2, "stride": 2}, (6, 28, 28)),
        Example({"kernel": 3, "stride": 1, "padding": 1, "count_include_pad": False}, (2, 5, 5)),
        Example({"kernel": [2, 3], "stride": [2, 2], "divisor_override": 4}, (2, 7, 9)),
        Example({"kernel": 2}, (2, 4, 6, 5)),
        Example({"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 5, 6, 7)),
    ]

    def output_shape(self, args: AvgPoolArgs, x: Shape, ctx: Context) -> Shape:
        y = pooled_shape(self.name, args, x)
        if args.divisor_override is not None and len(x) == 2:
            raise OpError(
                "divisor_override is not available for 1-D average pooling (torch.nn.AvgPool1d)",
                "remove divisor_override",
                "divisor_override",
            )
        if len(x) == 4:
            kernel, _, padding, _ = window(self.name, args, x)
            if any(length < k for length, k in zip(x[1:], kernel, strict=True)):
                # CPU quirk (REFERENCE.md §1): AvgPool3d checks the *unpadded* input against the kernel.
                fits = tuple(min(k, length) for k, length in zip(kernel, x[1:], strict=True))
                # the smaller kernel must keep padding <= kernel // 2, or the hint would fail on the next check
                padded = tuple(min(p, k // 2) for p, k in zip(padding, fits, strict=True))
                also = f" and padding {per_dim_text(padded)}" if padded != padding else ""
                raise OpError(
                    f"3-D average pooling on CPU rejects an input smaller than its kernel "
                    f"{per_dim_text(kernel, sizes=True)}, even when padding would make it valid (PyTorch)",
                    f"use kernel {per_dim_text(fits)}{also}, or make this layer's input at least "
                    f"{per_dim_text(kernel, sizes=True)}",
                    "kernel",
                )
        return y

    def torch_options(self, args: AvgPoolArgs, dims: int) -> dict[str, Any]:
        extra = {} if dims == 1 else {"divisor_override": args.divisor_override}  # AvgPool1d has none
        return {"count_include_pad": args.count_include_pad, **extra}
