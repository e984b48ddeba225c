"""Layout ops: ``permute``, ``transpose``, ``reshape``, ``unflatten`` — the same elements in another shape. No
parameters, no MACs (FlopCounterMode counts no view or copy).

Conventions (issue 11, "Shapes"): dims are numbered as torch numbers them, batch included (0 is the batch, 1
the channels of ``[C, *spatial]``; negative counts from the end), and the batch always stays dim 0. After a
layout op a tensor is whatever it is (``[H, W, C]``, ``[L, D]``): each op below takes any layout of 1 to 4
feature dims. For the receptive field each declares a :class:`~archspec.ops.base.Rearrange`: which input dim
every output dim is, so that a spatial dim moved elsewhere keeps its field and one merged with another (a
``reshape`` of ``H, W`` into ``H·W``) is reported "not tracked".
"""

from __future__ import annotations

from math import prod
from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import MAX_SIZE, Context, Example, Op, OpArgs, Rearrange, RFStep, Shape, format_shape
from archspec.ops.registry import register

Size = Annotated[int, Field(ge=-1, le=MAX_SIZE)]  # a size, or -1 for the one inferred from the others


def feature_dim(dim: int, x: Shape, argument: str = "dim") -> int:
    """``dim`` in torch numbering (batch 0, negative from the end) as a 0-based index into the feature shape.

    >>> feature_dim(1, (3, 4, 5)), feature_dim(-1, (3, 4, 5))
    (0, 2)
    """
    rank = len(x) + 1
    if not -rank < dim < rank or dim == 0:
        raise OpError(
            f"{argument} {dim} is not a feature dimension of the input {format_shape(x)} ({rank} dims with the "
            "batch, which is dim 0 and stays there)",
            f"use a dim from 1 to {rank - 1} (1: channels), or -1 for the last",
            argument,
        )
    return dim % rank - 1


def dim_sources(x: Shape, y: Shape) -> tuple[int | None, ...]:
    """For a reshape of ``x`` into ``y`` (row-major, as torch's view): per output dim, the input dim it is — the
    same size starting at the same flat offset, so every index reads the same elements — or None.

    >>> dim_sources((6, 4, 5), (2, 3, 4, 5)), dim_sources((3, 4, 5), (3, 20)), dim_sources((3, 1, 5), (3, 5, 1))
    ((None, None, 1, 2), (0, None), (0, 2, None))
    """
    sources: list[int | None] = []
    used: set[int] = set()
    for k, size in enumerate(y):
        before = prod(y[:k])
        match = next(
            (j for j in range(len(x)) if j not in used and x[j] == size and prod(x[:j]) == before),
            None,
        )
        if match is not None:
            used.add(match)
        sources.append(match)
    return tuple(sources)


