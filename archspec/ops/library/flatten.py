"""``flatten``: merge dimensions ``start``..``end`` into one (``nn.Flatten``)."""

from __future__ import annotations

from math import prod
from typing import Any

from archspec.errors import OpError
from archspec.ops.base import Context, Example, Op, OpArgs, Shape
from archspec.ops.registry import register


class FlattenArgs(OpArgs):
    start: int = 1
    end: int = -1


def _resolve(args: FlattenArgs, x: Shape) -> tuple[int, int]:
    rank = len(x) + 1  # torch's numbering, batch included
    start = args.start + rank if args.start < 0 else args.start
    end = args.end + rank if args.end < 0 else args.end
    if not 1 <= start < rank:
        last = rank - 1
        choices = f"start 1 (or -{last})" if last == 1 else f"start from 1 to {last} (or -{last} to -1)"
        raise OpError(
            f"start {args.start} is not a feature dimension (batch is 0, input rank {rank})", f"use {choices}", "start"
        )
    if not start <= end < rank:
        raise OpError(f"end {args.end} must lie between start {start} and {rank - 1}", "use end: -1", "end")
    return start, end


@register
class Flatten(Op):
    """Merges dimensions start..end (torch numbering, batch = 0; default 1..-1 → (N, features))."""

    name = "flatten"
    Args = FlattenArgs
    examples = [
        Example({}, (16, 5, 5)),
        Example({}, (4, 6)),
        Example({"start": 2}, (3, 4, 5, 6)),
        Example({"start": 1, "end": 2}, (3, 4, 5)),
        Example({}, (7,)),
    ]

    def output_shape(self, args: FlattenArgs, x: Shape, ctx: Context) -> Shape:
        start, end = _resolve(args, x)
        return (*x[: start - 1], prod(x[start - 1 : end]), *x[end:])

    def build(self, nn: Any, args: FlattenArgs, x: Shape) -> Any:
        return nn.Flatten(args.start, args.end)
