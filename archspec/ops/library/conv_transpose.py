"""``conv_transpose``: transposed convolution (``nn.ConvTranspose1d/2d/3d``)."""

from __future__ import annotations

from math import prod
from typing import Any

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    Op,
    PerDimNonNegative,
    PositionDependent,
    Shape,
    WindowStep,
    check_positive_output,
    per_dim,
    per_dim_text,
    require_spatial,
    size_fix,
)
from archspec.ops.library.conv import ConvolutionArgs, check_groups
from archspec.ops.registry import register
from archspec.ops.shape_math import effective_kernels, transposed_output_size
from archspec.ops.torch_classes import spatial_class


class ConvTransposeArgs(ConvolutionArgs):
    output_padding: PerDimNonNegative = 0


@register
class ConvTranspose(Op):
    """Transposed convolution over 1, 2 or 3 spatial dimensions (torch.nn.ConvTransposeNd)."""

    name = "conv_transpose"
    fresh_output = True
    Args = ConvTransposeArgs
    min_dims = 2
    examples = [
        Example({"out": 4, "kernel": 4, "stride": 2, "padding": 1}, (6, 9)),
        Example({"out": 8, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}, (4, 7, 5)),
        Example(
            {"out": 6, "kernel": [2, 3], "stride": [2, 1], "dilation": [1, 2], "groups": 2, "bias": False}, (4, 5, 6)
        ),
        Example({"out": 4, "kernel": 3, "stride": 3, "output_padding": [0, 1, 2]}, (2, 3, 4, 2)),
    ]

    def output_shape(self, args: ConvTransposeArgs, x: Shape, ctx: Context) -> Shape:
        dims = require_spatial(self.name, x)
        check_groups(x[0], args.out, args.groups)
        kernel = per_dim(args.kernel, dims, "kernel")
        stride = per_dim(args.stride, dims, "stride")
        padding = per_dim(args.padding, dims, "padding")
        dilation = per_dim(args.dilation, dims, "dilation")
        output_padding = per_dim(args.output_padding, dims, "output_padding")
        for op_, s, d in zip(output_padding, stride, dilation, strict=True):
            if op_ >= max(s, d):
                raise OpError(
                    f"output_padding {op_} must be smaller than the stride ({s}) or the dilation ({d})",
                    f"use output_padding {max(s, d) - 1} or less",
                    "output_padding",
                )
        sizes = tuple(
            transposed_output_size(length, k, s, p, d, o)
            for length, k, s, p, d, o in zip(x[1:], kernel, stride, padding, dilation, output_padding, strict=True)
        )
        y = (args.out, *sizes)
        if any(size < 1 for size in sizes):
            reach = [
                s * (length - 1) + d * (k - 1) + o
                for length, k, s, d, o in zip(x[1:], kernel, stride, dilation, output_padding, strict=True)
            ]
            most = [min(p, r // 2) for p, r in zip(padding, reach, strict=True)]
            smallest = tuple(
                1 + max(0, -(-(2 * p - d * (k - 1) - o) // s))
                for k, s, p, d, o in zip(kernel, stride, padding, dilation, output_padding, strict=True)
            )
            check_positive_output(
                self.name,
                x,
                y,
                f"kernel {per_dim_text(kernel)}, stride {per_dim_text(stride)}, padding {per_dim_text(padding)}",
                size_fix(most, smallest, "<="),
            )
        return y

    def parameters(self, args: ConvTransposeArgs, x: Shape, y: Shape) -> int:
        weights = x[0] * (args.out // args.groups) * prod(per_dim(args.kernel, len(x) - 1, "kernel"))
        return weights + (args.out if args.bias else 0)

    def macs(self, args: ConvTransposeArgs, x: Shape, y: Shape) -> int:
        return prod(x[1:]) * x[0] * (args.out // args.groups) * prod(per_dim(args.kernel, len(x) - 1, "kernel"))

    def receptive_field(self, args: ConvTransposeArgs, x: Shape, y: Shape) -> WindowStep | PositionDependent:
        dims = len(x) - 1
        if all(s == 1 for s in per_dim(args.stride, dims, "stride")):
            # A stride-1 transposed conv is a conv with the flipped kernel and padding d(k-1) - p.
            kernel = per_dim(args.kernel, dims, "kernel")
            dilation = per_dim(args.dilation, dims, "dilation")
            extent = effective_kernels(kernel, dilation)
            padding = per_dim(args.padding, dims, "padding")
            return WindowStep(extent, (1,) * dims, tuple(e - 1 - p for e, p in zip(extent, padding, strict=True)))
        return PositionDependent("transposed convolution with stride > 1")

    def build(self, nn: Any, args: ConvTransposeArgs, x: Shape) -> Any:
        dims = len(x) - 1
        cls = spatial_class(nn, "ConvTranspose", dims)
        return cls(
            x[0],
            args.out,
            per_dim(args.kernel, dims, "kernel"),
            stride=per_dim(args.stride, dims, "stride"),
            padding=per_dim(args.padding, dims, "padding"),
            output_padding=per_dim(args.output_padding, dims, "output_padding"),
            groups=args.groups,
            bias=args.bias,
            dilation=per_dim(args.dilation, dims, "dilation"),
        )
