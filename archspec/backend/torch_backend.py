"""Compile the IR into a ``torch.nn.Module`` whose submodule paths are the IR's paths.

Containers become ``nn.Sequential`` and the modules in :mod:`archspec.backend.modules`, leaves the modules
their ops build, so a forward pass is a straight sequence of module calls with no interpretation of the spec.
"""

from __future__ import annotations

from typing import Any

from archspec.ir.graph import Network, Node


def compile_network(network: Network) -> Any:
    from torch import nn

    from archspec.backend import modules

    return build_tree(network, nn, modules)


def build_tree(network: Network, nn: Any, modules: Any) -> Any:
    """Build the root from ``nn`` (leaf ops) and ``modules`` (containers, routing, the root class).

    The code generator calls this with recording stand-ins, so compiled and generated modules cannot
    drift apart."""

    def build(node: Node) -> Any:
        if node.is_leaf:
            module = node.op.build(nn, node.args, node.input)
        else:
            module = node.container.build(modules, node.args, [(child.name, build(child)) for child in node.children])
        if node.sources or node.id:
            module = modules.route(module, node.sources, node.id)
        return module

    return modules.CompiledNetwork([(child.name, build(child)) for child in network.root.children], network.name)
