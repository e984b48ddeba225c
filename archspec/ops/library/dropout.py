"""``dropout``: element dropout, or whole-channel dropout with ``channel: true`` (``nn.Dropout1d/2d/3d``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import Context, Example, Op, OpArgs, Shape
from archspec.ops.registry import register
from archspec.ops.torch_classes import spatial_class


class DropoutArgs(OpArgs):
    p: Annotated[float, Field(ge=0, le=1)] = 0.5
    channel: bool = False


@register
class Dropout(Op):
    """Zeroes elements (or whole channels) with probability p in training; the identity in eval."""

    name = "dropout"
    Args = DropoutArgs
    examples = [
        Example({}, (10,)),
        Example({"p": 0.2}, (3, 5, 5)),
        Example({"p": 0.1, "channel": True}, (4, 9)),
        Example({"channel": True}, (3, 4, 4)),
        Example({"p": 0.3, "channel": True}, (2, 3, 3, 3)),
    ]

    def output_shape(self, args: DropoutArgs, x: Shape, ctx: Context) -> Shape:
        if args.channel and not 2 <= len(x) <= 4:
            raise OpError(
                "channel dropout needs an input with 1 to 3 spatial dimensions",
                "use channel: false after flatten",
                "channel",
            )
        return x

    def pointwise_along_channels(self, args: DropoutArgs, x: Shape) -> bool:
        return True  # the identity in eval, where fields are defined

    def build(self, nn: Any, args: DropoutArgs, x: Shape) -> Any:
        if args.channel:
            return spatial_class(nn, "Dropout", len(x) - 1)(p=args.p)
        return nn.Dropout(p=args.p)
