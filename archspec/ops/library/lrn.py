"""``lrn``: local response normalisation across channels (``nn.LocalResponseNorm``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from archspec.ops.base import Example, Op, OpArgs, PositiveInt, Shape
from archspec.ops.registry import register


class LRNArgs(OpArgs):
    size: PositiveInt = 5
    alpha: Annotated[float, Field(ge=0)] = 1e-4
    beta: Annotated[float, Field(ge=0)] = 0.75
    k: Annotated[float, Field(ge=0)] = 1.0


@register
class LRN(Op):
    """Local response normalisation across neighbouring channels (AlexNet, GoogLeNet v1)."""

    name = "lrn"
    Args = LRNArgs
    min_dims = 2  # torch needs (N, C, L...): at least one spatial dimension
    examples = [
        Example({"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}, (8, 5, 5)),
        Example({"size": 3}, (4, 7)),
        Example({"size": 2}, (3, 2, 3, 4)),
    ]

    def output_shape(self, args: LRNArgs, x: Shape, ctx: object) -> Shape:
        self.check_input(x)
        return x

    def build(self, nn: Any, args: LRNArgs, x: Shape) -> Any:
        return nn.LocalResponseNorm(args.size, alpha=args.alpha, beta=args.beta, k=args.k)
