"""Containers: ops that own other items. Each declares its syntax, argument model, shape rule, how a pass's
state flows through its children, and its torch module — so passes and the backend never ask which
container they are looking at.

Syntax kinds:
* ``list``: the value is a list of items (``sequential: [...]``);
* ``branches``: a mapping with ``branches`` (a list of item lists, or a mapping name → item list; an empty
  list is the identity) plus the container's own arguments (``concat``, ``add``, ``multiply``);
* ``layers``: a mapping with ``layers`` plus arguments (``head``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from archspec.errors import OpError
from archspec.ops.base import NoArgs, OpArgs, Shape, format_shape

State = TypeVar("State")
Visit = Callable[[Any, Any], Any]
Merge = Callable[[list[Any]], Any]
Side = Callable[[Any, Any], Any]


class Inputs(tuple):  # type: ignore[type-arg]
    """Several inputs reaching one item through ``from: [a, b]``: branch k (or the merge) takes input k.

    ``names`` are the ids they came from (``prev``, ``e2``), so that merge errors can name them."""

    names: tuple[str, ...]

    def __new__(cls, shapes: Any, names: Sequence[str] = ()) -> Inputs:
        inputs = super().__new__(cls, shapes)
        inputs.names = tuple(names)
        return inputs


PREVIOUS = "prev"  # in ``from``: the previous item's output
LIST_INPUT = "input"  # in ``from``: the input of the enclosing layer list
RESERVED_IDS = (PREVIOUS, LIST_INPUT)


def keep_main(main: Any, side: Any) -> Any:
    """Default for side outputs (heads): the main path continues unchanged."""
    return main


class Container:
    name: ClassVar[str]
    syntax: ClassVar[str]
    Args: ClassVar[type[OpArgs]] = NoArgs
    merges: ClassVar[bool] = False  # accepts several inputs (``from: [a, b]``)
    off_main_path: ClassVar[bool] = False  # its children compute a side output (heads)
    chains_children: ClassVar[bool] = False  # each child reads the previous child's output
    # Inlined (``inline: true``), a merge adds no module: the enclosing module merges its branches' outputs
    # itself, with this step of archspec.backend.modules (FLOW_STEPS); None for containers that do not merge.
    flow_step: ClassVar[str | None] = None

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        """Whether its module returns a new tensor that nothing else reads (see ``Op.fresh_output``), given
        which of its children do and how many tensors it merges."""
        return False

    def output_shape(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape],
                     labels: Sequence[str] | None = None) -> Shape:
        """``labels`` name the child outputs in errors (``branch body``, ``'e2'``); default ``branch k``."""
        raise NotImplementedError

    def side_output(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape]) -> Shape | None:
        """The shape of a named side output this container produces (heads), else None."""
        return None

    def keeps_positions(self, args: Any, rank: int) -> bool:
        """Whether output position i comes from position i of every branch (so fields merge as a union)."""
        return True

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        """Carry a pass's per-node state (shape, receptive field, ...) through the children."""
        raise NotImplementedError

    def build(self, modules: Any, args: Any, named_children: Sequence[tuple[str, Any]],
              program: dict[str, Any] | None = None) -> Any:
        """The container's module, from ``modules`` — :mod:`archspec.backend.modules`, or the code
        generator's stand-in that records the call as source text. ``program``: the data flow of children
        that read other outputs than the previous one (see archspec.backend.flow); merges get none."""
        raise NotImplementedError

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


class Sequential(Container):
    """Runs its items one after another (torch.nn.Sequential); items may use ``id`` / ``from``."""

    name, syntax = "sequential", "list"
    chains_children = True

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        return bool(children_fresh) and children_fresh[-1]

    def output_shape(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape],
                     labels: Sequence[str] | None = None) -> Shape:
        return child_outputs[-1] if child_outputs else input  # type: ignore[return-value]

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        saved: dict[str, Any] = {LIST_INPUT: state}
        for child in children:
            if child.sources:
                state = Inputs(state if source == PREVIOUS else saved[source] for source in child.sources)
                if len(state) == 1:
                    state = state[0]
            state = visit(child, state)
            if child.id:
                saved[child.id] = state
        return state

    def build(self, modules: Any, args: Any, named_children: Sequence[tuple[str, Any]],
              program: dict[str, Any] | None = None) -> Any:
        return modules.sequential(named_children, **(program or {}))


class Parallel(Container):
    """Shared rules of the containers that run branches on the same input and merge their outputs."""

    syntax = "branches"
    merges = True

    def branch_inputs(self, input: Shape | Inputs, count: int) -> list[Any]:
        if isinstance(input, Inputs):
            if count and len(input) != count:
                raise OpError(f"{len(input)} inputs reach '{self.name}' through 'from' but it has {count} "
                              "branches", "give one branch per input, or no branches to merge the inputs as "
                              "they are", "branches")
            return list(input)
        return [input] * max(count, 1)

    def merged(self, input: Shape | Inputs, child_outputs: Sequence[Shape]) -> list[Shape]:
        """The shapes it merges. Fewer than two would make it the identity — a mistake, never a design."""
        shapes = list(child_outputs) or self.branch_inputs(input, 0)
        if len(shapes) < 2:
            what = "one branch" if child_outputs else "one input"
            raise OpError(f"'{self.name}' merges two or more inputs, but it gets {what}",
                          "give it two or more branches (e.g. 'branches: [[...], []]', where [] is the identity), "
                          "or merge earlier outputs with 'from: [prev, some_id]'")
        return shapes

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        inputs = self.branch_inputs(state, len(children))
        if not children:
            return merge(inputs)
        return merge([visit(child, x) for child, x in zip(children, inputs, strict=True)])


class ConcatArgs(OpArgs):
    dim: int = 1


