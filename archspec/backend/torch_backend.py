"""Compile the IR into a ``torch.nn.Module`` whose submodule paths are the IR's paths.

Containers become the modules of :mod:`archspec.backend.modules` that they name (``Container.module``),
leaves the modules their ops build, so a forward pass is a straight sequence of module calls with no
interpretation of the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspec.backend.flow import Flow, Value
from archspec.backend.memory import GIB, Culprit, culprit_at, is_allocation_failure, out_of_memory, require_memory
from archspec.ir.graph import Network, Node
from archspec.ops.base import DTYPE_BYTES
from archspec.ops.containers import LIST_INPUT, PREVIOUS


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
    # Here, after the memory check (and codegen imports this module without torch): torch.nn and archspec's own
    # leaf modules, as ops build from them.
    from archspec.backend import modules
    from archspec.backend.layers import namespace

    nn = namespace()

    try:
        return build_tree(network, nn, modules, in_place)
    except (RuntimeError, MemoryError) as error:
        if is_allocation_failure(error):
            raise out_of_memory(needed, what, culprit, None) from None
        raise


def module_bytes(network: Network) -> tuple[int, Any]:
    """Bytes of the compiled module's parameters and buffers (float32), and the leaf holding the most."""
    sizes = [
        (
            leaf,
            (
                leaf.op.parameters(leaf.args, leaf.input, leaf.output)
                + leaf.op.buffers(leaf.args, leaf.input, leaf.output)
            )
            * DTYPE_BYTES,
        )
        for leaf in network.root.leaves()
    ]
    total = sum(size for _, size in sizes)
    if not sizes:
        return total, Culprit("no module", (), None)
    largest, size = max(sizes, key=lambda pair: pair[1])
    description = f"module '{largest.path}' ({largest.kind}, {size / GIB:.2f} GiB)"
    return total, culprit_at(largest.path, description, {node.path: node for node in network.modules()}, network.file)


def build_tree(network: Network, nn: Any, modules: Any, in_place: bool = True) -> Any:
    """Build the root from ``nn`` (leaf ops) and ``modules`` (containers, routing, the root class).

    With ``in_place``, an op that has an in-place form (ReLU) gets it where its input is the fresh output
    of the previous item and nothing else reads that output — where torchvision puts ``inplace=True``.
    Inlined containers build no module: their children join the enclosing module, whose plan
    (archspec.backend.flow) carries the data flow they describe. Parameter items build no module either: their
    tensor (``modules.learned_tensor``) is registered on the enclosing module under the item's name, and a step
    of its plan applies it.

    The code generator calls this with recording stand-ins, so compiled and generated modules cannot
    drift apart."""
    built: dict[int, Any] = {}  # id(node) → its module, for every node that has one

    def build(node: Node, overwrite_input: bool) -> bool:
        """Build the node's module (none if inlined); whether its output is fresh (a following op may
        overwrite it)."""
        if node.is_leaf:
            if node.op.holds_tensor:  # a parameter item: its tensor, made here so weights are drawn in spec order
                tensor = node.op.learned_tensor(node.args, node.input)
                built[id(node)] = modules.learned_tensor(tensor.shape, tensor.init, tensor.value)
                return False
            module = node.op.build_in_place(nn, node.args, node.input) if overwrite_input else None
            fresh = module is None and node.op.fresh_output
            built[id(node)] = module or node.op.build(nn, node.args, node.input)
            return fresh
        children_fresh = build_children(node)
        if not node.inline:
            built[id(node)] = container_module(node)
        return node.container.fresh_output(children_fresh, len(node.children) or _input_count(node))

    def build_children(node: Node) -> list[bool]:
        chained = node.container.chains_children
        fresh, previous_fresh = [], False
        for child in node.children:
            child_fresh = build(child, in_place and chained and previous_fresh and not child.sources)
            fresh.append(child_fresh)
            previous_fresh = child_fresh and not child.id  # an id'd output is read again later
        return fresh

    def container_module(node: Node) -> Any:
        # The container names its module class; codegen's stand-in records the same call as source.
        container = node.container
        if container.flow_step is not None:  # a merge: its branches are modules of their own
            named, program = [(c.name, built[id(c)]) for c in node.children], {}
        else:
            named, program = plan(node)
            if program and not container.routes_children:
                raise NotImplementedError(
                    f"{container.name!r} runs its items in a row: 'id' / 'from', inlined merges and parameter "
                    f"items ({', '.join(c.kind for c in node.children if c.is_leaf and c.op.holds_tensor) or 'none'})"
                    f" inside a {container.name} cannot be compiled; wrap them in a sequential"
                )
        module = getattr(modules, container.module)(named, **container.module_arguments(node.args), **program)
        return modules.named_class(module, node.module_class) if node.module_class else module

    def plan(node: Node) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
        flow = Flow()

        def sequence(children: Sequence[Node], current: Value) -> Value:
            saved = {LIST_INPUT: current}
            for child in children:
                inputs = (
                    [current if source == PREVIOUS else saved[source] for source in child.sources]
                    if child.sources
                    else [current]
                )
                current = item(child, inputs)
                if child.id:
                    saved[child.id] = current
            return current

        def item(child: Node, inputs: list[Value]) -> Value:
            if child.is_leaf and child.op.holds_tensor:  # a parameter of this module, and a step applying it
                apply = child.op.learned_tensor(child.args, child.input).apply
                return flow.tensor(child.name, built[id(child)], apply, inputs)
            if not child.inline:
                return flow.child(child.name, built[id(child)], inputs)
            step = child.container.flow_step
            if step is None:  # an inlined sequential, repeat or block
                return sequence(child.children, inputs[0])
            if child.children and child.container.splits_input:  # branch k reads part k of the one input
                count, source = len(child.children), inputs[0]
                inputs = [
                    sequence(branch.children, flow.part(child.args.dim, k, count, source))
                    for k, branch in enumerate(child.children)
                ]
            elif child.children:  # branch k reads input k, or every branch the one input
                branch_inputs = inputs if len(inputs) > 1 else inputs * len(child.children)
                inputs = [sequence(branch.children, x) for branch, x in zip(child.children, branch_inputs, strict=True)]
            return flow.merge(step, getattr(child.args, "dim", 0), inputs)

        output = sequence(node.children, flow.input)
        return flow.named_children, flow.program(output)

    build_children(network.root)
    named, program = plan(network.root)
    # The modules whose side outputs the network returns, in spec order (heads; found by their paths when
    # called, so a replaced head is the one collected).
    side_outputs = [
        node.path for node in network.modules() if node.container is not None and node.container.produces_side_output
    ]
    return modules.CompiledNetwork(named, network.name, side_outputs, **program)


def _input_count(node: Node) -> int:
    """How many tensors reach a node: several when ``from`` names several ids."""
    return len(node.input) if node.input and isinstance(node.input[0], tuple) else 1
