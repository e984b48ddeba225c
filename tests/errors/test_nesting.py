"""How deep modules may nest (issue 4): the expanded network nests at most ``MAX_NESTING`` levels, and every
network at the limit can be analysed, rendered, compiled, run with hooks and code-generated — in a fresh
process with Python's default recursion limit. One level deeper is a located spec error, never a
RecursionError (which used to surface as exit 3 from ``check``, or from ``build --verify`` and ``codegen``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from errortools import CORPUS, assert_located_error, assert_located_report, run_cli

import archspec
from archspec.cli import main
from archspec.ir.expand import MAX_NESTING
from archspec.loading.resolve import bundled_specs


def nested_spec(containers: int, calls: int) -> str:
    """A block ``b`` holding ``containers`` nested sequentials (a relu in each) around a call of itself, called
    ``calls`` times: its deepest relu sits ``(containers + 1) * calls + 1`` levels deep (blocks count)."""
    lines = []
    for level in range(containers):
        indent = "      " + "  " * level
        lines += [f"{indent}- sequential:", f"{indent}  - relu"]
    indent = "      " + "  " * containers
    lines += [f"{indent}- b: {{d: '${{d - 1}}'}}", f"{indent}  if: '${{d > 1}}'"]
    body = "\n".join(lines)
    return (
        f"archspec: 1\nname: nested\ninput: [2, 4]\nblocks:\n  b:\n    params: {{d: required}}\n    layers:\n"
        f"{body}\nlayers:\n  - b: {{d: {calls}}}\n"
    )


def depth_of(path: str) -> int:
    return max(node.depth for node in archspec.expand(path).modules())


@pytest.fixture(scope="module")
def at_the_limit(tmp_path_factory) -> str:
    """A spec whose deepest module sits exactly MAX_NESTING levels deep."""
    path = tmp_path_factory.mktemp("nesting") / "limit.yaml"
    path.write_text(nested_spec(6, 9), encoding="utf-8")  # 7 * 9 + 1 = 64
    assert depth_of(str(path)) == MAX_NESTING
    return str(path)


def test_one_level_deeper_is_a_located_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "deeper.yaml"
    path.write_text(nested_spec(7, 8), encoding="utf-8")  # 8 * 8 + 1 = 65
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(str(path))
    assert_located_error(info.value, str(path))
    assert f"more than {MAX_NESTING} levels deep" in str(info.value)
    assert "block 'b' is 8 calls deep" in str(info.value)


def test_the_audit_case_is_a_spec_error_in_the_api():
    """7 sequentials around a recursive call, 31 calls deep: ``archspec.analyze`` raised RecursionError."""
    path = str(CORPUS / "151_nesting_too_deep.yaml")
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(path)
    assert_located_error(info.value, path)


def test_the_limit_is_configurable_in_the_expander(at_the_limit):
    from archspec.ir.expand import ExpandLimits, expand

    spec = archspec.load(at_the_limit)
    with pytest.raises(archspec.SpecError, match="more than 10 levels deep"):
        expand(spec, limits=ExpandLimits(max_nesting=10))


def test_bundled_specs_nest_far_below_the_limit():
    deepest = max(max(node.depth for node in archspec.expand(name).modules()) for name in bundled_specs())
    assert deepest * 4 < MAX_NESTING, deepest


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_check_at_the_limit_renders_every_format(at_the_limit, fmt, capsys):
    assert main(["check", "--format", fmt, at_the_limit]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert max(row["depth"] for row in json.loads(out)["layers"]) == MAX_NESTING


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_graph_at_the_limit(at_the_limit, fmt, capsys):
    assert main(["graph", "--format", fmt, at_the_limit]) == 0
    assert capsys.readouterr().out


def test_build_verify_at_the_limit_in_a_fresh_process(at_the_limit):
    """Torch's forward pass recurses once per level (about 7 frames each with hooks): the limit must leave it
    room under Python's default recursion limit, as ``archspec build --verify`` runs it."""
    assert sys.getrecursionlimit() >= 1000
    result = run_cli("build", "--verify", "--format", "json", at_the_limit, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "match a real forward pass" in result.stderr


def test_codegen_at_the_limit_compiles_and_builds_the_same_module(at_the_limit, tmp_path):
    """The generated source stays within Python's 200 nested brackets (deep parts become functions) and
    builds a module with the compiled one's paths and, from the same seed, its weights."""
    import torch

    target = tmp_path / "generated.py"
    assert main(["codegen", "-o", str(target), at_the_limit]) == 0
    source = target.read_text(encoding="utf-8")
    assert "def _build_part_1()" in source
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, str(target), "exec"), namespace)  # the test runs the source it just generated
    torch.manual_seed(0)
    generated = namespace["build_model"]()
    torch.manual_seed(0)
    compiled = archspec.compile(at_the_limit)
    assert [p for p, _ in generated.named_modules()] == [p for p, _ in compiled.named_modules()]
    x = torch.randn(1, 2, 4)
    torch.testing.assert_close(generated(x), compiled(x))


def test_codegen_at_the_limit_runs_as_a_script(at_the_limit, tmp_path):
    import subprocess

    target = tmp_path / "generated.py"
    assert main(["codegen", "-o", str(target), at_the_limit]) == 0
    result = subprocess.run([sys.executable, str(target)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "CompiledNetwork" in result.stdout


def test_deeper_spec_on_the_command_line_is_one_located_line():
    path = str(CORPUS / "151_nesting_too_deep.yaml")
    for command in (["check"], ["build", "--verify"], ["codegen"], ["graph"]):
        result = run_cli(*command, path)
        assert result.returncode == 1, (command, result.stderr)
        assert_located_report(result.stderr, path)
        assert Path(path).name in result.stderr
