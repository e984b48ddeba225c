"""Parameter items: ops that hold one learnable tensor instead of a module — ConvNeXt's ``layer_scale``, ViT's
``class_token`` and ``pos_embedding``. Each tensor's shape follows from the op's input; the backend registers
it as an ``nn.Parameter`` on the enclosing module under the item's name (torchvision's state-dict keys:
``class_token``, ``encoder.pos_embedding``, ``features.1.0.layer_scale``) and the module's data flow applies
it where the item stands (see :class:`archspec.ops.base.LearnedTensor`). No MACs: FlopCounterMode counts no
``cat``, ``add`` or ``mul``.
"""

from __future__ import annotations

from math import prod
from typing import Annotated

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    LearnedTensor,
    NoArgs,
    Op,
    OpArgs,
    PositionDependent,
    PositiveInt,
    RFStep,
    Shape,
    format_shape,
)
from archspec.ops.registry import register


class LayerScaleArgs(OpArgs):
    init: float = 1e-6
    dim: int = 1  # torch numbering (0 is the batch): 1 the channels of [C, *spatial], -1 the last dim


@register
class LayerScale(Op):
    """A learned per-channel scale, gamma * x, gamma initialised to ``init`` (ConvNeXt's layer_scale)."""

    name = "layer_scale"
    holds_tensor = True
    Args = LayerScaleArgs
    examples = [
        Example({}, (6,)),
        Example({}, (4, 10), "1-D: gamma is 4×1"),
        Example({"init": 0.5}, (8, 5, 5), "2-D: gamma is 8×1×1, as torchvision's CNBlock"),
        Example({}, (3, 2, 4, 4), "3-D"),
        Example({"dim": -1}, (7, 16), "channels last ([L, D], [H, W, C]): gamma has D values"),
        Example({"dim": 2}, (3, 5, 4), "a middle dim: gamma is 5×1"),
    ]

    def output_shape(self, args: LayerScaleArgs, x: Shape, ctx: Context) -> Shape:
        self.check_input(x)
        _feature_dim(args.dim, x)
        return x

    def pointwise_along_channels(self, args: LayerScaleArgs, x: Shape) -> bool:
        return True  # elementwise

    def parameters(self, args: LayerScaleArgs, x: Shape, y: Shape) -> int:
        return x[_feature_dim(args.dim, x)]

    def learned_tensor(self, args: LayerScaleArgs, x: Shape) -> LearnedTensor:
        # (C, 1, ..., 1) over the dims from `dim` on: it broadcasts against (N, ..., C, ...) from the right.
        dim = _feature_dim(args.dim, x)
        return LearnedTensor((x[dim],) + (1,) * (len(x) - dim - 1), "fill", args.init, "scale")


def _feature_dim(dim: int, x: Shape) -> int:
    """``dim`` (torch numbering, batch 0) as a 0-based index into the feature shape ``x``."""
    rank = len(x) + 1
    if not -rank < dim < rank or dim == 0:
        raise OpError(
            f"dim {dim} is not a feature dimension of the input {format_shape(x)} ({rank} dims with the batch, "
            "which is dim 0)",
            f"use a dim from 1 to {rank - 1} (1: channels), or -1 for the last",
            "dim",
        )
    return (dim % rank) - 1


@register
class ClassToken(Op):
    """A learned 1×1×D token prepended to a [L, D] sequence: [L, D] → [L+1, D] (ViT's class_token, zeros)."""

    name = "class_token"
    holds_tensor = True
    Args = NoArgs
    min_dims = max_dims = 2
    examples = [
        Example({}, (196, 12), "ViT: 14×14 patches of 12 features"),
        Example({}, (1, 5)),
        Example({}, (9, 1)),
    ]

    def output_shape(self, args: NoArgs, x: Shape, ctx: Context) -> Shape:
        if len(x) != 2:
            raise OpError(
                f"'class_token' takes a sequence [L, D] (positions, then features), but its input is "
                f"{format_shape(x)}; the token it prepends is 1×1×D",
                "flatten the spatial dims and put the features last first (torchvision: flatten(2), then "
                "permute to [L, D])",
            )
        length, features = x
        return (length + 1, features)

    def parameters(self, args: NoArgs, x: Shape, y: Shape) -> int:
        return x[1]

    def receptive_field(self, args: NoArgs, x: Shape, y: Shape) -> RFStep:
        # Output position 0 is the token, which reads no input; position i reads input i - 1.
        return PositionDependent("class_token prepends a position that depends on no input")

    def learned_tensor(self, args: NoArgs, x: Shape) -> LearnedTensor:
        return LearnedTensor((1, 1, x[1]), "zeros", 0.0, "prepend")


class PosEmbeddingArgs(OpArgs):
    std: Annotated[float, Field(ge=0)] = 0.02
    length: PositiveInt | None = None  # the number of positions it holds along `dim`; None: the input's
    dim: int = 1  # the positions' dim (torch numbering): 1 for [L, D] as ViT's, 2 for a [D, L] sequence


@register
class PosEmbedding(Op):
    """A learned tensor of the input's shape added to it, normal(std) at first (ViT's pos_embedding)."""

    name = "pos_embedding"
    holds_tensor = True
    Args = PosEmbeddingArgs
    examples = [
        Example({}, (10,)),
        Example({}, (197, 12), "ViT: [L, D]; the tensor is 1×197×12, as torchvision's Encoder"),
        Example({"std": 1.0, "length": 5}, (5, 8)),
        Example({"length": 6, "dim": 2}, (4, 6), "a [D, L] sequence: positions along dim 2"),
        Example({}, (4, 3, 6), "2-D: the tensor is 1×4×3×6"),
        Example({"std": 0.5}, (2, 3, 4, 5), "3-D"),
    ]

    def output_shape(self, args: PosEmbeddingArgs, x: Shape, ctx: Context) -> Shape:
        self.check_input(x)
        dim = _feature_dim(args.dim, x)
        if args.length is not None and x[dim] != args.length:
            # The tensor's shape is fixed by `length`: this is what pins the network's input size (ViT-B/16's
            # 197 positions need 224×224), and what the smallest-input search finds.
            held = (1, *x[:dim], args.length, *x[dim + 1 :])
            raise OpError(
                f"'pos_embedding' holds a {format_shape(held)} tensor ({args.length} positions along dim "
                f"{args.dim}), but its input {format_shape(x)} has {x[dim]}",
                f"give the network the input size that makes {args.length} positions, or use length: {x[dim]} "
                "(a tensor of another shape: weights trained for one length do not load)",
                "length",
            )
        return x

    def pointwise_along_channels(self, args: PosEmbeddingArgs, x: Shape) -> bool:
        return True  # elementwise

    def parameters(self, args: PosEmbeddingArgs, x: Shape, y: Shape) -> int:
        return prod(x)

    def learned_tensor(self, args: PosEmbeddingArgs, x: Shape) -> LearnedTensor:
        return LearnedTensor((1, *x), "normal", args.std, "add")
