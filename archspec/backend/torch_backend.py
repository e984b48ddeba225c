"""Compile the IR into a ``torch.nn.Module`` whose submodule paths are the IR's paths.

Containers become ``nn.Sequential`` (and the other container modules), leaves the modules their ops build,
so a forward pass is a straight sequence of module calls with no interpretation of the spec.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from archspec.ir.graph import Network, Node


@cache
def network_class() -> type:
    """The root module type: an ``nn.Sequential`` that remembers the spec's name (defined once torch loads)."""
    from torch import nn

    class CompiledNetwork(nn.Sequential):
        """A network compiled by archspec; ``archspec_name`` is the spec's name."""

        archspec_name: str = ""

    return CompiledNetwork


def compile_network(network: Network) -> Any:
    from torch import nn

    model = network_class()()
    for child in network.root.children:
        model.add_module(child.name, _build(nn, child))
    model.archspec_name = network.name
    return model


def _build(nn: Any, node: Node) -> Any:
    if node.is_leaf:
        return node.op.build(nn, node.args, node.input)
    return node.container.build(nn, [(child.name, _build(nn, child)) for child in node.children])
