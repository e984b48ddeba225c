"""``groupnorm``: group normalisation over groups of channels and every position (``nn.GroupNorm``)."""

from __future__ import annotations

from math import prod
from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import Context, Example, Global, Op, OpArgs, PositiveInt, RFStep, Shape
from archspec.ops.registry import register


class GroupNormArgs(OpArgs):
    groups: PositiveInt
    eps: Annotated[float, Field(gt=0)] = 1e-5
    affine: bool = True


@register
class GroupNorm(Op):
    """Group normalisation over groups of channels and every position (torch.nn.GroupNorm).

    ``groups: 1`` is a layer norm over C×spatial, ``groups: C`` an instance norm with an affine transform."""

    name = "groupnorm"
    Args = GroupNormArgs
    examples = [
        Example({"groups": 2}, (6,)),
        Example({"groups": 4}, (8, 10)),
        Example({"groups": 3, "eps": 1e-6}, (6, 5, 5)),
        Example({"groups": 1, "affine": False}, (4, 3, 4)),
        Example({"groups": 2}, (4, 3, 3, 3)),
    ]

    def output_shape(self, args: GroupNormArgs, x: Shape, ctx: Context) -> Shape:
        self.check_input(x)
        if x[0] % args.groups:
            raise OpError(
                f"groupnorm splits the channels into {args.groups} groups, but {args.groups} does not divide the "
                f"input's {x[0]} channels",
                f"use groups that divide {x[0]} (e.g. {_divisor_near(x[0], args.groups)})",
                "groups",
            )
        # torch's F.group_norm checks batch × channels per group × positions > 1 (_verify_batch_size), in eval too
        if ctx.batch * (x[0] // args.groups) * prod(x[1:]) == 1:
            raise OpError(
                f"groupnorm needs more than one value per group, but with {args.groups} group(s) at batch "
                f"{ctx.batch} each group holds one (PyTorch rejects it)",
                "use fewer groups, batch 2 or more, or place it where the spatial size is above 1",
                "groups",
            )
        return x

    def parameters(self, args: GroupNormArgs, x: Shape, y: Shape) -> int:
        return 2 * x[0] if args.affine else 0

    def receptive_field(self, args: GroupNormArgs, x: Shape, y: Shape) -> RFStep:
        # The statistics of a group are taken over every position: each output reads the whole input.
        return Global("groupnorm normalises over every position") if len(x) > 1 else None

    def build(self, nn: Any, args: GroupNormArgs, x: Shape) -> Any:
        return nn.GroupNorm(args.groups, x[0], eps=args.eps, affine=args.affine)


def _divisor_near(channels: int, groups: int) -> int:
    """The divisor of ``channels`` closest to ``groups`` (the smaller one on a tie).

    >>> _divisor_near(6, 4), _divisor_near(64, 30), _divisor_near(7, 3)
    (3, 32, 1)
    """
    return min((d for d in range(1, channels + 1) if channels % d == 0), key=lambda d: (abs(d - groups), d))
