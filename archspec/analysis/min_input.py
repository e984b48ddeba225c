"""The smallest input each spatial dimension accepts, found by re-running the shape rules on the IR."""

from __future__ import annotations

from typing import Any

from archspec.errors import OpError
from archspec.ir.graph import Network, Node
from archspec.ops.base import Context, Shape
from archspec.ops.containers import Inputs


def output_for(network: Network, shape: Shape, ctx: Context) -> Shape | None:
    """The network's output for another input shape, or None when some layer would reject it."""

    def visit(node: Node, x: Any) -> Any:
        if x is None or (isinstance(x, Inputs) and None in x):
            return None
        if node.is_leaf:
            try:
                return node.op.output_shape(node.args, x, ctx)
            except (OpError, ValueError, IndexError):
                return None

        def merge(shapes: list[Any]) -> Any:
            if None in shapes:
                return None
            try:
                return node.container.output_shape(node.args, x, shapes)
            except OpError:
                return None

        return node.container.propagate(x, node.children, visit, merge, _side_must_be_valid)

    return visit(network.root, shape)


def _side_must_be_valid(main: Any, side: Any) -> Any:
    return None if side is None else main


def min_input(network: Network, ctx: Context) -> list[int]:
    """``[C, *spatial]`` where each spatial size is the smallest valid one with the others kept as given.

    Validity is monotone for chains of convolutions and pools, so a binary search finds the edge; the result
    is confirmed (and scanned linearly where a structure breaks monotonicity).
    """
    shape = list(network.input)
    result = list(shape)
    for dim in range(1, len(shape)):

        def valid(size: int, dim: int = dim) -> bool:
            probe = list(shape)
            probe[dim] = size
            return output_for(network, tuple(probe), ctx) is not None

        low, high = 1, shape[dim]
        while low < high:
            middle = (low + high) // 2
            if valid(middle):
                high = middle
            else:
                low = middle + 1
        if (low > 1 and valid(low - 1)) or not valid(low):
            low = next(size for size in range(1, shape[dim] + 1) if valid(size))
        result[dim] = low
    return result
