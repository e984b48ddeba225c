"""The smallest input each spatial dimension accepts, found by re-running the shape rules on the IR."""

from __future__ import annotations

from typing import Any

from archspec.analysis.receptive_field import EXACT, Field
from archspec.errors import OpError
from archspec.ir.graph import Network, Node
from archspec.ops.base import MAX_SIZE, Context, Shape, Tokens
from archspec.ops.containers import Inputs


def output_for(network: Network, shape: Shape, ctx: Context) -> Shape | None:
    """The network's output for another input shape, or None when some layer would reject it."""

    failed = False  # any layer that rejects its input fails the network, even if `from` drops its output

    def visit(node: Node, x: Any) -> Any:
        nonlocal failed
        if x is None or (isinstance(x, Inputs) and None in x):
            return None
        if node.train_only and not ctx.train:
            return x  # a train-only head does not run in eval mode: the main path goes on from its input
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
    No probe is larger than the given size, so a layer that accepts sizes only up to it — a ``pos_embedding``
    with a ``length`` accepts one number of positions — still gives the exact least size (ViT-B/16: 224).
    """
    if isinstance(network.input, Tokens):
        return [_shortest(network, ctx, 1)]
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


def least_input(network: Network, ctx: Context, at_least: list[int]) -> list[int] | None:
    """The smallest input in a second mode (training), given ``at_least``: one below which no input is valid
    in it — the eval-mode smallest input, since training only adds conditions (train-only heads run,
    batchnorm needs more than one value per channel). None if no input up to the largest size is valid.

    Where the network's input is valid in this mode, each spatial size is searched with the others kept, as
    :func:`min_input` does; where it is not (a train-only head needs a larger input), the answer is the
    smallest input whose every spatial size is raised to a common least size. Each search starts at
    ``at_least`` and doubles, which also keeps sizes that must divide by a power of two (U-Net's skips) on
    their grid. It costs one pass where the eval answer is valid in training too, one more per spatial dim
    where it is not as a whole (batchnorm at 1x1 and batch 1) but is dim by dim.
    """
    if isinstance(network.input, Tokens):
        shortest = _shortest(network, ctx, at_least[0])
        return None if shortest is None else [shortest]
    shape = list(network.input)
    if len(shape) < 2:
        return shape if output_for(network, tuple(shape), ctx) is not None else None
    known: dict[tuple[int, ...], bool] = {}

    def valid(probe: list[int]) -> bool:
        key = tuple(probe)
        if key not in known:
            known[key] = output_for(network, key, ctx) is not None
        return known[key]

    # Sizes are taken to be valid from some least one on (as in min_input): if the lower bound is valid as a
    # whole, it is the answer in every dim — one pass, the usual case.
    if valid(at_least):
        return list(at_least)
    dims = range(1, len(shape))
    alone = [valid([*shape[:dim], at_least[dim], *shape[dim + 1 :]]) for dim in dims]
    if any(alone) or valid(shape):
        result = list(shape)
        for dim in dims:
            result[dim] = _doubling(
                lambda size, dim=dim: valid([*shape[:dim], size, *shape[dim + 1 :]]), at_least[dim], shape[dim]
            )
        return result
    least = _doubling(
        lambda size: valid([shape[0], *(max(s, size) for s in shape[1:])]),
        max(at_least[1:]),
        MAX_SIZE,
        upper_valid=False,
    )
    return None if least is None else [shape[0], *(max(s, least) for s in shape[1:])]


def _shortest(network: Network, ctx: Context, low: int) -> Any:
    """The fewest tokens from ``low`` up to the network's own length that the network accepts (None: none does).

    A token input has no spatial dims: its one size, the sequence length, is what the search varies. Nothing
    is probed above the given length, so a ``pos_embedding`` with a ``length`` (one length only) is found."""
    vocab, length = network.input.vocab, network.input[0]
    return _doubling(lambda size: output_for(network, Tokens(size, vocab), ctx) is not None, low, length, False)


def _doubling(valid: Any, low: int, upper: int, upper_valid: bool = True) -> Any:
    """The least size from ``low`` to ``upper`` for which ``valid`` holds, found by doubling from ``low``
    and halving the bracket; ``upper`` is known valid unless ``upper_valid`` is false (then None if it is not).

    >>> _doubling(lambda size: size >= 299, 31, 10**6), _doubling(lambda size: size % 16 == 0, 16, 128)
    (299, 16)
    >>> _doubling(lambda size: size >= 32 and size % 16 == 0, 16, 128), _doubling(lambda size: False, 3, 9, False)
    (32, None)
    """
    low = max(1, min(low, upper))
    if valid(low):
        return low
    high = low
    while True:
        high = min(high * 2, upper)
        if high == upper:
            if upper_valid or valid(upper):
                break
            return None
        if valid(high):
            break
        low = high
    return _bisect(valid, low, high)


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
    return _bisect(valid, low, high)


def _bisect(valid: Any, low: int, high: int) -> int:
    """The least valid size in ``(low, high]``, where ``low`` is invalid and ``high`` valid (validity grows
    with size between them).

    >>> _bisect(lambda size: size >= 37, 1, 1000)
    37
    """
    while high - low > 1:
        middle = (low + high) // 2
        if valid(middle):
            high = middle
        else:
            low = middle
    return high
