"""``batchnorm``: batch normalisation over the channel dimension (``nn.BatchNorm1d/2d/3d``)."""

from __future__ import annotations

from math import prod
from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import Context, Example, Op, OpArgs, Shape
from archspec.ops.registry import register
from archspec.ops.torch_classes import spatial_class


class BatchNormArgs(OpArgs):
    eps: Annotated[float, Field(gt=0)] = 1e-5
    momentum: Annotated[float, Field(ge=0, le=1)] | None = 0.1
    affine: bool = True
    track_running_stats: bool = True


@register
class BatchNorm(Op):
    """Batch normalisation; the dimensionality follows the input (torch.nn.BatchNormNd)."""

    name = "batchnorm"
    fresh_output = True
    Args = BatchNormArgs
    examples = [
        Example({}, (6,)),
        Example({"eps": 0.001}, (4, 10)),
        Example({"affine": False}, (3, 5, 5)),
        Example({"momentum": None}, (2, 3, 4, 5)),
        Example({"track_running_stats": False}, (3, 4, 4)),
    ]

    def output_shape(self, args: BatchNormArgs, x: Shape, ctx: Context) -> Shape:
        self.check_input(x)
        uses_batch_statistics = ctx.train or not args.track_running_stats
        if uses_batch_statistics and ctx.batch * prod(x[1:]) == 1:
            raise OpError(
                f"with batch statistics (training), batchnorm needs more than one value per channel, but "
                f"batch {ctx.batch} of this input gives one (PyTorch rejects it)",
                "use batch 2 or more, or place batchnorm where the spatial size is above 1",
            )
        return x

    def parameters(self, args: BatchNormArgs, x: Shape, y: Shape) -> int:
        return 2 * x[0] if args.affine else 0

    def buffers(self, args: BatchNormArgs, x: Shape, y: Shape) -> int:
        # running_mean and running_var (C each) plus the one-element num_batches_tracked.
        return 2 * x[0] + 1 if args.track_running_stats else 0

    def pointwise_along_channels(self, args: BatchNormArgs, x: Shape) -> bool:
        return True  # in eval, a per-channel affine map

    def build(self, nn: Any, args: BatchNormArgs, x: Shape) -> Any:
        # (C,) and (C, L) both normalise with BatchNorm1d
        cls = spatial_class(nn, "BatchNorm", max(len(x) - 1, 1))
        return cls(
            x[0], eps=args.eps, momentum=args.momentum, affine=args.affine, track_running_stats=args.track_running_stats
        )
