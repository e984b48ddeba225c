"""``global_avgpool`` / ``global_maxpool``: pool every spatial dimension to 1 (keeps ``(C, 1, ...)``)."""

from __future__ import annotations

from typing import Any, ClassVar

from archspec.ops.base import Context, Example, Global, Op, Shape, require_spatial
from archspec.ops.registry import register
from archspec.ops.torch_classes import spatial_class


class GlobalPool(Op):
    """Shared rules: an adaptive pool to size 1, whose every output sees the whole input (a global field)."""

    torch_prefix: ClassVar[str]
    min_dims = 2
    fresh_output = True
    examples = [Example({}, (8, 5)), Example({}, (16, 7, 7)), Example({}, (4, 3, 5, 6))]

    def output_shape(self, args: Any, x: Shape, ctx: Context) -> Shape:
        dims = require_spatial(self.name, x)
        return (x[0],) + (1,) * dims

    def receptive_field(self, args: Any, x: Shape, y: Shape) -> Global:
        return Global("global pooling reads every input position")

    def build(self, nn: Any, args: Any, x: Shape) -> Any:
        return spatial_class(nn, self.torch_prefix, len(x) - 1)(1)


@register
class GlobalAvgPool(GlobalPool):
    """Average over all spatial positions (torch.nn.AdaptiveAvgPoolNd(1))."""

    name, torch_prefix = "global_avgpool", "AdaptiveAvgPool"


@register
class GlobalMaxPool(GlobalPool):
    """Maximum over all spatial positions (torch.nn.AdaptiveMaxPoolNd(1))."""

    name, torch_prefix = "global_maxpool", "AdaptiveMaxPool"
