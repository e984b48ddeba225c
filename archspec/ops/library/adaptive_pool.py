"""``adaptive_avgpool`` / ``adaptive_maxpool``: pool to a requested output size (``nn.AdaptiveAvg/MaxPoolNd``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import (
    Context,
    Example,
    Global,
    Op,
    OpArgs,
    PositionDependent,
    RFStep,
    Shape,
    WindowStep,
    require_spatial,
)
from archspec.ops.registry import register
from archspec.ops.torch_classes import spatial_class

# 0 is refused: PyTorch silently returns an empty tensor for it (REFERENCE.md §1)
OutputSize = Annotated[int, Field(ge=1, le=2**31 - 1)]


class AdaptivePoolArgs(OpArgs):
    output: OutputSize | list[OutputSize | None]


def requested_sizes(args: AdaptivePoolArgs, x: Shape) -> tuple[int, ...]:
    """The output size per dimension; ``None`` in a list keeps that dimension's input size."""
    dims = require_spatial("adaptive pooling", x)
    if isinstance(args.output, int):
        sizes = (args.output,) * dims
    elif len(args.output) != dims:
        raise OpError(
            f"'output' has {len(args.output)} values but the input has {dims} spatial dimension(s)",
            f"give one value (e.g. output: 1) or a list of {dims}",
            "output",
        )
    else:
        sizes = tuple(length if size is None else size for size, length in zip(args.output, x[1:], strict=True))
    return sizes


class AdaptivePool(Op):
    """Shared rules: bins ``[floor(iL/O), ceil((i+1)L/O))`` — an ordinary pool when O divides L."""

    torch_prefix: ClassVar[str]
    Args = AdaptivePoolArgs
    fresh_output = True
    min_dims = 2
    examples = [
        Example({"output": 4}, (3, 10)),
        Example({"output": 1}, (3, 7)),
        Example({"output": 7}, (4, 14, 14)),
        Example({"output": [6, None]}, (2, 13, 5)),
        Example({"output": 5}, (2, 3, 3), "output larger than input"),
        Example({"output": [1, 2, 3]}, (2, 4, 6, 9)),
        Example({"output": [None]}, (3, 6), "None keeps the input size, in 1-D too"),
    ]

    def output_shape(self, args: AdaptivePoolArgs, x: Shape, ctx: Context) -> Shape:
        return (x[0], *requested_sizes(args, x))

    def receptive_field(self, args: AdaptivePoolArgs, x: Shape, y: Shape) -> RFStep:
        if all(size == 1 for size in y[1:]):
            return Global("adaptive pooling to size 1 reads every input position")
        if any(length % size for length, size in zip(x[1:], y[1:], strict=True)):
            return PositionDependent("adaptive pooling whose output size does not divide its input")
        step = tuple(length // size for length, size in zip(x[1:], y[1:], strict=True))
        return WindowStep(step, step, (0,) * len(step))

    def build(self, nn: Any, args: AdaptivePoolArgs, x: Shape) -> Any:
        # ``None`` entries resolved to the input size: AdaptiveAvg/MaxPool1d accept no None (2-D/3-D do).
        output = args.output if isinstance(args.output, int) else requested_sizes(args, x)
        return spatial_class(nn, self.torch_prefix, len(x) - 1)(output)


@register
class AdaptiveAvgPool(AdaptivePool):
    """Average pooling to a fixed output size (torch.nn.AdaptiveAvgPoolNd)."""

    name, torch_prefix = "adaptive_avgpool", "AdaptiveAvgPool"


@register
class AdaptiveMaxPool(AdaptivePool):
    """Max pooling to a fixed output size (torch.nn.AdaptiveMaxPoolNd)."""

    name, torch_prefix = "adaptive_maxpool", "AdaptiveMaxPool"
