"""The smallest input each spatial dimension accepts, found by re-running the shape rules on the IR."""

from __future__ import annotations

from typing import Any

from archspec.errors import OpError
from archspec.ir.graph import Network, Node
from archspec.ops.base import Context, Shape
from archspec.ops.containers import Inputs


def output_for(network: Network, shape: Shape, ctx: Context) -> Shape | None:
    """The network's output for another input shape, or None when some layer would reject it."""

    failed = False  # any layer that rejects its input fails the network, even if `from` drops its output

    def visit(node: Node, x: Any) -> Any:
        nonlocal failed
        if x is None or (isinstance(x, Inputs) and None in x):
            return None
        if node.is_leaf:
            try:
                return node.op.output_shape(node.args, x, ctx)
            except (OpError, ValueError, IndexError):
                failed = True
                return None

        def merge(shapes: list[Any]) -> Any:
            if None in shapes:
                return None
            try:
                return node.container.output_shape(node.args, x, shapes)
            except OpError:
                nonlocal failed
                failed = True
                return None

        return node.container.propagate(x, node.children, visit, merge, _side_must_be_valid)

    output = visit(network.root, shape)
    return None if failed else output


def _side_must_be_valid(main: Any, side: Any) -> Any:
    return None if side is None else main


def min_input(network: Network, ctx: Context) -> list[int]:
    """``[C, *spatial]`` where each spatial size is the smallest valid one with the others kept as given.

    Validity is monotone in each size for convolutions, pools and merges of equally strided branches, so
    a galloping search from 1 finds the edge in a few passes. Square inputs are searched for all dimensions
    at once; the result is kept only if shrinking any single dimension by one breaks the network.
    """
    shape = list(network.input)
    if len(shape) < 2:
        return shape

    def valid(sizes: dict[int, int]) -> bool:
        probe = list(shape)
        for dim, size in sizes.items():
            probe[dim] = size
        return output_for(network, tuple(probe), ctx) is not None

    dims = range(1, len(shape))
    if len(set(shape[1:])) == 1:
        joint = _smallest(lambda size: valid(dict.fromkeys(dims, size)), shape[1])
        if all(joint == 1 or not valid({dim: joint - 1}) for dim in dims):
            return [shape[0]] + [joint] * len(dims)
    result = list(shape)
    for dim in dims:
        result[dim] = _smallest(lambda size, dim=dim: valid({dim: size}), shape[dim])
    return result


def _smallest(valid: Any, upper: int) -> int:
    """The least size in ``[1, upper]`` for which ``valid`` holds (``upper`` is known valid)."""
    if valid(1):
        return 1
    low, high = 1, min(2, upper)  # low is invalid, high is the next candidate
    while high < upper and not valid(high):
        low, high = high, min(high * 2, upper)
    while high - low > 1:
        middle = (low + high) // 2
        if valid(middle):
            high = middle
        else:
            low = middle
    return high
