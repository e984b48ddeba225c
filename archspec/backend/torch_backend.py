"""Compile the IR into a ``torch.nn.Module`` whose submodule paths are the IR's paths.

Containers become ``nn.Sequential`` and the modules in :mod:`archspec.backend.modules`, leaves the modules
their ops build, so a forward pass is a straight sequence of module calls with no interpretation of the spec.
"""

from __future__ import annotations

from typing import Any

from archspec.backend.memory import GIB, Culprit, culprit_at, is_allocation_failure, out_of_memory, require_memory
from archspec.ir.graph import Network, Node
from archspec.ops.base import DTYPE_BYTES


def compile_network(network: Network, in_place: bool = True) -> Any:
    """The network's ``nn.Module``.

    Raises:
        SpecError: before torch allocates anything, when the parameters and buffers do not fit in the memory
            available (located at the layer holding the most); also if torch's allocator fails anyway.
    """
    # The check needs only the IR, so a module that cannot fit is refused before torch (~650 MB, 2 s) loads.
    needed, culprit = module_bytes(network)
    what = "the module's parameters and buffers"
    require_memory(needed, what, culprit)
    from torch import nn  # here, after the memory check (and codegen imports this module without torch)

    from archspec.backend import modules  # (imports torch)

    try:
        return build_tree(network, nn, modules, in_place)
    except (RuntimeError, MemoryError) as error:
        if is_allocation_failure(error):
            raise out_of_memory(needed, what, culprit, None) from None
        raise


def module_bytes(network: Network) -> tuple[int, Any]:
    """Bytes of the compiled module's parameters and buffers (float32), and the leaf holding the most."""
    sizes = [(leaf, (leaf.op.parameters(leaf.args, leaf.input, leaf.output)
                     + leaf.op.buffers(leaf.args, leaf.input, leaf.output)) * DTYPE_BYTES)
             for leaf in network.root.leaves()]
    total = sum(size for _, size in sizes)
    if not sizes:
        return total, Culprit("no module", (), None)
    largest, size = max(sizes, key=lambda pair: pair[1])
    description = f"module '{largest.path}' ({largest.kind}, {size / GIB:.2f} GiB)"
    return total, culprit_at(largest.path, description, {node.path: node for node in network.modules()},
                             network.file)


def build_tree(network: Network, nn: Any, modules: Any, in_place: bool = True) -> Any:
    """Build the root from ``nn`` (leaf ops) and ``modules`` (containers, routing, the root class).

    With ``in_place``, an op that has an in-place form (ReLU) gets it where its input is the fresh output
    of the previous item and nothing else reads that output — where torchvision puts ``inplace=True``.

    The code generator calls this with recording stand-ins, so compiled and generated modules cannot
    drift apart."""

    def build(node: Node, overwrite_input: bool) -> tuple[Any, bool]:
        """The node's module, and whether its output is fresh (a following op may overwrite it)."""
        if node.is_leaf:
            module = node.op.build_in_place(nn, node.args, node.input) if overwrite_input else None
            fresh = module is None and node.op.fresh_output
            module = module or node.op.build(nn, node.args, node.input)
        else:
            named, children_fresh = children(node)
            module = node.container.build(modules, node.args, named)
            fresh = node.container.fresh_output(children_fresh, len(node.children) or _input_count(node))
        if node.sources or node.id:
            module = modules.route(module, node.sources, node.id)
        return module, fresh

    def children(node: Node) -> tuple[list[tuple[str, Any]], list[bool]]:
        chained = node.container.chains_children
        named, fresh, previous_fresh = [], [], False
        for child in node.children:
            module, child_fresh = build(child, in_place and chained and previous_fresh and not child.sources)
            named.append((child.name, module))
            fresh.append(child_fresh)
            previous_fresh = child_fresh and not child.id  # an id'd output is read again later
        return named, fresh

    named, _ = children(network.root)
    return modules.CompiledNetwork(named, network.name)


def _input_count(node: Node) -> int:
    """How many tensors reach a node: several when ``from`` names several ids."""
    return len(node.input) if node.input and isinstance(node.input[0], tuple) else 1
