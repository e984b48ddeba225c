"""``layernorm``: layer normalisation over the last dim(s) (``nn.LayerNorm``), or over the channels at every
position of ``[C, *spatial]`` (``channels: true``: ConvNeXt's ``LayerNorm2d``, in 1-D, 2-D and 3-D)."""

from __future__ import annotations

from math import prod
from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import Context, Example, Op, OpArgs, PositiveInt, RFStep, Shape, global_along
from archspec.ops.registry import register


class LayerNormArgs(OpArgs):
    dims: PositiveInt = 1
    eps: Annotated[float, Field(gt=0)] = 1e-5
    elementwise_affine: bool = True
    bias: bool = True
    channels: bool = False


@register
class LayerNorm(Op):
    """Layer normalisation over the last dims (torch.nn.LayerNorm), or over C at every position (LayerNorm2d).

    ``dims`` counts the normalised dims from the end; ``channels: true`` normalises over the channel dim of
    ``[C, *spatial]`` at every position, as torchvision's LayerNorm2d does (here in 1-D, 2-D and 3-D)."""

    name = "layernorm"
    Args = LayerNormArgs
    examples = [
        Example({}, (12,)),
        Example({}, (4, 8), "a sequence [L, D]: over D at every position"),
        Example({"dims": 2, "eps": 1e-6}, (3, 5, 6), "over the last two dims"),
        Example({"elementwise_affine": False}, (2, 3, 4, 5)),
        Example({"bias": False}, (7, 6)),
        Example({"channels": True}, (6, 9), "1-D: over C at every position"),
        Example({"channels": True, "eps": 1e-6}, (8, 5, 5), "ConvNeXt's LayerNorm2d"),
        Example({"channels": True, "bias": False}, (4, 3, 3, 3)),
    ]

    def output_shape(self, args: LayerNormArgs, x: Shape, ctx: Context) -> Shape:
        self.check_input(x)
        if args.channels:
            if len(x) < 2:
                raise OpError(
                    "layernorm with channels: true normalises over C at every position of [C, *spatial], but "
                    "its input has no spatial dims",
                    "use channels: false (over the last dim) after flatten",
                    "channels",
                )
            if args.dims != 1:
                raise OpError(
                    f"with channels: true layernorm normalises over the channel dim alone, so dims {args.dims} "
                    "has no meaning",
                    "remove dims, or use channels: false to normalise over the last dims",
                    "dims",
                )
        elif args.dims > len(x):
            raise OpError(
                f"layernorm over the last {args.dims} dims needs an input with at least {args.dims}, but its "
                f"input has {len(x)}",
                f"use dims from 1 to {len(x)}",
                "dims",
            )
        return x

    def normalized(self, args: LayerNormArgs, x: Shape) -> int:
        """The elements of one normalised group (the size of weight and bias)."""
        return x[0] if args.channels else prod(x[-args.dims :])

    def parameters(self, args: LayerNormArgs, x: Shape, y: Shape) -> int:
        if not args.elementwise_affine:
            return 0
        return self.normalized(args, x) * (2 if args.bias else 1)

    def pointwise_along_channels(self, args: LayerNormArgs, x: Shape) -> bool:
        # Over the last dims of [H, W, C] (ConvNeXt, after a permute) each output reads only its own H index.
        return not args.channels and args.dims < len(x)

    def receptive_field(self, args: LayerNormArgs, x: Shape, y: Shape) -> RFStep:
        # Each output reads the statistics of its whole group: over channels that is pointwise in space; over
        # the last dims every output sees every position of the spatial dims among them.
        if args.channels:
            return None
        spatial = tuple(d - 1 for d in range(len(x) - args.dims, len(x)) if d >= 1)
        return global_along(x, spatial, "layernorm normalises over whole dims") if spatial else None

    def build(self, nn: Any, args: LayerNormArgs, x: Shape) -> Any:
        options = {"eps": args.eps, "elementwise_affine": args.elementwise_affine, "bias": args.bias}
        if args.channels:
            # archspec/backend/layers/norms.py: LayerNorm1d/2d/3d (torchvision's LayerNorm2d and its kin)
            return getattr(nn, f"LayerNorm{len(x) - 1}d")(x[0], **options)
        return nn.LayerNorm(list(x[-args.dims :]), **options)
