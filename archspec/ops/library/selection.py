"""Selection ops: ``select`` (one index of a dim: ViT's class token ``x[:, 0]``), ``slice`` (a strided range:
Swin's patch merging ``x[..., 0::2, 0::2, :]``) and ``channel_shuffle`` (ShuffleNet's, ``nn.ChannelShuffle``).
No parameters, no MACs (FlopCounterMode counts no indexing or copy). Dims in torch numbering, batch 0 (which
no op may select from or slice). ShuffleNet's channel *split* is the ``channel_split`` container.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import MAX_SIZE, Context, Example, Op, OpArgs, PositiveInt, Rearrange, RFStep, Shape
from archspec.ops.base import format_shape as shown
from archspec.ops.library.layout import feature_dim
from archspec.ops.registry import register

Index = Annotated[int, Field(ge=-MAX_SIZE, le=MAX_SIZE)]


class SelectArgs(OpArgs):
    dim: int
    index: Index  # negative counts from the end, as in Python


@register
class Select(Op):
    """One index of a dim, which disappears (``x.select(dim, index)``: ``x[:, 0]`` is dim 1, index 0)."""

    name = "select"
    Args = SelectArgs
    min_dims = 2  # selecting the only feature dim would leave a scalar per sample
    examples = [
        Example({"dim": 1, "index": 0}, (197, 12), "ViT's class token: [L, D] → [D]"),
        Example({"dim": 2, "index": -1}, (3, 8), "1-D: the last position"),
        Example({"dim": 1, "index": 2}, (4, 5, 6), "2-D: one channel → [H, W]"),
        Example({"dim": 3, "index": 1}, (2, 3, 4, 5), "3-D"),
    ]

    def output_shape(self, args: SelectArgs, x: Shape, ctx: Context) -> Shape:
        self.check_input(x)
        d = feature_dim(args.dim, x)
        if not -x[d] <= args.index < x[d]:
            raise OpError(
                f"index {args.index} is outside dim {args.dim} of the input {shown(x)}, which has {x[d]} positions",
                f"use an index from 0 to {x[d] - 1} (or -{x[d]} to -1)",
                "index",
            )
        return x[:d] + x[d + 1 :]

    def receptive_field(self, args: SelectArgs, x: Shape, y: Shape) -> RFStep:
        d = feature_dim(args.dim, x)
        return Rearrange.moved(tuple(j for j in range(len(x)) if j != d))

    def build(self, nn: Any, args: SelectArgs, x: Shape) -> Any:
        return nn.Select(args.dim, args.index)


class SliceArgs(OpArgs):
    dim: int
    start: Index = 0  # negative counts from the end, as in Python
    stop: Index | None = None  # exclusive; None: to the end
    step: PositiveInt = 1


def _range(args: SliceArgs, x: Shape) -> tuple[int, range]:
    """The feature index of ``dim`` and the positions kept along it (Python's slice rules)."""
    d = feature_dim(args.dim, x)
    kept = range(x[d])[slice(args.start, args.stop, args.step)]
    if len(kept) == 0:
        stop = "" if args.stop is None else str(args.stop)
        what = f"slice {args.start}:{stop}:{args.step} of dim {args.dim} keeps nothing of the input {shown(x)}"
        first = range(x[d])[slice(args.start, None)]
        if len(first) == 0:  # the start lies past the end
            raise OpError(f"{what} ({x[d]} positions)", f"use a start from 0 to {x[d] - 1} (or -{x[d]} to -1)", "start")
        # Both given, the start inside: it is their combination that is wrong (the error is the item's).
        raise OpError(
            f"{what}: the stop lies at or before the start (position {first.start})",
            f"use a stop past {first.start}, or none (to the end), or an earlier start",
        )
    return d, kept


@register
class Slice(Op):
    """Positions ``start:stop:step`` of a dim (Python's rules; ``x[:, :, 0::2]`` is dim 2, step 2)."""

    name = "slice"
    Args = SliceArgs
    examples = [
        Example({"dim": 1, "start": 2, "stop": 7}, (10,)),
        Example({"dim": 2, "step": 2}, (3, 9), "1-D: every other position"),
        Example({"dim": 1, "start": 1, "step": 2}, (5, 6, 7), "2-D, Swin's 1::2 along H of [H, W, C]"),
        Example({"dim": -1, "start": -3}, (4, 5, 6), "the last 3 positions"),
        Example({"dim": 1, "stop": -1}, (6, 3, 4, 5), "3-D, channels"),
    ]

    def output_shape(self, args: SliceArgs, x: Shape, ctx: Context) -> Shape:
        d, kept = _range(args, x)
        return (*x[:d], len(kept), *x[d + 1 :])

    def receptive_field(self, args: SliceArgs, x: Shape, y: Shape) -> RFStep:
        d, kept = _range(args, x)
        start = [0] * len(x)
        step = [1] * len(x)
        start[d], step[d] = kept.start, kept.step
        return Rearrange(tuple(range(len(x))), tuple(start), tuple(step))

    def build(self, nn: Any, args: SliceArgs, x: Shape) -> Any:
        return nn.Slice(args.dim, args.start, args.stop, args.step)


class ChannelShuffleArgs(OpArgs):
    groups: PositiveInt


@register
class ChannelShuffle(Op):
    """Interleaves ``groups`` groups of channels (ShuffleNet; ``nn.ChannelShuffle``); the same shape."""

    name = "channel_shuffle"
    Args = ChannelShuffleArgs
    min_dims = 2  # torch's kernel takes (N, C, *spatial) with at least one spatial dim
    examples = [
        Example({"groups": 2}, (6, 5), "1-D"),
        Example({"groups": 3}, (12, 4, 4), "2-D"),
        Example({"groups": 2}, (4, 3, 3, 3), "3-D"),
        Example({"groups": 1}, (5, 2, 2), "one group: the identity"),
    ]

    def output_shape(self, args: ChannelShuffleArgs, x: Shape, ctx: Context) -> Shape:
        if len(x) < 2:
            raise OpError(
                f"'channel_shuffle' takes [C, *spatial] with at least one spatial dim (torch's ChannelShuffle), but "
                f"its input is {shown(x)}",
                "shuffle before flatten, or give the spec's input as [C, L] or [C, H, W]",
            )
        self.check_input(x)
        if x[0] % args.groups:
            raise OpError(
                f"groups {args.groups} does not divide the {x[0]} channels of the input {shown(x)}",
                "use groups that divide the channels",
                "groups",
            )
        return x

    def build(self, nn: Any, args: ChannelShuffleArgs, x: Shape) -> Any:
        return nn.ChannelShuffle(args.groups)
