"""Window geometry shared by ``maxpool`` and ``avgpool``: stride defaults to the kernel, padding <= k//2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from archspec.errors import OpError
from archspec.ops.base import (
    Op,
    Shape,
    WindowStep,
    check_positive_output,
    per_dim,
    per_dim_text,
    require_spatial,
    size_fix,
)
from archspec.ops.shape_math import effective_kernels, pool_output_size
from archspec.ops.torch_classes import spatial_class


def window(op: str, args: Any, x: Shape) -> tuple[tuple[int, ...], ...]:
    """Kernel, stride, padding and dilation per dimension, checked the way PyTorch checks them."""
    dims = require_spatial(op, x)
    kernel = per_dim(args.kernel, dims, "kernel")
    stride = kernel if args.stride is None else per_dim(args.stride, dims, "stride")
    padding = per_dim(args.padding, dims, "padding")
    dilation = per_dim(getattr(args, "dilation", 1), dims, "dilation")
    for k, p in zip(kernel, padding, strict=True):
        if p > k // 2:
            # name every dimension's limit: a single number would break the dimensions that were fine
            most = tuple(min(pad, size // 2) for pad, size in zip(padding, kernel, strict=True))
            least = tuple(max(size, 2 * pad) for pad, size in zip(padding, kernel, strict=True))
            raise OpError(
                f"padding {p} is more than half the kernel {k} (PyTorch rejects it)",
                f"use padding {per_dim_text(most)} or less, or a kernel of at least {per_dim_text(least)}",
                "padding",
            )
    return kernel, stride, padding, dilation


# How far the hints below look past the size rule's minimum for a length or padding that ``accepts`` takes.
_HINT_SEARCH = 10_000


def pooled_shape(op: str, args: Any, x: Shape, accepts: Callable[[int, int, int], bool] | None = None) -> Shape:
    """The output shape; too small, an error whose hint names the padding and input size that work.

    ``accepts(dim, length, padding)`` is an op's own further rule (maxpool's windows must read the input):
    the hints skip what it refuses, so applying them gives a valid layer."""
    kernel, stride, padding, dilation = window(op, args, x)
    sizes = tuple(
        pool_output_size(length, k, s, p, d, args.ceil_mode)
        for length, k, s, p, d in zip(x[1:], kernel, stride, padding, dilation, strict=True)
    )
    y = (x[0], *sizes)
    if any(size < 1 for size in sizes):
        # floor mode needs L + 2p >= extent; ceil mode lets the last window start up to stride - 1 early
        slack = [s - 1 if args.ceil_mode else 0 for s in stride]
        extents = effective_kernels(kernel, dilation)
        wanted = [
            max(p, -(-(e - length - extra) // 2))
            for e, length, extra, p in zip(extents, x[1:], slack, padding, strict=True)
        ]
        smallest = [e - 2 * p - extra for e, p, extra in zip(extents, padding, slack, strict=True)]
        if accepts is not None:
            for dim, length in enumerate(x[1:]):
                wanted[dim] = _first(
                    lambda w, dim=dim, length=length: accepts(dim, length, w), wanted[dim], kernel[dim] // 2
                )
                least = max(smallest[dim], 1)
                # an input at least as long as the dilation is always accepted: the fallback past the search
                smallest[dim] = _first(
                    lambda n, dim=dim: accepts(dim, n, padding[dim]), least, least + _HINT_SEARCH
                ) or max(least, dilation[dim])
        possible = all(w is not None and w <= k // 2 for w, k in zip(wanted, kernel, strict=True))
        check_positive_output(
            op,
            x,
            y,
            f"kernel {per_dim_text(kernel)}, stride {per_dim_text(stride)}, padding {per_dim_text(padding)}",
            size_fix(wanted if possible else None, tuple(smallest)),
        )
    return y


def _first(accepted: Callable[[int], bool], low: int, high: int) -> int | None:
    """The least value in ``[low, high]`` that is ``accepted``, or None."""
    return next((value for value in range(low, high + 1) if accepted(value)), None)


def pooled_window(op: str, args: Any, x: Shape) -> WindowStep:
    kernel, stride, padding, dilation = window(op, args, x)
    return WindowStep(effective_kernels(kernel, dilation), stride, padding)


def torch_window(op: str, args: Any, x: Shape) -> dict[str, Any]:
    kernel, stride, padding, _ = window(op, args, x)
    return {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": args.ceil_mode}


class WindowPool(Op):
    """The rules ``maxpool`` and ``avgpool`` share: each output reads one window (its receptive-field step), and
    the module is torch's ``<torch_family>1d/2d/3d`` with the window's arguments and the op's own
    (:meth:`torch_options`)."""

    torch_family: ClassVar[str]
    fresh_output = True
    min_dims = 2

    def receptive_field(self, args: Any, x: Shape, y: Shape) -> WindowStep:
        return pooled_window(self.name, args, x)

    def torch_options(self, args: Any, dims: int) -> dict[str, Any]:
        """The torch module's arguments beyond the window's (kernel, stride, padding, ceil mode)."""
        return {}

    def build(self, nn: Any, args: Any, x: Shape) -> Any:
        dims = len(x) - 1
        return spatial_class(nn, self.torch_family, dims)(
            **self.torch_options(args, dims), **torch_window(self.name, args, x)
        )
