"""DOT and Mermaid diagrams follow the data flow: merges join their branches, heads branch off."""

from __future__ import annotations

import itertools
import re

import archspec
from archspec.render.graph import flow_graph, render_dot, render_mermaid


def incoming(graph, key):
    return [a for a, b in graph.edges if b == key]


def test_chain_is_a_path_from_input_to_output():
    graph = flow_graph(archspec.expand("lenet5"))
    leaves = [row.path for row in archspec.analyze("lenet5").layers if row.leaf]
    path = ["input", *leaves, "output"]
    assert graph.edges == list(itertools.pairwise(path))


def test_residual_merge_joins_body_and_identity_shortcut():
    graph = flow_graph(archspec.expand("resnet18"))
    merge = "layer1.0~0:merge"  # the add is inlined into the block: its box is keyed by a stand-in path
    # the body's last op and the identity shortcut (torchvision's name, downsample) both reach the add
    assert sorted(incoming(graph, merge)) == ["layer1.0.bn2", "layer1.0.downsample"]
    assert incoming(graph, "layer1.0.downsample") == ["maxpool"]  # the block's input
    projecting = "layer2.0~0:merge"
    assert sorted(incoming(graph, projecting)) == ["layer2.0.bn2", "layer2.0.downsample.1"]


def test_inception_concat_has_four_inputs_and_heads_branch_off():
    graph = flow_graph(archspec.expand("googlenet"))
    assert len(incoming(graph, "inception3a~0:merge")) == 4
    assert incoming(graph, "aux1:output") == ["aux1.fc2"]
    # the main path continues from the head's input: inception4b's branches read inception4a's output
    assert "inception4a~0:merge" in incoming(graph, "inception4b.branch1.conv")


def test_dot_and_mermaid_mention_every_box_and_edge():
    network = archspec.expand("resnet18")
    graph = flow_graph(network)
    dot, mermaid = render_dot(network), render_mermaid(network)
    assert dot.startswith('digraph "resnet18" {') and dot.rstrip().endswith("}")
    assert len(re.findall(r" -> ", dot)) == len(graph.edges)
    assert mermaid.startswith("flowchart TD")
    assert len(re.findall(r" --> ", mermaid)) == len(graph.edges)
    assert len(re.findall(r'\["', mermaid)) == len(graph.labels) + len(graph.clusters)  # boxes and subgraphs
