"""Helpers for the CLI tests: run ``archspec`` as a real subprocess, and locate text in a spec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ["alexnet", "alexnet_original", "lenet5", "vgg11", "vgg13", "vgg16", "vgg19"]


def subprocess_env(*extra_paths: str | os.PathLike[str]) -> dict[str, str]:
    """The current environment with ``extra_paths`` and the repository root first on PYTHONPATH."""
    env = dict(os.environ)
    parts = [str(p) for p in extra_paths] + [str(REPO_ROOT)]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def run_cli(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    """``python -m archspec.cli ARGS`` as a separate process, reading ``stdin`` as its standard input."""
    return subprocess.run(
        [sys.executable, "-m", "archspec.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd,
        env=env or subprocess_env(),
        timeout=timeout,
        check=False,
    )


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the ``occurrence``-th ``needle`` in ``text``.

    >>> position("a: 1\\nbb: [x, y]\\n", "y")
    (2, 9)
    """
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def write_spec(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    """``text`` written to ``folder/name``: a spec file for a test."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def bundled_text(name: str) -> str:
    """The text of a bundled spec, to locate expected error positions in."""
    return (REPO_ROOT / "archspec" / "specs" / f"{name}.yaml").read_text(encoding="utf-8")


def cli_runner(capsys):
    """A function running ``archspec.cli.main(argv)`` in-process, returning (exit code, stdout, stderr).

    (A fixture in a ``tests/cli/conftest.py`` would clash with ``tests/conftest.py`` under --doctest-modules,
    so each module wraps this in its own ``cli`` fixture.)
    """
    from archspec.cli import main

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke
