"""``archspec --version`` (issue 8 §3): ``archspec X.Y.Z`` from the package metadata, else ``__version__``;
exit 0; torch never imported. And ``--batch`` is bounded like every size (2**31 - 1), as in the Python API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata

import pytest
from clitools import REPO_ROOT, cli_runner, run_cli, subprocess_env

import archspec

# The [project] table's version line (tomllib is Python 3.11+; archspec supports 3.10).
PROJECT_VERSION = re.search(
    r'^version = "([^"]+)"$', (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE
).group(1)


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def test_version_prints_the_project_version_and_exits_0():
    result = run_cli("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"archspec {PROJECT_VERSION}\n", "")


def test_version_falls_back_to_the_package_attribute_without_metadata(cli, monkeypatch):
    """A source checkout that was never installed has no metadata: ``archspec.__version__`` answers, and it is
    pyproject's version (so the two cannot drift apart)."""

    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert cli("--version") == (0, f"archspec {PROJECT_VERSION}\n", "")
    assert archspec.__version__ == PROJECT_VERSION


def test_version_does_not_import_torch():
    probe = (
        "import contextlib, io, json, sys\nfrom archspec.cli import main\nout = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n    code = main(['--version'])\n"
        "print(json.dumps([code, out.getvalue(), sorted(m for m in sys.modules if m.split('.')[0] == 'torch')]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=subprocess_env(), timeout=60, check=True
    )
    assert json.loads(result.stdout) == [0, f"archspec {PROJECT_VERSION}\n", []]


def test_version_is_listed_in_the_help(cli):
    with pytest.raises(SystemExit):
        cli("--help")
    _, out, _ = cli()
    assert "--version" in out


@pytest.mark.parametrize("batch", ["0", "2147483648", "-3", "9" * 40])
def test_a_batch_beyond_the_size_limit_is_a_usage_error(cli, batch):
    code, out, err = cli("check", "lenet5", "--batch", batch)
    assert (code, out) == (2, "")
    assert err == f"archspec: error: --batch must be from 1 to 2,147,483,647 (a size, like every size), got {batch}\n"


def test_the_batch_limit_is_exactly_the_size_limit(cli):
    code, out, _ = cli("check", "lenet5", "--batch", "2147483647", "--format", "json")
    assert code == 0 and json.loads(out)["input_shape"] == [2147483647, 1, 32, 32]
    assert cli("check", "lenet5", "--batch", "2147483648")[0] == 2