class Concat(Parallel):
    """Concatenates its branches' outputs along ``dim`` (torch numbering; 1 = channels, the default)."""

    name, Args = "concat", ConcatArgs
    flow_step = "concat"

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        return True  # torch.cat always allocates its result

    def keeps_positions(self, args: ConcatArgs, rank: int) -> bool:
        return args.dim % (rank + 1) == 1  # along a spatial dim, later branches land at shifted positions

    def output_shape(self, args: ConcatArgs, input: Shape | Inputs, child_outputs: Sequence[Shape],
                     labels: Sequence[str] | None = None) -> Shape:
        shapes = self.merged(input, child_outputs)
        labels = labels or default_labels(len(shapes))
        rank = len(shapes[0]) + 1
        dim = args.dim + rank if args.dim < 0 else args.dim
        if not 1 <= dim < rank:
            raise OpError(f"dim {args.dim} is not a feature dimension of {format_shape(shapes[0])}",
                          f"use dim 1 (channels), or a dim from 1 to {rank - 1}", "dim")
        for index, shape in enumerate(shapes[1:], start=1):
            if len(shape) != len(shapes[0]) or any(a != b for i, (a, b) in enumerate(zip(shape, shapes[0],
                                                                                     strict=True)) if i != dim - 1):
                raise OpError(f"cannot concatenate along dim {dim}: the outputs are {_listed(shapes, labels)}",
                              f"make every size except dim {dim} agree: {labels[0]} gives "
                              f"{_except(shapes[0], dim - 1)}, {labels[index]} gives {_except(shape, dim - 1)} "
                              "(check their strides and padding)")
        merged = list(shapes[0])
        merged[dim - 1] = sum(shape[dim - 1] for shape in shapes)
        return tuple(merged)

    def build(self, modules: Any, args: ConcatArgs, named_children: Sequence[tuple[str, Any]]) -> Any:
        return modules.Concat(named_children, args.dim)


class Elementwise(Parallel):
    """Shared shape rule of ``add`` and ``multiply``: torch broadcasting of the branch outputs."""

    operation: ClassVar[str]

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        return merged >= 2  # a single operand is returned as it is

    def output_shape(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape],
                     labels: Sequence[str] | None = None) -> Shape:
        return broadcast(self.merged(input, child_outputs), self.name, labels)

    def build(self, modules: Any, args: Any, named_children: Sequence[tuple[str, Any]]) -> Any:
        return getattr(modules, self.operation)(named_children)


class Add(Elementwise):
    """Sums its branches' outputs (residual connections); shapes broadcast as in torch."""

    name, operation = "add", "Add"
    flow_step = "add"


class Multiply(Elementwise):
    """Multiplies its branches' outputs (gating, squeeze-and-excitation); shapes broadcast as in torch."""

    name, operation = "multiply", "Multiply"
    flow_step = "multiply"


class HeadArgs(OpArgs):
    train_only: bool = False


class Head(Container):
    """A named side output; the main path continues from its input unchanged (GoogLeNet's auxiliary heads)."""

    name, syntax, Args = "head", "layers", HeadArgs
    off_main_path = True
    chains_children = True  # its output is its input, passed on: never fresh

    def output_shape(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape],
                     labels: Sequence[str] | None = None) -> Shape:
        return input  # type: ignore[return-value]

    def side_output(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape]) -> Shape | None:
        return child_outputs[-1] if child_outputs else input  # type: ignore[return-value]

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        branch = state
        for child in children:
            branch = visit(child, branch)
        return side(state, branch)

    def build(self, modules: Any, args: HeadArgs, named_children: Sequence[tuple[str, Any]],
              program: dict[str, Any] | None = None) -> Any:
        if program:  # a head runs its children in a row (Head is an nn.Sequential)
            raise NotImplementedError("a head's items read only the previous item's output: 'id' / 'from' and "
                                      "inlined merges inside a head cannot be compiled")
        return modules.Head(named_children, args.train_only)


def broadcast(shapes: Sequence[Shape], op: str, labels: Sequence[str] | None = None) -> Shape:
    """Torch's broadcasting of feature shapes of equal rank (the batch dimension always agrees).

    >>> broadcast([(64, 8, 8), (64, 1, 1)], "multiply")
    (64, 8, 8)
    """
    listed = _listed(shapes, labels or default_labels(len(shapes)))
    if len({len(s) for s in shapes}) > 1:
        raise OpError(f"cannot {op} outputs of different ranks: {listed}",
                      "give every branch the same number of dimensions (flatten all or none)")
    result = []
    for position, sizes in enumerate(zip(*shapes, strict=True)):
        distinct = set(sizes) - {1}
        if len(distinct) > 1:
            what = "channels" if position == 0 else f"spatial dim {position}"
            raise OpError(f"cannot {op} the outputs {listed}: their {what} differ "
                          f"({' vs '.join(str(s) for s in sizes)})",
                          "make the shapes equal (e.g. a projection shortcut with the same out and stride) "
                          "or broadcastable (size 1)")
        result.append(distinct.pop() if distinct else 1)
    return tuple(result)


def default_labels(count: int) -> list[str]:
    return [f"branch {index}" for index in range(count)]


def _listed(shapes: Sequence[Shape], labels: Sequence[str]) -> str:
    """``16×32×32 (branch 0) and 16×30×30 (branch 1)``."""
    return " and ".join(f"{format_shape(s)} ({label})" for s, label in zip(shapes, labels, strict=True))


def _except(shape: Shape, skip: int) -> str:
    return "×".join("*" if i == skip else str(s) for i, s in enumerate(shape))


CONTAINERS: dict[str, Container] = {c.name: c for c in (Sequential(), Concat(), Add(), Multiply(), Head())}
SEQUENTIAL = CONTAINERS["sequential"]
