"""Start-up stays lazy (issue 10 §5): what a fresh ``archspec check`` process imports and builds is counted here,
never timed (benchmarks/startup.py times it).

Each probe runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
import yaml
from clitools import REPO_ROOT, subprocess_env

# Reports, as a Python literal (json is one of the modules counted): the modules imported, the archspec pydantic
# models whose validator is built (before the command runs and after), and whether the block library was read.
PROBE = """
import contextlib, io, sys

import archspec.cli

imported_by_cli = sorted(sys.modules)
argv = sys.argv[1:]
built_before = None
if argv:
    # Everything `check` needs, imported before it runs: importing must build no validator.
    import pydantic
    import archspec.analysis.report, archspec.ir.expand, archspec.spec.validate
    from archspec.ops.registry import all_ops

    all_ops()

    def models():
        stack, found = [pydantic.BaseModel], []
        while stack:
            for sub in stack.pop().__subclasses__():
                stack.append(sub)
                if sub.__module__.split(".")[0] == "archspec":
                    found.append(sub)
        return found

    built_before = sorted({m.__qualname__ for m in models() if m.__pydantic_complete__})
    with contextlib.redirect_stdout(io.StringIO()):
        code = archspec.cli.main(argv)
    assert code == 0, code
    from archspec.blocks.library import _library

    imported = sorted(sys.modules)
    built = sorted({m.__qualname__ for m in models() if m.__pydantic_complete__})
    print(repr({"imported_by_cli": imported_by_cli, "imported": imported, "built_before": built_before,
                "built": built, "library_read": _library.cache_info().currsize > 0}))
else:
    print(repr({"imported_by_cli": imported_by_cli}))
"""


def probe(*argv: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout)


def loaded(modules: list[str], *prefixes: str) -> list[str]:
    """The modules in ``modules`` that are one of ``prefixes`` or inside one of them."""
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


@pytest.fixture(scope="module")
def check_lenet5() -> dict:
    return probe("check", "lenet5")


def test_importing_the_cli_imports_neither_the_api_nor_its_dependencies():
    """`archspec --version`, `--help` and every tool that imports archspec.cli pay for argparse only."""
    modules = probe()["imported_by_cli"]
    assert (
        loaded(
            modules,
            "pydantic",
            "yaml",
            "torch",
            "importlib.metadata",
            "json",
            "archspec.api",
            "archspec.ops",
            "archspec.spec",
            "archspec.loading.yaml_loader",
            "archspec.loading.resolve",
            "archspec.ir",
            "archspec.analysis",
            "archspec.backend",
            "archspec.render",
        )
        == []
    )


def test_check_imports_nothing_it_does_not_use(check_lenet5):
    # The table is printed without json; the backend, the other renderers, the schema, the checkpoint
    # reader's torch and `--version`'s package metadata are for other commands.
    assert (
        loaded(
            check_lenet5["imported"],
            "torch",
            "jsonschema",
            "json",
            "archspec.backend",
            "archspec.version",
            "archspec.spec.schema",
            "archspec.blocks.schema",
            "archspec.render.codegen",
            "archspec.render.graph",
            "archspec.render.markdown",
            "archspec.render.listing",
        )
        == []
    )


def test_a_command_builds_only_its_own_parser_and_help_builds_them_all(monkeypatch, capsys):
    import argparse

    from archspec.cli import main

    built: list[str | None] = []
    original = argparse.ArgumentParser.__init__

    def counting(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        built.append(kwargs.get("prog"))  # type: ignore[arg-type]
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(argparse.ArgumentParser, "__init__", counting)
    assert main(["check", "lenet5", "-q"]) == 0
    assert built == ["archspec", "archspec check"]
    built.clear()
    with pytest.raises(SystemExit):
        main(["--help"])
    from archspec.commands.parsers import COMMANDS

    # every registered command (others are added by later issues), the first ones in this order
    commands = tuple(COMMANDS)
    assert commands[:8] == ("build", "check", "list", "graph", "codegen", "explain", "export", "schema")
    assert built == ["archspec", *(f"archspec {command}" for command in commands)]
    listed = capsys.readouterr().out
    assert all(f"    {command} " in listed for command in commands)


def test_validators_are_built_on_first_use_for_the_ops_the_spec_uses(check_lenet5):
    from archspec.ops.containers import SEQUENTIAL
    from archspec.ops.registry import get_op

    spec = yaml.safe_load((REPO_ROOT / "archspec" / "specs" / "lenet5.yaml").read_text(encoding="utf-8"))
    used = {item if isinstance(item, str) else next(key for key in item if key != "name") for item in spec["layers"]}
    expected = {get_op(name).Args.__qualname__ for name in used} | {SEQUENTIAL.Args.__qualname__, "SpecModel"}
    assert check_lenet5["built_before"] == []
    assert set(check_lenet5["built"]) == expected


def test_the_block_library_is_read_only_for_a_spec_that_uses_a_built_in_block(check_lenet5):
    assert check_lenet5["library_read"] is False
    assert probe("check", "resnet18")["library_read"] is True  # its `residual` blocks are built-in
