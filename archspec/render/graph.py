"""Diagrams of the data flow: Graphviz DOT and Mermaid.

Edges come from the same ``propagate`` that carries shapes and receptive fields through containers: the
state is the set of nodes whose output flows on, so branches, merges, heads and ``from`` routing need no
code of their own here.

``depth`` collapses every block (a container that is a module) at that depth or deeper into one box with its
totals from the report (params, MACs, output shape); every block shown above it becomes a cluster, nested as
the modules are. Mermaid refuses diagrams of 500 edges or more (its default ``maxEdges``), so
:func:`render_mermaid` without a depth picks the largest depth that stays under it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archspec.ir.graph import Network, Node
from archspec.ops.base import Tokens, format_shape
from archspec.ops.containers import Inputs

if TYPE_CHECKING:
    from archspec.analysis.report import LayerReport

MERMAID_MAX_EDGES = 500  # mermaid's default `maxEdges`: a diagram with this many edges or more is not drawn


@dataclass
class FlowGraph:
    """Boxes (leaf ops, collapsed blocks, merges, inputs and outputs), the edges between them, and clusters."""

    labels: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # cluster (a block's path) → the boxes right in it
    clusters: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # path → (label, enclosing cluster)
    collapsed: list[str] = field(default_factory=list)  # paths of the blocks drawn as one box

    def add(self, key: str, label: str, group: str | None = None) -> str:
        self.labels[key] = label
        if group:
            self.groups.setdefault(group, []).append(key)
        return key

    def children(self, cluster: str | None) -> list[str]:
        return [path for path, (_, parent) in self.clusters.items() if parent == cluster]


def flow_graph(
    network: Network, depth: int | None = None, layers: Mapping[str, LayerReport] | None = None
) -> FlowGraph:
    """The data flow of ``network``; with ``depth``, blocks at that depth or deeper are one box each, labelled
    with their row in ``layers`` (the report's rows by path; built here when not given)."""
    if depth is not None and layers is None:
        from archspec.analysis.report import build_report

        layers = {row.path: row for row in build_report(network).layers}
    graph = FlowGraph()
    tokens = network.input
    what = f"{tokens[0]} tokens (vocab {tokens.vocab})" if isinstance(tokens, Tokens) else format_shape(tokens)
    source = graph.add("input", f"input\\n{what}")
    enclosing: list[str | None] = [None]  # the innermost cluster being drawn, for boxes and nested clusters

    def visit(node: Node, state: Any) -> Any:
        group = enclosing[-1]
        if node.is_leaf:
            key = graph.add(node.path, f"{node.path}\\n{_op_text(node)} → {format_shape(node.output)}", group)
            graph.edges += [(previous, key) for previous in _flat(state)]
            return [key]
        # An inline container adds no module level (its children register on the enclosing module): never a box
        # or a cluster of its own.
        if depth is not None and not node.inline and node.depth >= depth:
            assert layers is not None
            key = graph.add(node.path, _collapsed_text(node, layers[node.path]), group)
            graph.collapsed.append(node.path)
            graph.edges += [(previous, key) for previous in _flat(state)]
            if node.side_output is not None:  # a head: its output is the network's, the main path goes on
                return side(node, state, [key])
            return [key]
        if not node.inline:
            graph.clusters[node.path] = (f"{node.path} ({node.kind})", group)
            enclosing.append(node.path)

        def merge(states: list[Any]) -> list[str]:
            key = graph.add(f"{node.path}:merge", f"{node.kind}\\n→ {format_shape(node.output)}", enclosing[-1])
            graph.edges += [(previous, key) for previous in _flat(states)]
            return [key]

        try:
            return node.container.propagate(
                state, node.children, visit, merge, lambda main, branch: side(node, main, branch)
            )
        finally:
            if not node.inline:
                enclosing.pop()

    def side(node: Node, main: Any, branch: Any) -> Any:
        key = graph.add(f"{node.path}:output", f"output '{node.path}'\\n{format_shape(node.side_output)}")
        graph.edges += [(previous, key) for previous in _flat(branch)]
        return main

    last = network.root.container.propagate([source], network.root.children, visit, None, None)
    output = graph.add("output", f"output\\n{format_shape(network.output)}")
    graph.edges += [(previous, output) for previous in _flat(last)]
    return graph


def _op_text(node: Node) -> str:
    """``conv k7 s2``: the op with its kernel and stride, where it has them (any op whose args name them)."""
    parts = [node.kind]
    for name, short in (("kernel", "k"), ("stride", "s")):
        value = getattr(node.args, name, None)
        if value is not None and not isinstance(value, bool):
            shown = "×".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
            parts.append(f"{short}{shown}")
    return " ".join(parts)


def _collapsed_text(node: Node, row: LayerReport) -> str:
    return f"{node.path} ({node.kind})\\nparams {row.params:,}\\nMACs {row.macs:,}\\n→ {format_shape(node.output)}"


def _flat(state: Any) -> list[str]:
    if isinstance(state, Inputs) or (isinstance(state, list) and state and isinstance(state[0], list)):
        return [key for part in state for key in _flat(part)]
    return list(state)


def max_depth(network: Network) -> int:
    """The depth of the deepest block (0: no blocks): collapsing there or deeper changes nothing."""
    return max((node.depth for node in network.modules() if not node.is_leaf and not node.inline), default=0)


def mermaid_depth(
    network: Network, layers: Mapping[str, LayerReport] | None = None
) -> tuple[int | None, FlowGraph, int]:
    """(depth, graph, edges drawn in full): the largest depth (None: everything) whose graph has fewer edges
    than Mermaid draws, or depth 1 when none has (the smallest graph there is)."""
    full = flow_graph(network)
    graph, chosen = full, None
    for depth in range(max_depth(network), 0, -1):
        if len(graph.edges) < MERMAID_MAX_EDGES:
            break
        graph, chosen = flow_graph(network, depth, layers), depth
    return chosen, graph, len(full.edges)


def _escape_dot(text: str) -> str:
    return text.replace('"', '\\"')  # labels keep their `\n` (DOT's line break); paths hold no backslash


def render_dot(network: Network, depth: int | None = None, layers: Mapping[str, LayerReport] | None = None) -> str:
    graph = flow_graph(network, depth, layers)
    ids = {key: f"n{index}" for index, key in enumerate(graph.labels)}
    cluster_ids = {path: f"cluster_{index}" for index, path in enumerate(graph.clusters)}
    lines = [f'digraph "{_escape_dot(network.name)}" {{', "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']

    def emit(cluster: str | None, indent: str) -> None:
        for path in graph.children(cluster):
            label = _escape_dot(graph.clusters[path][0])
            lines.append(f'{indent}subgraph {cluster_ids[path]} {{ label="{label}"; style=rounded;')
            emit(path, indent + "  ")
            lines.append(f"{indent}}}")
        keys = graph.groups.get(cluster, []) if cluster else _ungrouped(graph)
        lines.extend(f'{indent}{ids[key]} [label="{_escape_dot(graph.labels[key])}"];' for key in keys)

    emit(None, "  ")
    lines += [f"  {ids[a]} -> {ids[b]};" for a, b in graph.edges]
    return "\n".join([*lines, "}"]) + "\n"


def _ungrouped(graph: FlowGraph) -> list[str]:
    grouped = {key for keys in graph.groups.values() for key in keys}
    return [key for key in graph.labels if key not in grouped]


def render_mermaid(network: Network, depth: int | None = None, layers: Mapping[str, LayerReport] | None = None) -> str:
    """A Mermaid flowchart; without ``depth``, collapsed as far as needed to stay under Mermaid's edge limit
    (a ``%%`` comment line says so)."""
    lines = ["flowchart TD"]
    if depth is None:
        chosen, graph, full = mermaid_depth(network, layers)
        if chosen is not None:
            lines.append(
                f"  %% collapsed to --depth {chosen} ({len(graph.edges)} edges): drawn in full it has {full} "
                f"edges, and Mermaid draws fewer than {MERMAID_MAX_EDGES}"
            )
    else:
        graph = flow_graph(network, depth, layers)
    ids = {key: f"n{index}" for index, key in enumerate(graph.labels)}
    cluster_ids = {path: f"g{index}" for index, path in enumerate(graph.clusters)}

    def text(label: str) -> str:
        return re.sub(r'["<>]', "", label).replace("\\n", "<br/>")

    def emit(cluster: str | None, indent: str) -> None:
        for path in graph.children(cluster):
            lines.append(f'{indent}subgraph {cluster_ids[path]}["{text(graph.clusters[path][0])}"]')
            emit(path, indent + "  ")
            lines.append(f"{indent}end")
        keys = graph.groups.get(cluster, []) if cluster else _ungrouped(graph)
        lines.extend(f'{indent}{ids[key]}["{text(graph.labels[key])}"]' for key in keys)

    emit(None, "  ")
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in graph.edges]
    return "\n".join(lines) + "\n"
