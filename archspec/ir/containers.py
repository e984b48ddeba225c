"""Containers: nodes that own children. Each declares how shapes, receptive fields and torch modules compose,
so passes and the backend never ask which container they are looking at."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from archspec.ops.base import Shape

State = TypeVar("State")


class Container:
    name: ClassVar[str]

    def propagate(self, state: State, children: Sequence[Any], visit: Callable[[Any, State], State],
                  merge: Callable[[list[State]], State]) -> State:
        """Carry a pass's per-node state (shape, receptive field, ...) through the children."""
        raise NotImplementedError

    def output_shape(self, input: Shape, child_outputs: Sequence[Shape]) -> Shape:
        raise NotImplementedError

    def build(self, nn: Any, named_children: Sequence[tuple[str, Any]]) -> Any:
        raise NotImplementedError


class Sequential(Container):
    """Children run one after another; the output is the last child's (the input when there are none)."""

    name = "sequential"

    def propagate(self, state: State, children: Sequence[Any], visit: Callable[[Any, State], State],
                  merge: Callable[[list[State]], State]) -> State:
        for child in children:
            state = visit(child, state)
        return state

    def output_shape(self, input: Shape, child_outputs: Sequence[Shape]) -> Shape:
        return child_outputs[-1] if child_outputs else input

    def build(self, nn: Any, named_children: Sequence[tuple[str, Any]]) -> Any:
        from collections import OrderedDict

        return nn.Sequential(OrderedDict(named_children))


SEQUENTIAL = Sequential()
