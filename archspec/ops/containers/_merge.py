"""Shared rules of the containers that run branches on the same input and merge their outputs (``concat``,
``add``, ``multiply``): branch inputs, the two-or-more rule, and torch's broadcasting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.errors import OpError
from archspec.ops.base import Shape
from archspec.ops.containers.base import BRANCHES, Container, Inputs, Merge, Side, Visit, default_labels, listed


class Parallel(Container):
    """Runs its branches on the same input (or input k on branch k) and merges their outputs."""

    syntax = BRANCHES
    merges = True

    def branch_inputs(self, input: Shape | Inputs, count: int) -> list[Any]:
        if isinstance(input, Inputs):
            if count and len(input) != count:
                raise OpError(
                    f"{len(input)} inputs reach '{self.name}' through 'from' but it has {count} branches",
                    "give one branch per input, or no branches to merge the inputs as they are",
                    "branches",
                )
            return list(input)
        return [input] * max(count, 1)

    def merged(self, input: Shape | Inputs, child_outputs: Sequence[Shape]) -> list[Shape]:
        """The shapes it merges. Fewer than two would make it the identity — a mistake, never a design."""
        shapes = list(child_outputs) or self.branch_inputs(input, 0)
        if len(shapes) < 2:
            what = "one branch" if child_outputs else "one input"
            raise OpError(
                f"'{self.name}' merges two or more inputs, but it gets {what}",
                "give it two or more branches (e.g. 'branches: [[...], []]', where [] is the identity), "
                "or merge earlier outputs with 'from: [prev, some_id]'",
            )
        return shapes

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        inputs = self.branch_inputs(state, len(children))
        if not children:
            return merge(inputs)
        return merge([visit(child, x) for child, x in zip(children, inputs, strict=True)])


class Elementwise(Parallel):
    """Shared shape rule of ``add`` and ``multiply``: torch broadcasting of the branch outputs."""

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        return merged >= 2  # a single operand is returned as it is

    def output_shape(
        self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape], labels: Sequence[str] | None = None
    ) -> Shape:
        return broadcast(self.merged(input, child_outputs), self.name, labels)


def broadcast(shapes: Sequence[Shape], op: str, labels: Sequence[str] | None = None) -> Shape:
    """Torch's broadcasting of feature shapes of equal rank (the batch dimension always agrees).

    >>> broadcast([(64, 8, 8), (64, 1, 1)], "multiply")
    (64, 8, 8)
    """
    shown = listed(shapes, labels or default_labels(len(shapes)))
    if len({len(s) for s in shapes}) > 1:
        raise OpError(
            f"cannot {op} outputs of different ranks: {shown}",
            "give every branch the same number of dimensions (flatten all or none)",
        )
    result = []
    for position, sizes in enumerate(zip(*shapes, strict=True)):
        distinct = set(sizes) - {1}
        if len(distinct) > 1:
            what = "channels" if position == 0 else f"spatial dim {position}"
            raise OpError(
                f"cannot {op} the outputs {shown}: their {what} differ ({' vs '.join(str(s) for s in sizes)})",
                "make the shapes equal (e.g. a projection shortcut with the same out and stride) "
                "or broadcastable (size 1)",
            )
        result.append(distinct.pop() if distinct else 1)
    return tuple(result)
