"""The data flow of one compiled module whose children come from several layer lists (inlined containers,
``id`` / ``from`` routes), as plain data: what :class:`archspec.backend.modules.RoutedSequential` runs.

The module runs its children in registration order. A child reads the previous child's output unless its
route says otherwise (slots hold saved outputs; slot 0 the module's input), and before a child (or at the end)
the module may run merge steps over saved outputs: the ``add`` of an inlined residual, the ``concat`` of an
inlined dense layer. Parameter items (ops that hold a tensor, not a module: ``class_token``) are steps too: the
tensor is registered on the module under the item's name, and the step applies it (prepend, add, scale) to the
value it reads, looking the parameter up by that name when it runs. No intermediate tensor is named by a string
at run time, and no step is interpreted from the spec.

Torch-free: the code generator writes the same plan into standalone source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Merge steps (archspec.ops.containers: Container.flow_step), as the module's forward switches on them.
STEP_CODES = {"concat": 0, "add": 1, "multiply": 2, "pass": 3}  # pass: the output is an earlier value
# Steps of parameter items (archspec.ops.base.LearnedTensor.apply), by the same numbering.
TENSOR_STEP_CODES = {"prepend": 4, "add": 5, "scale": 6}
# A part of a split input (an inlined channel_split): part k of torch.chunk(x, count, dim) feeds branch k.
PART_STEP_CODE = 7


@dataclass(eq=False)
class Value:
    """A tensor the module computes: its input, a child's output or a merge step's result."""

    keep: int = -1  # the slot it is saved in, set once something reads it after a later child ran


@dataclass
class Flow:
    """Collects a module's children and steps in run order, deciding which values need a slot."""

    # Modules and parameter items' tensors, in spec order (the module registers the tensors as parameters).
    named_children: list[tuple[str, Any]] = field(default_factory=list)
    # (child name or None for a step, step code, dim, reads, value, the parameter a step applies or "", the
    # [index, count] of a part step or [])
    entries: list[tuple[str | None, int, int, list[int], Value, str, list[int]]] = field(default_factory=list)
    slot_count: int = 1
    input: Value = field(default_factory=lambda: Value(keep=0))
    last: Value | None = None  # what the running tensor holds (the last child's or step's result)

    def __post_init__(self) -> None:
        self.last = self.input

    def read(self, value: Value) -> int:
        """The slot to read ``value`` from, or -1 for the running tensor."""
        if value is self.last:
            return -1
        if value.keep < 0:
            value.keep, self.slot_count = self.slot_count, self.slot_count + 1
        return value.keep

    def child(self, name: str, module: Any, inputs: list[Value]) -> Value:
        reads = [self.read(value) for value in inputs]
        self.named_children.append((name, module))
        return self.produce(name, 0, 0, reads)

    def merge(self, step: str, dim: int, inputs: list[Value]) -> Value:
        return self.produce(None, STEP_CODES[step], dim, [self.read(value) for value in inputs])

    def part(self, dim: int, index: int, count: int, input: Value) -> Value:
        """Part ``index`` of ``count`` equal parts of ``input`` along ``dim`` (a split's branch input)."""
        return self.produce(None, PART_STEP_CODE, dim, [self.read(input)], part=[index, count])

    def tensor(self, name: str, tensor: Any, apply: str, inputs: list[Value]) -> Value:
        """A parameter item: its tensor is registered under ``name``, and a step applies it to ``inputs[0]``."""
        reads = [self.read(inputs[0])]
        self.named_children.append((name, tensor))
        return self.produce(None, TENSOR_STEP_CODES[apply], 1, reads, name)

    def produce(
        self,
        name: str | None,
        code: int,
        dim: int,
        reads: list[int],
        parameter: str = "",
        part: list[int] | None = None,
    ) -> Value:
        value = Value()
        self.entries.append((name, code, dim, reads, value, parameter, part or []))
        self.last = value
        return value

    def program(self, output: Value) -> dict[str, Any]:
        """The keyword arguments of ``RoutedSequential`` (empty where a plain ``nn.Sequential`` does)."""
        if output is not self.last:
            self.merge("pass", 0, [output])
        routes: dict[str, tuple[list[int], int]] = {}
        steps: dict[str, list[tuple[int, int, list[int], int, str, list[int]]]] = {}
        pending: list[tuple[int, int, list[int], int, str, list[int]]] = []
        for name, code, dim, reads, value, parameter, part in self.entries:
            if name is None:
                pending.append((code, dim, reads, value.keep, parameter, part))
                continue
            if pending:
                steps[name], pending = pending, []
            if reads != [-1] or value.keep >= 0:
                routes[name] = (reads, value.keep)
        if not (routes or steps or pending):
            return {}
        return {"routes": routes, "steps": steps, "final_steps": pending, "slot_count": self.slot_count}