def resolve_sizes(sizes: list[int], total: int, what: str, x: Shape, argument: str) -> tuple[int, ...]:
    """``sizes`` with its one ``-1`` inferred so that they hold ``total`` elements, as torch's view does."""
    unknown = [i for i, size in enumerate(sizes) if size == -1]
    if len(unknown) > 1:
        raise OpError(f"'{argument}' {sizes} has more than one -1", "give every size but one", argument)
    if any(size == 0 for size in sizes):
        raise OpError(f"'{argument}' {sizes} has a size 0", "give sizes >= 1 (or one -1)", argument)
    known = prod(size for size in sizes if size != -1)
    if unknown:
        if total % known:
            raise OpError(
                f"cannot {what} {format_shape(x)} into {sizes}: {total:,} elements are not a multiple of {known:,}",
                f"give sizes whose product divides {total:,}",
                argument,
            )
        sizes = [total // known if size == -1 else size for size in sizes]
    elif known != total:
        raise OpError(
            f"cannot {what} {format_shape(x)} ({total:,} elements) into {format_shape(tuple(sizes))} "
            f"({known:,} elements)",
            f"give sizes whose product is {total:,}, or -1 for one of them",
            argument,
        )
    return tuple(sizes)


class PermuteArgs(OpArgs):
    dims: list[int]  # torch numbering, batch included: [0, 2, 3, 1] for channels last


@register
class Permute(Op):
    """Reorders the dims (``x.permute(*dims)``, torch numbering with the batch: dims[0] must be 0)."""

    name = "permute"
    Args = PermuteArgs
    examples = [
        Example({"dims": [0, 1]}, (7,)),
        Example({"dims": [0, 2, 1]}, (3, 8), "1-D: [C, L] → [L, C]"),
        Example({"dims": [0, 2, 3, 1]}, (4, 5, 6), "2-D channels last, as ConvNeXt: [C, H, W] → [H, W, C]"),
        Example({"dims": [0, 3, 1, 2]}, (5, 6, 4), "back: [H, W, C] → [C, H, W]"),
        Example({"dims": [0, -1, 1, 2, 3]}, (2, 3, 4, 5), "3-D, a negative dim"),
    ]

    def output_shape(self, args: PermuteArgs, x: Shape, ctx: Context) -> Shape:
        order = _order(args.dims, x)
        return tuple(x[d - 1] for d in order[1:])

    def receptive_field(self, args: PermuteArgs, x: Shape, y: Shape) -> RFStep:
        return Rearrange.moved(tuple(d - 1 for d in _order(args.dims, x)[1:]))

    def build(self, nn: Any, args: PermuteArgs, x: Shape) -> Any:
        return nn.Permute(list(_order(args.dims, x)))


def _order(dims: list[int], x: Shape) -> tuple[int, ...]:
    rank = len(x) + 1
    shown = f"the input {format_shape(x)} has {rank} dims with the batch"
    if len(dims) != rank or any(not -rank <= d < rank for d in dims):
        raise OpError(
            f"dims {dims} is not an order of {rank} dims: {shown}",
            f"list every dim 0..{rank - 1} once, batch first: e.g. {[0, *range(rank - 1, 0, -1)]}",
            "dims",
        )
    order = tuple(d % rank for d in dims)
    if sorted(order) != list(range(rank)):
        raise OpError(f"dims {dims} names a dim twice ({shown})", f"list every dim 0..{rank - 1} once", "dims")
    if order[0] != 0:
        raise OpError(
            f"dims {dims} moves the batch (dim 0) of the input {format_shape(x)}; every op keeps it first",
            f"start with 0: e.g. {[0, *(d for d in order if d != 0)]}",
            "dims",
        )
    return order


class TransposeArgs(OpArgs):
    dim0: int
    dim1: int


@register
class Transpose(Op):
    """Swaps two dims (``x.transpose(dim0, dim1)``, torch numbering; neither may be the batch)."""

    name = "transpose"
    Args = TransposeArgs
    examples = [
        Example({"dim0": 1, "dim1": -1}, (6,), "a dim with itself: the identity"),
        Example({"dim0": 1, "dim1": 2}, (3, 8), "1-D: [C, L] → [L, C]"),
        Example({"dim0": 1, "dim1": 2}, (2, 3, 4, 5), "3-D"),
        Example({"dim0": -2, "dim1": -1}, (4, 5, 6), "2-D: swap H and W"),
    ]

    def _dims(self, args: TransposeArgs, x: Shape) -> tuple[int, int]:
        return feature_dim(args.dim0, x, "dim0"), feature_dim(args.dim1, x, "dim1")

    def output_shape(self, args: TransposeArgs, x: Shape, ctx: Context) -> Shape:
        a, b = self._dims(args, x)
        y = list(x)
        y[a], y[b] = x[b], x[a]
        return tuple(y)

    def receptive_field(self, args: TransposeArgs, x: Shape, y: Shape) -> RFStep:
        a, b = self._dims(args, x)
        source = list(range(len(x)))
        source[a], source[b] = b, a
        return Rearrange.moved(tuple(source))

    def build(self, nn: Any, args: TransposeArgs, x: Shape) -> Any:
        return nn.Transpose(args.dim0, args.dim1)


class ReshapeArgs(OpArgs):
    shape: Annotated[list[Size], Field(min_length=1, max_length=4)]  # the features; the batch stays as it is


@register
class Reshape(Op):
    """The features in another shape (``x.reshape(N, *shape)``); one size may be -1, inferred."""

    name = "reshape"
    Args = ReshapeArgs
    examples = [
        Example({"shape": [3, 4]}, (12,), "features into [C, L]"),
        Example({"shape": [-1]}, (3, 8), "1-D flattened"),
        Example({"shape": [2, 3, 4, 5]}, (6, 4, 5), "channels into groups (ShuffleNet's shuffle)"),
        Example({"shape": [4, -1]}, (4, 5, 6), "2-D: [C, H, W] → [C, H·W]"),
        Example({"shape": [2, 3, 20]}, (2, 3, 4, 5), "3-D: H and W merged"),
    ]

    def output_shape(self, args: ReshapeArgs, x: Shape, ctx: Context) -> Shape:
        return resolve_sizes(list(args.shape), prod(x), "reshape", x, "shape")

    def receptive_field(self, args: ReshapeArgs, x: Shape, y: Shape) -> RFStep:
        return Rearrange.moved(dim_sources(x, y))

    def build(self, nn: Any, args: ReshapeArgs, x: Shape) -> Any:
        return nn.Reshape(list(args.shape))


class UnflattenArgs(OpArgs):
    dim: int
    sizes: Annotated[list[Size], Field(min_length=1, max_length=4)]


@register
class Unflatten(Op):
    """Splits one dim into ``sizes`` (``nn.Unflatten``, torch numbering); one size may be -1."""

    name = "unflatten"
    Args = UnflattenArgs
    examples = [
        Example({"dim": 1, "sizes": [2, 6]}, (12,)),
        Example({"dim": 2, "sizes": [4, 5]}, (3, 20), "[C, H·W] → [C, H, W]"),
        Example({"dim": 1, "sizes": [2, -1]}, (6, 4, 5), "channels into groups"),
        Example({"dim": -1, "sizes": [1, 5]}, (3, 4, 5), "a new dim of size 1"),
    ]

    def output_shape(self, args: UnflattenArgs, x: Shape, ctx: Context) -> Shape:
        d = feature_dim(args.dim, x)
        sizes = resolve_sizes(list(args.sizes), x[d], "unflatten", (x[d],), "sizes")
        y = (*x[:d], *sizes, *x[d + 1 :])
        if len(y) > 4:
            raise OpError(
                f"unflatten would give {format_shape(y)}: {len(y)} feature dims, more than 4",
                "give fewer sizes",
                "sizes",
            )
        return y

    def receptive_field(self, args: UnflattenArgs, x: Shape, y: Shape) -> RFStep:
        return Rearrange.moved(dim_sources(x, y))

    def build(self, nn: Any, args: UnflattenArgs, x: Shape) -> Any:
        return nn.Unflatten(args.dim, list(args.sizes))
