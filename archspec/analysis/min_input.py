"""The smallest input each spatial dimension accepts, found by re-running the shape rules on the IR."""

from __future__ import annotations

from typing import Any

from archspec.analysis.receptive_field import EXACT, Field
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
            except (OpError, ValueError, IndexError, ArithmeticError):
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


def min_input(network: Network, ctx: Context, fields: dict[str, Field | None] | None = None) -> list[int]:
    """``[C, *spatial]`` where each spatial size is the smallest valid one with the others kept as given.

    Validity is monotone in each size for convolutions, pools and merges of equally strided branches, so a
    galloping search finds the edge in a few passes over the network. The search starts from a guess: a
    window chain of fields R (size) and P (padding) needs at least R - 2P positions, so the largest R - 2P of
    the ``fields`` (the receptive-field pass's) is usually the answer, confirmed in two passes instead of the
    ~2·log2(size) a search from 1 takes (35 passes for 300,000 positions). Square inputs are searched for all
    dimensions at once; the result is kept only if shrinking any single dimension by one breaks the network.
    """
    shape = list(network.input)
    if len(shape) < 2:
        return shape
    known: dict[tuple[int, ...], bool] = {}  # the joint search and the single-dimension ones share probes

    def valid(sizes: dict[int, int]) -> bool:
        probe = list(shape)
        for dim, size in sizes.items():
            probe[dim] = size
        key = tuple(probe)
        if key not in known:
            known[key] = output_for(network, key, ctx) is not None
        return known[key]

    dims = range(1, len(shape))
    guesses = _guesses(fields or {}, len(dims))
    if len(set(shape[1:])) == 1:
        joint = _smallest(lambda size: valid(dict.fromkeys(dims, size)), shape[1], max(guesses))
        if all(joint == 1 or not valid({dim: joint - 1}) for dim in dims):
            return [shape[0]] + [joint] * len(dims)
    result = list(shape)
    for dim in dims:
        result[dim] = _smallest(lambda size, dim=dim: valid({dim: size}), shape[dim], guesses[dim - 1])
    return result


def _guesses(fields: dict[str, Field | None], spatial_dims: int) -> list[int]:
    """Per spatial dim, the largest ``R - 2P`` of the exact fields (1 where there is none)."""
    guesses = [1] * spatial_dims
    distinct = {id(field): field for field in fields.values()}  # layers that keep the field share one object
    for field in distinct.values():
        if field is not None and field.kind == EXACT and field.dims == spatial_dims:
            for dim in range(spatial_dims):
                guesses[dim] = max(guesses[dim], field.size[dim] - 2 * field.padding[dim])
    return guesses


def _smallest(valid: Any, upper: int, guess: int = 1) -> int:
    """The least size in ``[1, upper]`` for which ``valid`` holds (``upper`` is known valid): gallop from
    ``guess`` to bracket the edge between an invalid ``low`` and a valid ``high``, then halve the bracket.

    >>> _smallest(lambda size: size >= 37, 1000, guess=40), _smallest(lambda size: size >= 37, 1000)
    (37, 37)
    >>> _smallest(lambda size: True, 8, guess=5)
    1
    """
    guess = min(max(guess, 1), upper)
    if valid(guess):
        high, step = guess, 1
        while True:
            low = high - step
            if low < 1:
                if valid(1):
                    return 1
                low = 1
                break
            if not valid(low):
                break
            high, step = low, step * 2
    else:
        low, step = guess, 1
        while True:
            high = min(low + step, upper)
            if high == upper or valid(high):
                break
            low, step = high, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if valid(middle):
            high = middle
        else:
            low = middle
    return high
