"""``archspec graph``: --depth totals agree with a separate ``archspec check``; svg/png go through Graphviz's
``dot`` where it is installed, and where it is not the error says how to install it."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys

import pytest
from clitools import run_cli, subprocess_env

HAS_DOT = shutil.which("dot") is not None


def test_depth_1_boxes_hold_the_rows_of_check():
    graph = run_cli("graph", "resnet50", "--depth", "1")
    assert graph.returncode == 0, graph.stderr
    check = run_cli("check", "resnet50", "--format", "json")
    rows = {row["path"]: row for row in json.loads(check.stdout)["layers"]}
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        row = rows[stage]
        shape = "×".join(map(str, row["output_shape"][1:]))
        expected = f'[label="{stage} ({row["op"]})\\nparams {row["params"]:,}\\nMACs {row["macs"]:,}\\n→ {shape}"];'
        assert expected in graph.stdout
        assert f'"{stage}.' not in graph.stdout and f"\\n{stage}." not in graph.stdout  # nothing inside it


def test_mermaid_says_when_it_collapsed():
    result = run_cli("graph", "resnet152", "--format", "mermaid")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  %% collapsed to --depth 2 \(\d+ edges\)", result.stdout, flags=re.M)
    assert len(re.findall(r" --> ", result.stdout)) < 500
    explicit = run_cli("graph", "resnet152", "--format", "mermaid", "--depth", "1")
    assert "%%" not in explicit.stdout and explicit.stderr == ""
    # drawn in full on request (resnet152 has more edges than Mermaid draws): printed, with a warning
    full = run_cli("graph", "resnet152", "--format", "mermaid", "--depth", "4")
    assert full.returncode == 0 and len(re.findall(r" --> ", full.stdout)) >= 500
    assert "warning: --depth 4 draws" in full.stderr and "Mermaid draws fewer than 500" in full.stderr


def test_depth_must_be_positive():
    result = run_cli("graph", "resnet50", "--depth", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--depth" in result.stderr


@pytest.mark.parametrize("form", ["svg", "png"])
def test_drawing_without_dot_says_how_to_install_it(tmp_path, form):
    env = subprocess_env()
    env["PATH"] = str(tmp_path)  # an empty folder: no `dot` (python itself is run by its full path)
    result = run_cli("graph", "lenet5", "--format", form, "--output", str(tmp_path / f"out.{form}"), env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "apt install graphviz" in result.stderr and "brew install graphviz" in result.stderr
    assert not (tmp_path / f"out.{form}").exists()


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_svg_and_png_are_drawn_by_dot(tmp_path):
    svg = run_cli("graph", "resnet18", "--format", "svg", "--depth", "2")
    assert svg.returncode == 0, svg.stderr
    assert "<svg" in svg.stdout and "layer1.0 (residual)" in svg.stdout  # a box of a collapsed block
    target = tmp_path / "resnet18.png"
    png = run_cli("graph", "resnet18", "--format", "png", "--output", str(target))
    assert png.returncode == 0, png.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(target) > 1000


def test_graph_does_not_import_torch():
    probe = (
        "import sys\nfrom archspec.cli import main\ncode = main(['graph', 'resnet18', '--depth', '1'])\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'torch'], 'torch imported'\nsys.exit(code)\n"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=subprocess_env())
    assert done.returncode == 0, done.stderr
