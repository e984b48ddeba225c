"""Smoke test for benchmarks/startup.py: one round runs and prints its table. Never asserts on timings."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "startup.py"


@pytest.mark.slow
def test_one_round_prints_every_command_and_writes_json(tmp_path):
    out = tmp_path / "startup.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--runs", "1", "--json", str(out)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-4000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [
        'python -c "pass"',
        'python -c "import pydantic, yaml"',
        'python -c "<one pydantic model, validated once>"',
        'python -c "import archspec.cli"',
        "archspec check lenet5",
    ]
    assert "the baseline's minimum wall time" in run.stdout
    commands = json.loads(out.read_text())["commands"]
    assert all(len(command["walls"]) == 1 and command["modules"] > 0 for command in commands)
