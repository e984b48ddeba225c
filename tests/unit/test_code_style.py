"""The codebase's own rules (issue 10): ruff's lint and formatter are clean, and no module of the package grows
past ~400 lines (a file that long has more than one job; split it by job, not by line count)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def ruff(*arguments: str) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).with_name("ruff")
    if not executable.exists():  # ruff is in the test extra; a bare checkout may still run it as a module
        return subprocess.run([sys.executable, "-m", "ruff", *arguments], cwd=REPO_ROOT, capture_output=True, text=True)
    return subprocess.run([str(executable), *arguments], cwd=REPO_ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("arguments", [("check", "."), ("format", "--check", ".")], ids=["lint", "format"])
def test_ruff_is_clean(arguments: tuple[str, ...]):
    result = ruff(*arguments)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_longer_than_the_limit():
    lengths = {
        path.relative_to(REPO_ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in (REPO_ROOT / "archspec").rglob("*.py")
    }
    too_long = {path: lines for path, lines in lengths.items() if lines > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines (split them by job): {too_long}"
    assert len(lengths) > 50  # the walk found the package
