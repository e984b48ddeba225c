"""``instancenorm``: instance normalisation, every channel of every sample over its positions
(``nn.InstanceNorm1d/2d/3d``)."""

from __future__ import annotations

from math import prod
from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import Context, Example, Global, Op, OpArgs, RFStep, Shape, require_spatial
from archspec.ops.registry import register
from archspec.ops.torch_classes import spatial_class


class InstanceNormArgs(OpArgs):
    eps: Annotated[float, Field(gt=0)] = 1e-5
    momentum: Annotated[float, Field(ge=0, le=1)] | None = 0.1
    affine: bool = False
    track_running_stats: bool = False


@register
class InstanceNorm(Op):
    """Instance normalisation of each channel of each sample over its positions (torch.nn.InstanceNormNd).

    The dimensionality follows the input; torch's defaults: no affine transform, no running statistics."""

    name = "instancenorm"
    fresh_output = True
    Args = InstanceNormArgs
    examples = [
        Example({}, (4, 10)),
        Example({"affine": True}, (3, 6, 6)),
        Example({"track_running_stats": True}, (5, 4, 4)),
        Example({"affine": True, "track_running_stats": True, "momentum": None}, (2, 3, 4, 5)),
        Example({"eps": 1e-3}, (3, 2, 2, 2)),
    ]

    def output_shape(self, args: InstanceNormArgs, x: Shape, ctx: Context) -> Shape:
        require_spatial(self.name, x)
        uses_input_statistics = ctx.train or not args.track_running_stats
        if uses_input_statistics and prod(x[1:]) == 1:
            raise OpError(
                "instancenorm takes each channel's statistics over its positions, but its input has one "
                "position per channel (PyTorch rejects it)",
                "place it where the spatial size is above 1, or use a larger input",
            )
        return x

    def parameters(self, args: InstanceNormArgs, x: Shape, y: Shape) -> int:
        return 2 * x[0] if args.affine else 0

    def buffers(self, args: InstanceNormArgs, x: Shape, y: Shape) -> int:
        # running_mean and running_var (C each) plus the one-element num_batches_tracked, as in batchnorm.
        return 2 * x[0] + 1 if args.track_running_stats else 0

    def pointwise_along_channels(self, args: InstanceNormArgs, x: Shape) -> bool:
        return True  # statistics per channel: each index of dim 1 reads only itself along dim 1

    def receptive_field(self, args: InstanceNormArgs, x: Shape, y: Shape) -> RFStep:
        # The field is the eval-mode one (as for batchnorm): with running statistics each output reads its own
        # position; with the input's statistics it reads every position of its channel.
        return None if args.track_running_stats else Global("instancenorm normalises over every position")

    def build(self, nn: Any, args: InstanceNormArgs, x: Shape) -> Any:
        cls = spatial_class(nn, "InstanceNorm", len(x) - 1)
        return cls(
            x[0], eps=args.eps, momentum=args.momentum, affine=args.affine, track_running_stats=args.track_running_stats
        )
