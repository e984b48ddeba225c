"""The IR: a tree of modules whose leaves are primitive ops with validated arguments and inferred shapes.

A node's ``path`` is exactly the dotted submodule name in the compiled ``nn.Module``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from archspec.errors import Location, SpecPath
from archspec.ops.base import Op, Shape
from archspec.ops.containers import Container

# The name of the network's main output among its outputs (the report's ``outputs``, the forward dict); heads are
# named by their paths, so no head may have this one.
MAIN_OUTPUT = "output"


@dataclass(slots=True)  # a network may hold a million of them
class Node:
    """One module of the IR: a leaf (an op with validated arguments) or a container of other nodes."""

    name: str
    path: str
    kind: str  # what the user wrote: an op, block or container name
    input: Shape
    output: Shape
    spec_path: SpecPath
    location: Location
    op: Op | None = None  # set for leaves
    args: Any = None
    container: Container | None = None  # set for containers
    children: Sequence[Node] = ()  # leaves share the empty tuple (a network may have a million leaves)
    id: str | None = None  # `id`: later items may read this node's output
    sources: tuple[str, ...] | None = None  # `from`: ids it reads ("prev", "input" or an id) instead of prev
    train_only: bool = False  # inside a head that runs only in training
    in_head: bool = False  # inside a head: not on the main path
    side_output: Shape | None = None  # a head's output shape
    # A train-only head that cannot run at this input (in eval mode it never runs): the input its layers are
    # built for, the smallest it accepts. None for every other node.
    built_for: Shape | None = None
    # Added by no level of module paths (``inline``): its children register on the enclosing module, and its
    # path (``prefix~N``) names no submodule; the report and the backend look through it.
    inline: bool = False
    module_class: str | None = None  # a block's class name (its module is an instance of that class)

    def renamed(self, name: str, path: str) -> Node:
        """This node under another name and path, sharing everything else (children included, until replaced)."""
        return Node(
            name,
            path,
            self.kind,
            self.input,
            self.output,
            self.spec_path,
            self.location,
            self.op,
            self.args,
            self.container,
            self.children,
            self.id,
            self.sources,
            self.train_only,
            self.in_head,
            self.side_output,
            self.built_for,
            self.inline,
            self.module_class,
        )

    @property
    def is_leaf(self) -> bool:
        return self.op is not None

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1 if self.path else 0

    def walk(self) -> Iterator[Node]:
        """This node and everything below it, depth-first in registration order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def leaves(self) -> Iterator[Node]:
        return (node for node in self.walk() if node.is_leaf)


@dataclass
class Network:
    """The expanded spec: the root container (path ``""``) plus what the analysis needs to know."""

    name: str
    input: Shape
    root: Node
    doc: str | None = None
    file: str = "<string>"
    scale: str | None = None  # the spec's scale in effect, if one was chosen

    @property
    def output(self) -> Shape:
        return self.root.output

    def modules(self) -> Iterator[Node]:
        """Every submodule (the root excluded), depth-first."""
        walker = self.root.walk()
        next(walker)
        return walker
