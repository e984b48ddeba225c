"""Shared helpers of the bad-input tests: the corpus of broken specs, their golden messages, and checks that an
error report is located and carries a fix.

Each corpus file ``corpus/NN_short_name.yaml`` (or ``.json``) has a golden file ``NN_short_name.expected`` beside
it holding exactly what ``archspec check FILE`` prints on stderr, with the file's path written ``{file}``. A
first line ``# archspec-args: ...`` gives extra command-line options (``--train``, ``--max-nodes 100``, ...).
Run ``UPDATE_GOLDEN=1 pytest tests/errors`` to rewrite the golden files — then read every changed message:
it must say what is wrong and give a concrete fix.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPO_ROOT = HERE.parents[1]
PLACEHOLDER = "{file}"
ARGS_PREFIX = "# archspec-args:"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# FILE:LINE:COL: error: <spec path>: <what> — <fix>
ERROR_LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>[1-9]\d*):(?P<column>[1-9]\d*): error: "
    r"(?P<path>\S+(?: \(\d+ levels\))?): (?P<what>.+?) — (?P<fix>\S.*)$"
)
# FILE: error: <what> — <fix>   (about a file as a whole: one that is missing, or is not what it claims)
FILE_ERROR_LINE = re.compile(r"^(?P<file>.+?): error: (?P<what>.+?) — (?P<fix>\S.*)$")


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".yaml", ".json"))


def golden_path(case: Path) -> Path:
    return case.with_suffix(".expected")


def extra_args(case: Path) -> list[str]:
    first = case.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    return shlex.split(first[len(ARGS_PREFIX) :]) if first.startswith(ARGS_PREFIX) else []


def to_golden(stderr: str, path: str) -> str:
    return stderr.replace(path, PLACEHOLDER)


def check_golden(case: Path, stderr: str, path: str, update: bool = UPDATE) -> None:
    """Compare stderr with the golden file (or rewrite it under ``UPDATE_GOLDEN=1``)."""
    actual = to_golden(stderr, path)
    golden = golden_path(case)
    if update:
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.exists(), f"no golden file {golden.name}; run with UPDATE_GOLDEN=1 and review it"
    assert actual == golden.read_text(encoding="utf-8")


def assert_located_report(stderr: str, path: str) -> list[re.Match[str]]:
    """Every line is ``FILE:LINE:COL: error: PATH: what — fix`` for ``path``; no traceback."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines, "an invalid spec must print at least one error"
    matches = []
    for line in lines:
        match = ERROR_LINE.match(line)
        assert match, f"not a located error with a fix: {line!r}"
        assert match["file"] == path
        matches.append(match)
    return matches


def assert_file_report(stderr: str, path: str) -> None:
    """Every line is about ``path``: ``FILE: error: what — fix``, or located in it (``FILE:LINE:COL: ...``);
    no traceback."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines, "a bad file must print at least one error"
    for line in lines:
        match = ERROR_LINE.match(line) or FILE_ERROR_LINE.match(line)
        assert match, f"not an error about the file, with a fix: {line!r}"
        assert match["file"] == path, line


def assert_located_error(error: Exception, file: str) -> None:
    """A SpecError whose every diagnostic has a file position in ``file`` and a fix."""
    from archspec.errors import SpecError

    assert isinstance(error, SpecError) and isinstance(error, ValueError)
    assert error.diagnostics
    for diagnostic in error.diagnostics:
        assert diagnostic.location is not None, diagnostic
        assert diagnostic.location.file == file, diagnostic
        assert diagnostic.location.line >= 1 and diagnostic.location.column >= 1, diagnostic
        assert diagnostic.message, diagnostic
        assert diagnostic.fix and diagnostic.fix.strip(), f"no fix: {diagnostic}"


def subprocess_env(*extra_paths: str | os.PathLike[str]) -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(p) for p in extra_paths] + [str(REPO_ROOT)]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def run_cli(
    *args: str, cwd: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m archspec.cli ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "archspec.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or subprocess_env(),
        timeout=timeout,
        check=False,
    )
