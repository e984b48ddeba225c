"""Diagrams of the data flow: Graphviz DOT and Mermaid.

Edges come from the same ``propagate`` that carries shapes and receptive fields through containers: the
state is the set of nodes whose output flows on, so branches, merges, heads and ``from`` routing need no
code of their own here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archspec.ir.graph import Network, Node
from archspec.ops.base import Tokens, format_shape
from archspec.ops.containers import Inputs


@dataclass
class FlowGraph:
    """Boxes (leaf ops, merges, inputs and outputs) and the edges between them."""

    labels: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # top-level module → its boxes

    def add(self, key: str, label: str, group: str | None = None) -> str:
        self.labels[key] = label
        if group:
            self.groups.setdefault(group, []).append(key)
        return key


def flow_graph(network: Network) -> FlowGraph:
    graph = FlowGraph()
    tokens = network.input
    what = f"{tokens[0]} tokens (vocab {tokens.vocab})" if isinstance(tokens, Tokens) else format_shape(tokens)
    source = graph.add("input", f"input\\n{what}")

    def visit(node: Node, state: Any) -> list[str]:
        group = node.path.split(".", 1)[0]
        if node.is_leaf:
            key = graph.add(node.path, f"{node.path}\\n{node.kind} → {format_shape(node.output)}", group)
            graph.edges += [(previous, key) for previous in _flat(state)]
            return [key]

        def merge(states: list[Any]) -> list[str]:
            key = graph.add(f"{node.path}:merge", f"{node.kind}\\n→ {format_shape(node.output)}", group)
            graph.edges += [(previous, key) for previous in _flat(states)]
            return [key]

        def side(main: Any, branch: Any) -> Any:
            key = graph.add(f"{node.path}:output", f"output '{node.path}'\\n{format_shape(node.side_output)}")
            graph.edges += [(previous, key) for previous in _flat(branch)]
            return main

        return node.container.propagate(state, node.children, visit, merge, side)

    last = network.root.container.propagate([source], network.root.children, visit, None, None)
    output = graph.add("output", f"output\\n{format_shape(network.output)}")
    graph.edges += [(previous, output) for previous in _flat(last)]
    return graph


def _flat(state: Any) -> list[str]:
    if isinstance(state, Inputs) or (isinstance(state, list) and state and isinstance(state[0], list)):
        return [key for part in state for key in _flat(part)]
    return list(state)


def render_dot(network: Network) -> str:
    graph = flow_graph(network)
    ids = {key: f"n{index}" for index, key in enumerate(graph.labels)}
    lines = [f'digraph "{network.name}" {{', "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']
    grouped = {key for keys in graph.groups.values() for key in keys}
    for index, (group, keys) in enumerate(graph.groups.items()):
        lines.append(f'  subgraph cluster_{index} {{ label="{group}"; style=rounded;')
        lines += [f'    {ids[key]} [label="{graph.labels[key]}"];' for key in keys]
        lines.append("  }")
    lines += [f'  {ids[key]} [label="{label}"];' for key, label in graph.labels.items() if key not in grouped]
    lines += [f"  {ids[a]} -> {ids[b]};" for a, b in graph.edges]
    return "\n".join([*lines, "}"]) + "\n"


def render_mermaid(network: Network) -> str:
    graph = flow_graph(network)
    ids = {key: f"n{index}" for index, key in enumerate(graph.labels)}

    def box(key: str) -> str:
        text = re.sub(r'["<>]', "", graph.labels[key]).replace("\\n", "<br/>")
        return f'{ids[key]}["{text}"]'

    lines = ["flowchart TD"]
    grouped = {key for keys in graph.groups.values() for key in keys}
    for index, (group, keys) in enumerate(graph.groups.items()):
        lines.append(f'  subgraph g{index}["{group}"]')
        lines += [f"    {box(key)}" for key in keys]
        lines.append("  end")
    lines += [f"  {box(key)}" for key in graph.labels if key not in grouped]
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in graph.edges]
    return "\n".join(lines) + "\n"
