"""``upsample``: resize by a scale factor or to a size (``nn.Upsample``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    Op,
    OpArgs,
    PerDim,
    PositionDependent,
    Shape,
    format_shape,
    per_dim,
    require_spatial,
)
from archspec.ops.registry import register
from archspec.ops.shape_math import interpolated_size

Scale = Annotated[float, Field(gt=0, le=1e6)]
_LINEAR_BY_DIMS = {1: "linear", 2: "bilinear", 3: "trilinear"}


class UpsampleArgs(OpArgs):
    scale: Scale | list[Scale] | None = None
    size: PerDim | None = None
    mode: Literal["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"] = "nearest"
    align_corners: bool | None = None

    @model_validator(mode="after")
    def _exactly_one_target(self) -> UpsampleArgs:
        if self.scale is not None and self.size is not None:
            raise ValueError("give exactly one of 'scale' or 'size', not both — remove 'size' or 'scale'")
        if self.scale is None and self.size is None:
            raise ValueError("give exactly one of 'scale' or 'size' — add e.g. 'scale: 2' or 'size: 32'")
        return self


def torch_mode(args: UpsampleArgs, dims: int) -> str:
    """``linear`` means the interpolating mode of the input's dimensionality; other names must fit it."""
    if args.mode in ("linear", "bilinear", "trilinear"):
        wanted = _LINEAR_BY_DIMS[dims]
        if args.mode not in ("linear", wanted):
            alias = f" (or '{wanted}')" if wanted != "linear" else ""
            raise OpError(
                f"mode '{args.mode}' needs {list(_LINEAR_BY_DIMS.values()).index(args.mode) + 1} spatial "
                f"dimension(s), the input has {dims}",
                f"use mode 'linear'{alias}",
                "mode",
            )
        return wanted
    if args.mode == "bicubic" and dims != 2:
        raise OpError(f"mode 'bicubic' needs 2 spatial dimensions, the input has {dims}", "use mode 'linear'", "mode")
    return args.mode


@register
class Upsample(Op):
    """Resizes by ``scale`` (output floor(L·scale)) or to ``size``; ``mode: linear`` adapts to 1-D/2-D/3-D."""

    name = "upsample"
    Args = UpsampleArgs
    min_dims = 2
    examples = [
        Example({"scale": 2}, (3, 5)),
        Example({"scale": 2.0, "mode": "linear", "align_corners": False}, (3, 5)),
        Example({"size": 9, "mode": "nearest"}, (2, 4, 4)),
        Example({"scale": [2.0, 1.5], "mode": "bilinear", "align_corners": True}, (2, 4, 6)),
        Example({"scale": 0.29}, (1, 100, 7), "floor(100 * 0.29) = 28"),
        Example({"size": [4, 6, 2], "mode": "trilinear"}, (2, 2, 3, 4)),
        Example({"scale": 3, "mode": "bicubic"}, (2, 3, 3)),
        Example({"size": 3, "mode": "area"}, (2, 7, 7)),
    ]

    def output_shape(self, args: UpsampleArgs, x: Shape, ctx: Context) -> Shape:
        dims = require_spatial(self.name, x)
        mode = torch_mode(args, dims)
        if args.align_corners is not None and mode not in ("linear", "bilinear", "bicubic", "trilinear"):
            raise OpError(
                f"align_corners applies only to interpolating modes, not '{mode}'",
                "remove align_corners",
                "align_corners",
            )
        if args.size is not None:
            return (x[0], *per_dim(args.size, dims, "size"))
        scales = per_dim(args.scale, dims, "scale") if isinstance(args.scale, list) else (args.scale,) * dims
        sizes = tuple(interpolated_size(length, s) for length, s in zip(x[1:], scales, strict=True))
        if min(sizes) < 1:
            shortest = min(x[1:])
            smallest = float(f"{1 / shortest:.3g}")
            while interpolated_size(shortest, smallest) < 1:  # the rounded value must still work
                smallest = float(f"{smallest * 1.01:.3g}")
            raise OpError(
                f"scale {args.scale} shrinks the input to {format_shape(sizes)}, less than 1",
                f"use scale {smallest:g} or more, or give 'size'",
                "scale",
            )
        return (x[0], *sizes)

    def receptive_field(self, args: UpsampleArgs, x: Shape, y: Shape) -> PositionDependent | None:
        if y == x and args.mode in ("nearest", "nearest-exact"):
            return None
        return PositionDependent("resampling maps output positions to input positions unevenly")

    def build(self, nn: Any, args: UpsampleArgs, x: Shape) -> Any:
        dims = len(x) - 1
        size = None if args.size is None else per_dim(args.size, dims, "size")
        scale = tuple(args.scale) if isinstance(args.scale, list) else args.scale
        return nn.Upsample(size=size, scale_factor=scale, mode=torch_mode(args, dims), align_corners=args.align_corners)
