"""What editors and pre-commit see: check-jsonschema (the test extra) with the shipped schema on the bundled specs
and on specs with mistakes, the schema line inside a built wheel, and the ``archspec-check`` hook on several files.
"""

from __future__ import annotations

import importlib.util
import json
import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from archspec.blocks.schema import spec_schema
from archspec.loading.resolve import bundled_specs

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "archspec" / "schemas" / "archspec.schema.json"
HEADER = "archspec: 1\nname: t\ninput: [3, 16, 16]\nlayers:\n"
MISTAKES = {
    "unknown_op.yaml": "  - convv: {out: 8, kernel: 3}\n",
    "unknown_block_argument.yaml": "  - residual: {outt: 64}\n",
    "misspelt_block_argument.yaml": "  - bottleneck: {out: 16, stirde: 2}\n",
    "nested_unknown_op.yaml": "  - sequential:\n      - conv: {out: 8, kernel: 3}\n      - reul\n",
}


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SHIPPED), *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_check_jsonschema_accepts_every_bundled_spec():
    files = [ROOT / "archspec" / "specs" / file for file in sorted(bundled_specs().values())]
    result = check_jsonschema(*files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_check_jsonschema_rejects_a_mistake(tmp_path, name):
    spec = tmp_path / name
    spec.write_text(HEADER + MISTAKES[name])
    result = check_jsonschema(spec)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{spec}::$.layers[0]" in result.stdout
    # The same file without the mistake passes: the schema rejects the mistake, not the file.
    spec.write_text(HEADER + "  - conv: {out: 8, kernel: 3}\n")
    assert check_jsonschema(spec).returncode == 0


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel ``pip wheel`` builds from a copy of the project (so no build output lands in the checkout)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    tracked = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "pyproject.toml", "README.md", "archspec"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(work / "dist")]
    if importlib.util.find_spec("setuptools"):  # else pip fetches it (a new venv of Python 3.12 has none)
        build.append("--no-build-isolation")
    result = subprocess.run(build, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    [built] = (work / "dist").glob("archspec-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_the_schema_where_every_bundled_spec_looks_for_it(wheel):
    names = set(wheel.namelist())
    assert json.loads(wheel.read("archspec/schemas/archspec.schema.json")) == spec_schema()
    specs = sorted(name for name in names if name.startswith("archspec/specs/") and name.endswith(".yaml"))
    assert len(specs) == len(bundled_specs())
    for name in specs:
        first = wheel.read(name).decode().splitlines()[0]
        relative = first.split("$schema=", 1)[1]
        assert posixpath.normpath(posixpath.join(posixpath.dirname(name), relative)) in names, name


def test_the_pre_commit_hook_runs_archspec_check_on_spec_files():
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "archspec-check"
    assert hook["entry"].split()[:2] == ["archspec", "check"]
    assert hook["language"] == "python"
    files = re.compile(hook["files"])
    assert all(files.search(name) for name in ("net.yaml", "specs/net.yml", "net.json"))
    assert not any(files.search(name) for name in ("net.py", "README.md", "yaml.txt"))


def test_archspec_check_locates_each_files_errors_as_the_hook_passes_them(tmp_path):
    """pre-commit passes every staged spec at once: each error names its file, line and column."""
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text(HEADER + MISTAKES["unknown_block_argument.yaml"])
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(json.dumps({**yaml.safe_load(HEADER + "  - relu\n"), "layers": [{"conv": {"out": 4}}]}))
    good = ROOT / "archspec" / "specs" / "lenet5.yaml"
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    arguments = hook["entry"].split()[1:]
    command = [sys.executable, "-m", "archspec.cli", *arguments, str(bad_yaml), str(good), str(bad_json)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{bad_yaml}:5:16: error: layers[0].residual.outt: ")
    assert lines[1].startswith(f"{bad_json}:1:") and "kernel" in lines[1]
    assert len(lines) == 2
