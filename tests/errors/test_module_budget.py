"""The default module budget (issue 9, "unbounded work"): a five-line spec may ask for a million modules, so
every entry point — ``check``, ``build``, ``graph``, ``codegen`` and the Python API — refuses more than
100,000 unless asked (``--max-nodes N``, ``max_nodes=N``), with an error located at the item whose expansion
passes the budget. The budget is counted while expanding: the tests count the IR nodes built before the
refusal, which stays a small fraction of the network asked for (no timing).
"""

from __future__ import annotations

import pytest
from errortools import assert_located_error, assert_located_report

import archspec
from archspec.cli import main
from archspec.ir.graph import Node

# The examples: 999,991 modules (under the old cap of 1,000,000), and 200,001 from a bundled block.
REPEAT = "archspec: 1\nname: big\ninput: [3, 8, 8]\nlayers:\n  - relu:\n    repeat: 999990\n"
VGG = "archspec: 1\nname: big\ninput: [3, 8, 8]\nlayers:\n  - vgg_block: {convs: 100000, out: 8}\n"
# 60 sibling repeats of 2,000 copies (2,001 modules each): 120,060 modules, each repeat well within the budget
# on its own; the 50th (layers[49]) takes the network to 100,050.
SIBLINGS = "archspec: 1\nname: big\ninput: [3, 8, 8]\nlayers:\n" + "  - relu:\n    repeat: 2000\n" * 60
BUDGET_FIX = "raise the limit with --max-nodes N (max_nodes=N in Python)"


def write(tmp_path, text: str, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def nodes_built(monkeypatch):
    """Counts the IR nodes constructed (every module of a network is one, copies of a repeat included)."""
    built = [0]
    construct = Node.__init__

    def counted(self, *args, **kwargs):
        built[0] += 1
        construct(self, *args, **kwargs)

    monkeypatch.setattr(Node, "__init__", counted)
    return built


@pytest.mark.parametrize(
    "text, located, total",
    [(REPEAT, ("layers", 0, "repeat"), 999_991), (SIBLINGS, ("layers", 49), 120_060)],
    ids=["repeat-999990", "sixty-sibling-repeats"],
)
def test_default_budget_refuses_before_building_the_network(tmp_path, nodes_built, text, located, total):
    path = write(tmp_path, text)
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(path)
    assert_located_error(info.value, path)
    diagnostic = info.value.diagnostics[0]
    assert "the network expands to more than 100,000 modules" in diagnostic.message
    assert diagnostic.path[: len(located)] == located
    assert BUDGET_FIX in diagnostic.fix
    # Expansion counts a large network with a memoised estimate before building it: the refusal costs a few
    # thousand nodes, not the 100,000 of the budget, let alone the network's own.
    assert nodes_built[0] < 10_000 < total


def test_a_bundled_block_that_passes_the_budget_points_at_the_users_call(tmp_path, nodes_built):
    path = write(tmp_path, VGG)
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(path)
    assert_located_error(info.value, path)
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.path == ("layers", 0, "vgg_block")
    assert (diagnostic.location.line, diagnostic.location.column) == (5, 16)
    assert "more than 100,000 modules (100,000 copies of 3 modules)" in diagnostic.message
    assert diagnostic.fix == f"lower the arguments of 'vgg_block' that set its size, or {BUDGET_FIX}"
    assert nodes_built[0] < 100


@pytest.mark.parametrize(
    "command",
    [["check"], ["check", "--format", "json"], ["build"], ["build", "--verify"], ["graph"], ["codegen"], ["explain"]],
    ids=" ".join,
)
def test_every_command_applies_the_default_budget(tmp_path, capsys, command):
    path = write(tmp_path, REPEAT)
    assert main([*command, path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert_located_report(err, path)
    assert err.count("\n") == 1
    assert "more than 100,000 modules" in err and "--max-nodes N" in err


@pytest.mark.parametrize("entry", ["analyze", "expand", "compile"])
def test_every_api_function_applies_the_default_budget(tmp_path, entry):
    path = write(tmp_path, REPEAT)
    with pytest.raises(archspec.SpecError, match="more than 100,000 modules") as info:
        getattr(archspec, entry)(path)
    assert_located_error(info.value, path)
    assert "max_nodes=N" in info.value.diagnostics[0].fix


def test_the_budget_is_a_default_that_callers_raise_or_lower(tmp_path):
    """100,000 copies and their group are 100,001 modules: one past the default, accepted when asked for."""
    path = write(tmp_path, REPEAT.replace("999990", "100000"))
    with pytest.raises(archspec.SpecError, match="more than 100,000 modules"):
        archspec.analyze(path)
    assert len(archspec.analyze(path, max_nodes=100_001).layers) == 100_001
    assert main(["check", "--quiet", "--max-nodes", "100001", path]) == 0


def test_compile_takes_the_budget_too(tmp_path):
    path = write(tmp_path, REPEAT.replace("999990", "10"))  # 11 modules
    with pytest.raises(archspec.SpecError, match="more than 10 modules"):
        archspec.compile(path, max_nodes=10)
    assert len(list(archspec.compile(path, max_nodes=11).modules())) == 12  # the root module and 11 more
