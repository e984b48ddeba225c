"""Smoke test for benchmarks/compare.py: it runs and prints its tables. Never asserts on timings."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compare.py"


@pytest.mark.slow
def test_compare_quick_alexnet_prints_the_ratio_table(tmp_path):
    pytest.importorskip("torchvision")
    pytest.importorskip("torchinfo")
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--networks", "alexnet", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "## Analysis time and ratios (peer time / archspec time)" in run.stdout
    assert "| torchinfo / archspec |" in run.stdout
    assert any(line.startswith("| alexnet |") for line in run.stdout.splitlines())
    assert "archspec / torchvision" in run.stdout
    assert out.is_file()


def test_hostile_inputs_benchmark_prints_its_table():
    """benchmarks/hostile_inputs.py keeps the timings the tests of tests/errors/test_limits.py do not assert."""
    script = SCRIPT.parent / "hostile_inputs.py"
    run = subprocess.run(
        [sys.executable, str(script), "--repeat", "1", "--cases", "25_alias_bomb,nested-repeats"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "case" not in line]
    assert [row.split(" | ")[0] for row in rows] == ["| 25_alias_bomb", "| nested-repeats"]
