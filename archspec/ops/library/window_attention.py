"""``window_attention``: Swin's shifted window attention over a channels-last map ``[H, W, C]`` (torchvision's
``ShiftedWindowAttention``: window partition, cyclic shift with its mask, relative position bias table and index
buffer). The map is padded on the bottom and right to whole windows, so every H, W >= 1 is accepted."""

from __future__ import annotations

from math import ceil
from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    Global,
    NonNegativeInt,
    Op,
    OpArgs,
    PositionDependent,
    PositiveInt,
    RFStep,
    Shape,
    format_shape,
)
from archspec.ops.registry import register
from archspec.ops.shape_math import check_heads_divide

Probability = Annotated[float, Field(ge=0, le=1)]


class WindowAttentionArgs(OpArgs):
    window: PositiveInt | list[PositiveInt]  # rows, cols of a window (one int: square)
    heads: PositiveInt
    shift: NonNegativeInt | list[NonNegativeInt] = 0  # the cyclic shift (Swin: window // 2 in every other block)
    qkv_bias: bool = True
    proj_bias: bool = True
    attention_dropout: Probability = 0.0  # on the attention weights, in training
    dropout: Probability = 0.0  # on the output, in training


@register
class WindowAttention(Op):
    """Shifted window multi-head attention over [H, W, C] (torchvision's ShiftedWindowAttention)."""

    name = "window_attention"
    Args = WindowAttentionArgs
    min_dims = max_dims = 3
    examples = [
        Example({"window": 2, "heads": 2}, (4, 4, 8), "2×2 windows, no shift"),
        Example({"window": 3, "shift": 1, "heads": 2}, (7, 5, 4), "padded to 9×6, shifted, masked"),
        Example({"window": [2, 3], "shift": [1, 1], "heads": 1, "qkv_bias": False, "proj_bias": False}, (4, 6, 6)),
        Example({"window": 7, "shift": 3, "heads": 2}, (5, 5, 4), "one window covers the map: no shift"),
        Example({"window": [2, 4], "shift": [1, 2], "heads": 2}, (6, 3, 4), "shifted along H only (W: one window)"),
        Example({"window": 7, "heads": 3, "dropout": 0.1, "attention_dropout": 0.1}, (1, 1, 6), "a 1×1 map"),
    ]

    def output_shape(self, args: WindowAttentionArgs, x: Shape, ctx: Context) -> Shape:
        if len(x) != 3:
            raise OpError(
                f"'window_attention' takes a channels-last map [H, W, C], but its input is {format_shape(x)}",
                "put the channels last first (torchvision's Swin: permute [C, H, W] to [H, W, C])",
            )
        window, shift = _pair(args.window, "window"), _pair(args.shift, "shift")
        if any(s >= w for s, w in zip(shift, window, strict=True)):
            raise OpError(
                f"shift {list(shift)} is not smaller than the window {list(window)}: shifting by a whole window "
                "more gives the same grid of windows as the smaller shift",
                f"use a shift below the window (Swin: {[w // 2 for w in window]}), or 0",
                "shift",
            )
        channels = x[2]
        check_heads_divide(args.heads, channels, "channels", "C", format_shape(x))
        return x

    def parameters(self, args: WindowAttentionArgs, x: Shape, y: Shape) -> int:
        # qkv (C → 3C), proj (C → C), and the table: one bias per head for each of (2wh-1)(2ww-1) offsets.
        channels = x[2]
        rows, cols = _pair(args.window, "window")
        return (
            4 * channels * channels
            + (3 * channels if args.qkv_bias else 0)
            + (channels if args.proj_bias else 0)
            + (2 * rows - 1) * (2 * cols - 1) * args.heads
        )

    def buffers(self, args: WindowAttentionArgs, x: Shape, y: Shape) -> int:
        # relative_position_index: the table row of every (token, token) pair of a window; torchvision
        # registers it persistent, so it is in the state dict and loads with the weights.
        rows, cols = _pair(args.window, "window")
        return (rows * cols) ** 2

    def macs(self, args: WindowAttentionArgs, x: Shape, y: Shape) -> int:
        """Over the padded map (the projections run on the padding too): per position the q, k, v and output
        projections (4·C²) and, per window of N = wh·ww tokens, Q·Kᵀ and A·V (N·N·C each over all heads)."""
        padded = _padded(x, _pair(args.window, "window"))
        tokens = _tokens(args)
        return padded * (4 * x[2] * x[2] + 2 * tokens * x[2])

    def receptive_field(self, args: WindowAttentionArgs, x: Shape, y: Shape) -> RFStep:
        rows, cols = _pair(args.window, "window")
        if ceil(x[0] / rows) == 1 and ceil(x[1] / cols) == 1:
            return Global("window attention with one window over the whole map reads every position")
        # Windows tile the map (they do not slide): a position reads the positions of its own window of the
        # shifted grid, so the span depends on where it lies. The shift's mask adds -100 before the softmax,
        # not -inf: positions from other regions weigh e**-100 but are read (the gradient probe sees them).
        return PositionDependent("window attention: a position reads its own window of the (shifted) grid")

    def build(self, nn: Any, args: WindowAttentionArgs, x: Shape) -> Any:
        return nn.ShiftedWindowAttention(
            x[2],
            list(_pair(args.window, "window")),
            list(_pair(args.shift, "shift")),
            args.heads,
            qkv_bias=args.qkv_bias,
            proj_bias=args.proj_bias,
            attention_dropout=args.attention_dropout,
            dropout=args.dropout,
        )


def _pair(value: int | list[int], argument: str) -> tuple[int, int]:
    """One value for both dims of the window grid, or [rows, cols]."""
    if isinstance(value, int):
        return value, value
    if len(value) != 2:
        # A shift of 0 fits every window; the first value given (or Swin's 7) as the window's example.
        example = 0 if argument == "shift" else (value[0] if value else 7)
        raise OpError(
            f"'{argument}' has {len(value)} values, but windows have two dims (rows, cols)",
            f"give one value (e.g. {argument}: {example}) or a list [rows, cols]",
            argument,
        )
    return value[0], value[1]


def _padded(x: Shape, window: tuple[int, int]) -> int:
    """Positions of the map padded on the bottom and right to whole windows."""
    return ceil(x[0] / window[0]) * window[0] * ceil(x[1] / window[1]) * window[1]


def _tokens(args: WindowAttentionArgs) -> int:
    rows, cols = _pair(args.window, "window")
    return rows * cols
