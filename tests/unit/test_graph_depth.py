"""``depth`` collapses blocks into boxes with their totals; clusters nest as the modules do; Mermaid output of
every bundled spec stays under Mermaid's 500-edge limit; the DOT text is well formed (and Graphviz reads it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import archspec
from archspec.render.graph import flow_graph, max_depth, render_dot, render_mermaid

BUNDLED = sorted(path.stem for path in (Path(archspec.__file__).parent / "specs").glob("*.yaml"))
MERMAID_MAX_EDGES = 500  # mermaid's default `maxEdges` (mermaid.initialize({maxEdges}) raises it)


def mermaid_edges(text: str) -> int:
    return len(re.findall(r"^\s*n\d+ --> n\d+$", text, flags=re.M))


def dot_structure(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """(declared node ids, edges) of a DOT text; asserts the braces balance and close at the end."""
    depth = 0
    for char in re.sub(r'"(\\.|[^"\\])*"', '""', text):  # braces inside labels do not count
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a '}' closes nothing"
    assert depth == 0, "unbalanced braces"
    declared = set(re.findall(r"^\s*(n\d+) \[label=", text, flags=re.M))
    edges = re.findall(r"^\s*(n\d+) -> (n\d+);$", text, flags=re.M)
    return declared, edges


@pytest.mark.parametrize("name", BUNDLED)
def test_mermaid_of_every_bundled_spec_is_under_the_edge_limit(name):
    network = archspec.expand(name)
    text = render_mermaid(network)
    assert 0 < mermaid_edges(text) < MERMAID_MAX_EDGES
    full = len(flow_graph(network).edges)
    if full >= MERMAID_MAX_EDGES:  # collapsed, and the comment says to which depth
        depth = int(re.search(r"^  %% collapsed to --depth (\d+) ", text, flags=re.M).group(1))
        assert mermaid_edges(text) == len(flow_graph(network, depth).edges)
        # the largest such depth: one level deeper is over the limit (or is the full graph)
        deeper = flow_graph(network, depth + 1) if depth < max_depth(network) else flow_graph(network)
        assert len(deeper.edges) >= MERMAID_MAX_EDGES
    else:
        assert "%%" not in text


def test_resnet152_is_collapsed_for_mermaid():
    network = archspec.expand("resnet152")
    assert len(flow_graph(network).edges) >= MERMAID_MAX_EDGES  # the reason: drawn in full, Mermaid refuses it
    assert "%% collapsed to --depth 2" in render_mermaid(network)


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "efficientnet_v2_s", "swin_t", "unet", "gpt_tiny"])
def test_dot_is_well_formed_at_every_depth(name):
    network = archspec.expand(name)
    for depth in [None, *range(1, max_depth(network) + 1)]:
        declared, edges = dot_structure(render_dot(network, depth))
        assert edges
        assert {end for edge in edges for end in edge} <= declared
        if shutil.which("dot"):  # Graphviz itself reads it (skipped where it is not installed)
            done = subprocess.run(["dot", "-Tcanon"], input=render_dot(network, depth), text=True, capture_output=True)
            assert done.returncode == 0, done.stderr


def test_depth_1_of_resnet50_shows_each_stage_as_one_box_with_its_report_row():
    network = archspec.expand("resnet50")
    graph = flow_graph(network, 1)
    rows = {row.path: row for row in archspec.analyze("resnet50").layers}  # a separate analysis
    assert graph.collapsed == ["layer1", "layer2", "layer3", "layer4"]
    assert not any(key.startswith("layer") and key not in graph.collapsed for key in graph.labels)
    assert graph.clusters == {}  # nothing above depth 1 is a block
    for stage in graph.collapsed:
        label = graph.labels[stage].split("\\n")
        row = rows[stage]
        assert label[1:] == [
            f"params {row.params:,}",
            f"MACs {row.macs:,}",
            "→ " + "×".join(map(str, row.output_shape[1:])),
        ]
    # the main path runs through the four boxes in order
    assert ("layer1", "layer2") in graph.edges and ("layer3", "layer4") in graph.edges


def test_clusters_nest_as_the_modules_do():
    graph = flow_graph(archspec.expand("resnet50"))
    assert graph.clusters["layer1"][1] is None
    assert graph.clusters["layer1.0"][1] == "layer1"
    assert "layer1.0.conv1" in graph.groups["layer1.0"]
    assert not any("~" in path for path in graph.clusters)  # inline containers are no module: no cluster
    dot = render_dot(archspec.expand("resnet50"))
    outer = dot.index('label="layer1 (repeat)"')
    assert outer < dot.index('label="layer1.0 (bottleneck)"') < dot.index('label="layer2 (repeat)"')
    mermaid = render_mermaid(archspec.expand("resnet18"))
    assert re.search(r'subgraph g\d+\["layer1 \(repeat\)"\]\n    subgraph g\d+\["layer1.0 \(residual\)"\]', mermaid)


def test_kernel_and_stride_are_on_the_boxes():
    graph = flow_graph(archspec.expand("resnet50"))
    # torchvision's resnet50: conv1 is 7×7 stride 2, the stem's max pool 3×3 stride 2, layer2.0.conv2 strides 2
    assert graph.labels["conv1"] == "conv1\\nconv k7 s2 → 64×112×112"
    assert graph.labels["maxpool"] == "maxpool\\nmaxpool k3 s2 → 64×56×56"
    assert graph.labels["layer2.0.conv2"].startswith("layer2.0.conv2\\nconv k3 s2 →")


def test_a_collapsed_head_still_ends_in_its_output():
    graph = flow_graph(archspec.expand("googlenet"), 1)
    assert [a for a, b in graph.edges if b == "aux1:output"] == ["aux1"]
    # the main path goes on from the head's input, not from the head
    assert not any(a == "aux1" and b != "aux1:output" for a, b in graph.edges)
