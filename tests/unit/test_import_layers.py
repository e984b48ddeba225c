"""The package's layers (issue 10 §4): the import-linter contracts in pyproject.toml hold, and cover every module.

`lint-imports` builds the import graph from the source, function-local imports included, so a reach-back
hidden in a function breaks the suite as surely as one at the top of a file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter reads pyproject.toml with tomli there, so it is installed
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "archspec"


def contracts() -> dict[str, dict]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def top_level_modules() -> set[str]:
    """Every module and subpackage directly inside archspec/ (the units the layers are made of)."""
    modules = {path.stem for path in PACKAGE.glob("*.py") if path.name != "__init__.py"}
    return modules | {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}


def layered_modules() -> list[str]:
    layers = contracts()["layers"]["layers"]
    return [name.strip() for layer in layers for name in layer.split("|")]


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every contract was checked (none skipped for a name that no longer exists).
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


def test_every_module_of_the_package_is_in_exactly_one_layer():
    """A new module outside every layer would be outside the contract: it could import anything."""
    layered = layered_modules()
    assert sorted(layered) == sorted(set(layered))
    assert set(layered) == top_level_modules()


def test_only_the_backend_may_import_torch():
    """The core (every layer below the backend) must not reach torch even through another module; the layers
    above it only through the backend."""
    layered = layered_modules()
    below_backend = {f"archspec.{name}" for name in layered[layered.index("backend") + 1 :]}
    above_backend = {f"archspec.{name}" for name in layered[: layered.index("backend")]}
    core, upper = contracts()["torch-free-core"], contracts()["torch-in-backend-only"]
    assert (core["type"], set(core["source_modules"])) == ("forbidden", below_backend)
    assert core.get("allow_indirect_imports", False) is False
    assert (upper["type"], set(upper["source_modules"])) == ("forbidden", above_backend)
    assert {"torch", "torchvision"} <= set(core["forbidden_modules"]) & set(upper["forbidden_modules"])
