"""Compile the IR into a ``torch.nn.Module`` whose submodule paths are the IR's paths.

Containers become ``nn.Sequential`` and the modules in :mod:`archspec.backend.modules`, leaves the modules
their ops build, so a forward pass is a straight sequence of module calls with no interpretation of the spec.
"""

from __future__ import annotations

from typing import Any

from archspec.ir.graph import Network, Node


def compile_network(network: Network) -> Any:
    from torch import nn

    from archspec.backend.modules import CompiledNetwork

    return CompiledNetwork([(child.name, _build(nn, child)) for child in network.root.children], network.name)


def _build(nn: Any, node: Node) -> Any:
    if node.is_leaf:
        module = node.op.build(nn, node.args, node.input)
    else:
        module = node.container.build(nn, node.args, [(child.name, _build(nn, child)) for child in node.children])
    if node.sources or node.id:
        module._archspec_route = (node.sources, node.id)
    return module
