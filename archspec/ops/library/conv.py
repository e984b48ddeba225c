"""``conv``: 1-D/2-D/3-D convolution (``nn.Conv1d/2d/3d``)."""

from __future__ import annotations

from math import gcd, isqrt, prod
from typing import Any, Literal

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    Op,
    OpArgs,
    Padding,
    PerDim,
    PerDimNonNegative,
    PositiveInt,
    Shape,
    WindowStep,
    check_positive_output,
    per_dim,
    per_dim_text,
    require_spatial,
    size_fix,
)
from archspec.ops.registry import register
from archspec.ops.shape_math import conv_output_size, effective_kernels, same_padding
from archspec.ops.torch_classes import spatial_class


class ConvolutionArgs(OpArgs):
    """The arguments ``conv`` and ``conv_transpose`` share (each narrows ``padding`` and adds its own)."""

    out: PositiveInt
    kernel: PerDim
    stride: PerDim = 1
    padding: PerDimNonNegative = 0
    dilation: PerDim = 1
    groups: PositiveInt = 1
    bias: bool = True


class ConvArgs(ConvolutionArgs):
    padding: Padding = 0
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"


def divisors(number: int) -> list[int]:
    """Every divisor of ``number``, ascending, in O(sqrt(number)) steps (channel counts reach 2**31 - 1).

    >>> divisors(24)
    [1, 2, 3, 4, 6, 8, 12, 24]
    >>> divisors(2_147_483_647)  # a prime
    [1, 2147483647]
    """
    small = [d for d in range(1, isqrt(number) + 1) if number % d == 0]
    return small + [number // d for d in reversed(small) if d * d != number]


def check_groups(channels_in: int, channels_out: int, groups: int) -> None:
    for side, channels in (("input", channels_in), ("output", channels_out)):
        if channels % groups:
            # The groups that divide both are the divisors of their gcd; show the few nearest the one asked for.
            nearest = sorted(divisors(gcd(channels_in, channels_out)), key=lambda g: (abs(g - groups), g))[:6]
            shown = ", ".join(str(g) for g in sorted(nearest))
            raise OpError(
                f"groups {groups} does not divide the {channels} {side} channels",
                f"use groups that divide both {channels_in} and {channels_out}: {shown}",
                "groups",
            )


def resolve_padding(args: Any, dims: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Left and right padding per dimension, after ``same`` / ``valid``."""
    kernel = per_dim(args.kernel, dims, "kernel")
    dilation = per_dim(args.dilation, dims, "dilation")
    if args.padding == "valid":
        return (0,) * dims, (0,) * dims
    if args.padding == "same":
        if any(s != 1 for s in per_dim(args.stride, dims, "stride")):
            stride = per_dim(args.stride, dims, "stride")
            numbers = per_dim_text([d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True)])
            raise OpError(
                f"padding 'same' works only with stride 1, not stride {per_dim_text(stride)} (PyTorch rejects it)",
                f"give the padding as a number, e.g. padding: {numbers}",
                "padding",
            )
        sides = [same_padding(k, d) for k, d in zip(kernel, dilation, strict=True)]
        return tuple(left for left, _ in sides), tuple(right for _, right in sides)
    padding = per_dim(args.padding, dims, "padding")
    return padding, padding


@register
class Conv(Op):
    """Convolution over 1, 2 or 3 spatial dimensions (torch.nn.ConvNd)."""

    name = "conv"
    fresh_output = True
    Args = ConvArgs
    min_dims = 2
    examples = [
        Example({"out": 8, "kernel": 3}, (4, 16)),
        Example({"out": 6, "kernel": 5, "stride": 2, "padding": 2, "groups": 2}, (4, 17)),
        Example({"out": 16, "kernel": 3, "padding": 1}, (3, 12, 12)),
        Example({"out": 8, "kernel": [3, 5], "stride": [2, 1], "padding": [1, 0], "dilation": [1, 2]}, (4, 11, 14)),
        Example({"out": 8, "kernel": 4, "padding": "same", "bias": False}, (4, 9, 9)),
        Example({"out": 8, "kernel": 3, "padding": "valid", "groups": 4}, (4, 9, 9)),
        Example({"out": 4, "kernel": 3, "padding": 1, "padding_mode": "reflect"}, (2, 6, 6)),
        Example({"out": 4, "kernel": 3, "padding": 1, "padding_mode": "circular"}, (2, 6, 7)),
        Example({"out": 4, "kernel": 3, "stride": 2, "padding": 1}, (2, 6, 7, 5)),
        Example({"out": 6, "kernel": [1, 3, 3], "dilation": [1, 2, 1], "padding": "same", "groups": 3}, (3, 4, 8, 6)),
    ]

    def output_shape(self, args: ConvArgs, x: Shape, ctx: Context) -> Shape:
        dims = require_spatial(self.name, x)
        check_groups(x[0], args.out, args.groups)
        kernel = per_dim(args.kernel, dims, "kernel")
        stride = per_dim(args.stride, dims, "stride")
        dilation = per_dim(args.dilation, dims, "dilation")
        left, right = resolve_padding(args, dims)
        if args.padding_mode in ("reflect", "circular"):
            for length, pad_left, pad_right in zip(x[1:], left, right, strict=True):
                limit = length if args.padding_mode == "circular" else length - 1
                if max(pad_left, pad_right) > limit:
                    raise OpError(
                        f"{args.padding_mode} padding of {max(pad_left, pad_right)} needs an input of at "
                        f"least {max(pad_left, pad_right) + (length - limit)}, got {length}",
                        f"use padding {limit} or less, or padding_mode 'zeros'",
                        "padding",
                    )
        sizes = tuple(
            conv_output_size(length, k, s, pl, d, extra_padding=pr - pl)
            for length, k, s, pl, pr, d in zip(x[1:], kernel, stride, left, right, dilation, strict=True)
        )
        y = (args.out, *sizes)
        if any(size < 1 for size in sizes):
            extents = effective_kernels(kernel, dilation)
            padding = [max(pl, -(-(e - length) // 2)) for e, length, pl in zip(extents, x[1:], left, strict=True)]
            smallest = tuple(e - pl - pr for e, pl, pr in zip(extents, left, right, strict=True))
            detail = f"kernel {per_dim_text(kernel)}" + (
                f", dilation {per_dim_text(dilation)}" if any(d > 1 for d in dilation) else ""
            )
            check_positive_output(
                self.name, x, y, f"{detail}, padding {per_dim_text(left)}", size_fix(padding, smallest)
            )
        return y

    def parameters(self, args: ConvArgs, x: Shape, y: Shape) -> int:
        weights = args.out * (x[0] // args.groups) * prod(per_dim(args.kernel, len(x) - 1, "kernel"))
        return weights + (args.out if args.bias else 0)

    def macs(self, args: ConvArgs, x: Shape, y: Shape) -> int:
        return prod(y) * (x[0] // args.groups) * prod(per_dim(args.kernel, len(x) - 1, "kernel"))

    def receptive_field(self, args: ConvArgs, x: Shape, y: Shape) -> WindowStep:
        dims = len(x) - 1
        kernel = per_dim(args.kernel, dims, "kernel")
        dilation = per_dim(args.dilation, dims, "dilation")
        left, _ = resolve_padding(args, dims)
        return WindowStep(effective_kernels(kernel, dilation), per_dim(args.stride, dims, "stride"), left)

    def build(self, nn: Any, args: ConvArgs, x: Shape) -> Any:
        dims = len(x) - 1
        padding = args.padding if isinstance(args.padding, str) else per_dim(args.padding, dims, "padding")
        cls = spatial_class(nn, "Conv", dims)
        return cls(
            x[0],
            args.out,
            per_dim(args.kernel, dims, "kernel"),
            stride=per_dim(args.stride, dims, "stride"),
            padding=padding,
            dilation=per_dim(args.dilation, dims, "dilation"),
            groups=args.groups,
            bias=args.bias,
            padding_mode=args.padding_mode,
        )
