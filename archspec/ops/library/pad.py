"""``pad``: zeros appended at the end of one dim — a fixed number, and/or up to a multiple (Swin's patch merging
pads an odd H or W by one, ``F.pad(x, (0, 0, 0, W % 2, 0, H % 2))``; windows and patches want whole multiples).
No parameters, no MACs (FlopCounterMode counts no padding). The dim is in torch numbering, batch 0, as for the
layout ops: ``[H, W, C]`` pads H as dim 1.

Padding only at the end keeps the receptive field pointwise: output position i reads input position i, and the
appended positions read nothing (they lie outside the input, as a convolution's padding does). Padding at the
start is what ``conv``'s and the pools' ``padding`` are for.
"""

from __future__ import annotations

from typing import Any

from archspec.errors import OpError
from archspec.ops.base import MAX_SIZE, Context, Example, NonNegativeInt, Op, OpArgs, PositiveInt, Shape
from archspec.ops.base import format_shape as shown
from archspec.ops.library.layout import feature_dim
from archspec.ops.registry import register


class PadArgs(OpArgs):
    dim: int  # torch numbering: 1 is the first feature dim (channels of [C, *spatial])
    after: NonNegativeInt = 0  # zeros appended first
    multiple: PositiveInt = 1  # then more, until the length is a multiple of this


def padded_length(length: int, args: PadArgs) -> int:
    """The length after padding: ``after`` zeros, then up to a multiple of ``multiple``.

    >>> padded_length(7, PadArgs(dim=1, multiple=2)), padded_length(8, PadArgs(dim=1, multiple=2))
    (8, 8)
    >>> padded_length(5, PadArgs(dim=1, after=2, multiple=4))
    8
    """
    grown = length + args.after
    return grown + (-grown) % args.multiple


@register
class Pad(Op):
    """Zeros at the end of dim ``dim``: ``after`` of them, then up to a multiple of ``multiple``."""

    name = "pad"
    Args = PadArgs
    examples = [
        Example({"dim": 1, "after": 3}, (5,), "features"),
        Example({"dim": 2, "multiple": 4}, (3, 9), "1-D: L 9 → 12"),
        Example({"dim": 1, "multiple": 2}, (7, 7, 8), "2-D channels last, Swin: an odd H → even"),
        Example({"dim": 2, "multiple": 2}, (6, 6, 8), "already a multiple: unchanged"),
        Example({"dim": -1, "after": 1, "multiple": 3}, (2, 3, 4, 4), "3-D, the last dim: 4 + 1 → 6"),
    ]

    def output_shape(self, args: PadArgs, x: Shape, ctx: Context) -> Shape:
        d = feature_dim(args.dim, x)
        length = padded_length(x[d], args)
        if length > MAX_SIZE:
            raise OpError(
                f"padding dim {args.dim} of the input {shown(x)} to {length:,} positions passes the largest size, "
                f"{MAX_SIZE:,}",
                "pad less (a smaller 'after' or 'multiple')",
            )
        return (*x[:d], length, *x[d + 1 :])

    def build(self, nn: Any, args: PadArgs, x: Shape) -> Any:
        # archspec/backend/layers/padding.py; the amount is computed from the tensor it pads, as torchvision's
        # F.pad(x, (..., W % 2, ...)) is, so the module pads any length as the spec says.
        return nn.Pad(args.dim, args.after, args.multiple)
