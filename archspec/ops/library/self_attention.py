"""``self_attention``: multi-head self-attention over a sequence ``[L, D]`` (torchvision's ViT encoder block:
``nn.MultiheadAttention(D, heads, dropout, batch_first=True)`` called as ``attn(x, x, x, need_weights=False)``),
optionally causal (a GPT-style decoder)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    Global,
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


class SelfAttentionArgs(OpArgs):
    heads: PositiveInt
    dropout: Annotated[float, Field(ge=0, le=1)] = 0.0  # on the attention weights, in training
    bias: bool = True  # in_proj_bias and out_proj.bias
    causal: bool = False  # position i attends to positions 0..i only


@register
class SelfAttention(Op):
    """Multi-head self-attention over [L, D], D from the input (torch.nn.MultiheadAttention's parameters)."""

    name = "self_attention"
    Args = SelfAttentionArgs
    min_dims = max_dims = 2
    examples = [
        Example({"heads": 2}, (5, 8), "ViT's layout: [L, D], here 5 positions of 8 features"),
        Example({"heads": 1, "bias": False}, (3, 4)),
        Example({"heads": 4, "causal": True}, (6, 16), "a decoder: position i reads positions 0..i"),
        Example({"heads": 2, "dropout": 0.1}, (1, 6), "one position"),
        Example({"heads": 3}, (197, 12), "ViT-B/16's 197 positions (class token + 14×14 patches)"),
    ]

    def output_shape(self, args: SelfAttentionArgs, x: Shape, ctx: Context) -> Shape:
        if len(x) != 2:
            raise OpError(
                f"'self_attention' takes a sequence [L, D] (positions, then features), but its input is "
                f"{format_shape(x)}",
                "flatten the spatial dims and put the features last first (torchvision's ViT: flatten(2), "
                "then permute to [L, D])",
            )
        features = x[1]
        check_heads_divide(args.heads, features, "features", "D", format_shape(x))
        return x

    def parameters(self, args: SelfAttentionArgs, x: Shape, y: Shape) -> int:
        # in_proj_weight (3D × D) and out_proj.weight (D × D), with in_proj_bias (3D) and out_proj.bias (D).
        features = x[1]
        return 4 * features * features + (4 * features if args.bias else 0)

    def macs(self, args: SelfAttentionArgs, x: Shape, y: Shape) -> int:
        """What the math does, as FlopCounterMode counts it with autograd on (and the fused CPU kernel counted
        by its formula: archspec.backend.verify.flop_counter): the q, k, v projections (3·L·D²), Q·Kᵀ and A·V
        (L·L·D each, over all heads) and the output projection (L·D²). A causal mask does not change the
        count: the products are formed for every pair, the mask only hides some."""
        length, features = x
        return 4 * length * features * features + 2 * length * length * features

    def receptive_field(self, args: SelfAttentionArgs, x: Shape, y: Shape) -> RFStep:
        if args.causal and x[0] > 1:
            return PositionDependent("causal self-attention: position i reads positions 0..i")
        return Global("self-attention: every position reads every position and every feature")

    def build(self, nn: Any, args: SelfAttentionArgs, x: Shape) -> Any:
        return nn.SelfAttention(x[1], args.heads, dropout=args.dropout, bias=args.bias, causal=args.causal)
