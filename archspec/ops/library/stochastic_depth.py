"""``stochastic_depth``: drops a residual branch per sample (``row``) or for the whole batch (``batch``) in
training; the identity in eval (torchvision.ops.StochasticDepth; Huang et al. 2016, "Deep Networks with
Stochastic Depth")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from archspec.ops.base import Example, Op, OpArgs, Shape
from archspec.ops.registry import register


class StochasticDepthArgs(OpArgs):
    p: Annotated[float, Field(ge=0, le=1)]
    mode: Literal["row", "batch"] = "row"


@register
class StochasticDepth(Op):
    """Drops whole samples (row) or the batch with probability p in training (torchvision's StochasticDepth).

    What survives is divided by 1 - p; in eval it is the identity."""

    name = "stochastic_depth"
    Args = StochasticDepthArgs
    examples = [
        Example({"p": 0.2}, (10,)),
        Example({"p": 0.1}, (3, 7)),
        Example({"p": 0.5, "mode": "batch"}, (2, 4, 4)),
        Example({"p": 0.0}, (2, 3, 3, 3)),
    ]

    def pointwise_along_channels(self, args: StochasticDepthArgs, x: Shape) -> bool:
        return True  # the identity in eval, where fields are defined

    def build(self, nn: Any, args: StochasticDepthArgs, x: Shape) -> Any:
        # archspec/backend/layers/stochastic_depth.py: torchvision's behaviour, torch only
        return nn.StochasticDepth(args.p, args.mode)
