"""The torch modules that containers compile to. Imported only by the backend (it imports torch).

Forward passes are straight calls: a plain ``nn.Sequential`` unless an item uses ``id`` / ``from``, in which
case a precomputed routing plan (slot indices, no dictionaries) carries the saved outputs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from archspec.ops.containers import LIST_INPUT, PREVIOUS


def route(module: nn.Module, sources: tuple[str, ...] | None, identifier: str | None) -> nn.Module:
    """Mark a child for :class:`RoutedSequential`: it reads ``sources`` and/or is saved as ``identifier``."""
    module._archspec_route = (sources, identifier)
    return module


def sequential(named_children: Sequence[tuple[str, Any]]) -> nn.Module:
    """A plain ``nn.Sequential`` unless some child was given routing (``id`` / ``from``)."""
    if any(getattr(module, "_archspec_route", None) for _, module in named_children):
        # Routing needs saved outputs; everything else stays a plain nn.Sequential.
        return RoutedSequential(named_children)
    return nn.Sequential(OrderedDict(named_children))


class RoutedSequential(nn.Module):
    """Runs children in order; a child may read saved outputs of earlier children (``from``) instead of
    the previous one. Routing arrives as ``_archspec_route = (sources, id)`` on each child module."""

    def __init__(self, named_children: Sequence[tuple[str, Any]]):
        super().__init__()
        slots: dict[str, int] = {LIST_INPUT: 0}
        plan: list[tuple[tuple[int, ...] | None, int | None]] = []
        for name, module in named_children:
            self.add_module(name, module)
            sources, identifier = getattr(module, "_archspec_route", None) or ((), None)
            reads = tuple(-1 if s == PREVIOUS else slots[s] for s in sources) if sources else None
            if identifier is not None:
                slots[identifier] = len(slots)
            plan.append((reads, slots[identifier] if identifier is not None else None))
        self._steps = [(module, reads, keep) for module, (reads, keep) in zip(self.children(), plan, strict=True)]
        self._slot_count = len(slots)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        saved: list[Any] = [x] + [None] * (self._slot_count - 1)
        for module, reads, keep in self._steps:
            x = module(x) if reads is None else module(*[x if slot < 0 else saved[slot] for slot in reads])
            if keep is not None:
                saved[keep] = x
        return x


class _Branches(nn.Module):
    """Branches registered in spec order; with several inputs, branch k gets input k."""

    def __init__(self, named_children: Sequence[tuple[str, Any]]):
        super().__init__()
        for name, module in named_children:
            self.add_module(name, module)
        self._branches = list(self.children())

    def outputs(self, inputs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        if not self._branches:
            return list(inputs)
        if len(inputs) == 1:
            x = inputs[0]
            return [branch(x) for branch in self._branches]
        return [branch(x) for branch, x in zip(self._branches, inputs, strict=True)]


class Concat(_Branches):
    def __init__(self, named_children: Sequence[tuple[str, Any]], dim: int):
        super().__init__(named_children)
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.outputs(inputs), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Add(_Branches):
    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        outputs = self.outputs(inputs)
        total = outputs[0]
        for other in outputs[1:]:
            total = total + other
        return total


class Multiply(_Branches):
    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        outputs = self.outputs(inputs)
        product = outputs[0]
        for other in outputs[1:]:
            product = product * other
        return product


class Head(nn.Sequential):
    """Computes a side output from its input and passes the input on. The network collects the side
    output after the forward pass; a ``train_only`` head does nothing in eval mode."""

    def __init__(self, named_children: Sequence[tuple[str, Any]], train_only: bool):
        super().__init__(OrderedDict(named_children))
        self.train_only = train_only
        self.side_output: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or not self.train_only:
            self.side_output = super().forward(x)
        return x

    def extra_repr(self) -> str:
        return "train_only=True" if self.train_only else ""


class CompiledNetwork(RoutedSequential):
    """A network compiled by archspec (``archspec_name`` is the spec's name).

    ``forward`` returns the main output as a tensor when no head produced an output (always, for networks
    without heads; in eval mode, for train-only heads). Otherwise it returns a dict
    ``{"output": main, "<head path>": side, ...}`` with the heads in spec order.
    """

    def __init__(self, named_children: Sequence[tuple[str, Any]], name: str):
        super().__init__(named_children)
        self.archspec_name = name
        self._heads = [(path, module) for path, module in self.named_modules() if isinstance(module, Head)]

    def forward(self, x: torch.Tensor) -> Any:
        output = super().forward(x)
        if not self._heads:
            return output
        outputs = {"output": output}  # archspec.ir.graph.MAIN_OUTPUT (this file is copied into generated code)
        for path, head in self._heads:
            if head.side_output is not None:
                outputs[path] = head.side_output
                head.side_output = None
        return outputs if len(outputs) > 1 else output
