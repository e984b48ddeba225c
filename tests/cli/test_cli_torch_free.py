"""``archspec check`` never imports torch (DESIGN.md §2): run it where importing torch is impossible."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from clitools import BUNDLED, run_cli, subprocess_env

BLOCKER = '''
import sys


class _NoTorch:
    """Refuse torch (and record every attempt) so that a lazy or guarded import still shows up."""

    attempts = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            _NoTorch.attempts.append(name)
            raise ImportError(f"{name} is blocked in this test")
        return None


sys.meta_path.insert(0, _NoTorch())
'''

# Runs several command lines in one process (argv[1] is a JSON list of them) and reports, per command line,
# its exit status, whether torch was ever asked for, and whether any torch module got loaded.
PROBE = (
    BLOCKER
    + """
import contextlib
import io
import json

from archspec.cli import main

results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append({"argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                    "attempts": list(_NoTorch.attempts),
                    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision"))})
print(json.dumps(results))
"""
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    import archspec
    from archspec.backend.checkpoint import save

    folder = tmp_path_factory.mktemp("specs")
    broken = folder / "broken.yaml"
    broken.write_text("archspec: 1\nname: broken\ninput: [3, 8, 8]\nlayers:\n  - reul\n")
    stack = folder / "stack.yaml"
    stack.write_text(
        "archspec: 1\nname: stack\ninput: [3, 32, 32]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: 1}\n"
    )
    checkpoint = folder / "lenet5.pt"  # written here, with torch; checked there, without
    save(archspec.compile("lenet5"), archspec.load("lenet5"), checkpoint)
    commands = {
        "table": ["check", *BUNDLED],
        "json": ["check", *BUNDLED, "--format", "json"],
        "markdown": ["check", *BUNDLED, "--format", "markdown"],
        "options": [
            "check",
            "vgg16",
            "--input",
            "3,64,64",
            "--batch",
            "8",
            "--set",
            "num_classes=10",
            "--set",
            "batchnorm=true",
            "--train",
            "--format",
            "json",
        ],
        "invalid": ["check", str(broken)],
        "checkpoint": ["check", str(checkpoint)],
        "tile": ["check", str(stack), "--tile", "16", "--format", "json"],
        "list": ["list"],
        "schema": ["schema"],
        "report schema": ["schema", "report"],
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(commands.values()))],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return dict(zip(commands, json.loads(result.stdout), strict=True))


@pytest.mark.parametrize("command", ["table", "json", "markdown", "options", "tile", "list", "schema", "report schema"])
def test_runs_without_torch(probe, command):
    run = probe[command]
    assert run["code"] == 0, run["stderr"]
    assert run["attempts"] == []
    assert run["loaded"] == []
    assert run["stdout"]


def test_every_bundled_spec_is_reported_without_torch(probe):
    reports = probe["json"]["stdout"]
    for name in BUNDLED:
        assert f'"name": "{name}"' in reports


def test_invalid_spec_without_torch(probe):
    run = probe["invalid"]
    assert run["code"] == 1
    assert "did you mean 'relu'" in run["stderr"]
    assert run["attempts"] == []
    assert run["loaded"] == []


def test_checkpoint_is_recognised_without_torch(probe):
    run = probe["checkpoint"]
    assert run["code"] == 1
    assert "is an archspec checkpoint" in run["stderr"] and "archspec.load_checkpoint" in run["stderr"]
    assert run["attempts"] == []
    assert run["loaded"] == []


def test_import_archspec_stays_torch_free():
    """``archspec.load_checkpoint`` is exported, but torch is imported only when it is called."""
    code = BLOCKER + "import archspec\nassert callable(archspec.load_checkpoint)\nprint(_NoTorch.attempts)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_console_entry_point_with_sitecustomize(tmp_path):
    """The same through ``python -m archspec.cli``, with torch blocked by a sitecustomize module."""
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    result = run_cli("check", *BUNDLED, "-q", env=subprocess_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    # sanity: the blocker is active in that environment
    blocked = subprocess.run(
        [sys.executable, "-c", "import torch"],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert blocked.returncode != 0
    assert "blocked" in blocked.stderr
