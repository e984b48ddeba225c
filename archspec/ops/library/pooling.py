"""Window geometry shared by ``maxpool`` and ``avgpool``: stride defaults to the kernel, padding <= k//2."""

from __future__ import annotations

from typing import Any

from archspec.errors import OpError
from archspec.ops.base import Shape, WindowStep, check_positive_output, per_dim, require_spatial
from archspec.ops.shape_math import pool_output_size


def window(op: str, args: Any, x: Shape) -> tuple[tuple[int, ...], ...]:
    """Kernel, stride, padding and dilation per dimension, checked the way PyTorch checks them."""
    dims = require_spatial(op, x)
    kernel = per_dim(args.kernel, dims, "kernel")
    stride = kernel if args.stride is None else per_dim(args.stride, dims, "stride")
    padding = per_dim(args.padding, dims, "padding")
    dilation = per_dim(getattr(args, "dilation", 1), dims, "dilation")
    for k, p in zip(kernel, padding, strict=True):
        if p > k // 2:
            raise OpError(f"padding {p} is more than half the kernel {k} (PyTorch rejects it)",
                          f"use padding <= {k // 2}", "padding")
    return kernel, stride, padding, dilation


def pooled_shape(op: str, args: Any, x: Shape) -> Shape:
    kernel, stride, padding, dilation = window(op, args, x)
    sizes = tuple(pool_output_size(length, k, s, p, d, args.ceil_mode)
                  for length, k, s, p, d in zip(x[1:], kernel, stride, padding, dilation, strict=True))
    y = (x[0], *sizes)
    needed = [d * (k - 1) + 1 - 2 * p for k, p, d in zip(kernel, padding, dilation, strict=True)]
    check_positive_output(op, x, y, f"kernel {kernel}, stride {stride}, padding {padding}",
                          f"the input must be at least {needed} here; use padding or a larger input")
    return y


def pooled_window(op: str, args: Any, x: Shape) -> WindowStep:
    kernel, stride, padding, dilation = window(op, args, x)
    return WindowStep(tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)), stride, padding)


def torch_window(op: str, args: Any, x: Shape) -> dict[str, Any]:
    kernel, stride, padding, _ = window(op, args, x)
    return {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": args.ceil_mode}
