"""Plugins (issue 13 §4): the example package under examples/ pip-installed into a temporary directory (on
PYTHONPATH of fresh processes, so this process's registry stays the built-in one), then used from the CLI, the
schema, codegen and the op contract test; broken plugins (an import error, a name clash, a bad block file) are
hand-made distributions (a ``.dist-info`` folder with ``entry_points.txt`` is all importlib.metadata reads)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clitools import REPO_ROOT, run_cli, subprocess_env, write_spec

EXAMPLE = REPO_ROOT / "examples" / "archspec-plugin-example"

PIP_INSTALL = (sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index")
CONTRACT_TEST = (sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "tests/unit/test_op_contract.py")
GATED = """\
archspec: 1
name: gated
input: [3, 32, 32]
layers:
  - gated_conv: {out: 16}
  - hard_gate: {bias: false}
  - global_avgpool
  - flatten
  - linear: {out: 10}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example plugin, installed (non-editable, offline, no dependencies: archspec and torch are this
    interpreter's) into a folder of its own."""
    root = tmp_path_factory.mktemp("plugin")
    source = root / "source"
    shutil.copytree(EXAMPLE, source)  # setuptools writes build files next to the sources: not into the repo
    target = root / "site"
    subprocess.run(
        [*PIP_INSTALL, "--target", str(target), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def archspec(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env=subprocess_env(site))


def python(site: Path, code: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(site),
        cwd=cwd,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_list_shows_the_plugins_op_and_block(site):
    ops = archspec(site, "list", "ops")
    assert ops.returncode == 0, ops.stderr
    line = next(line for line in ops.stdout.splitlines() if line.strip().startswith("hard_gate "))
    assert "hardsigmoid" in line and "[bias]" in line and "from plugin 'example'" in line
    blocks = archspec(site, "list", "blocks")
    assert "gated_conv" in blocks.stdout and ops.stderr == blocks.stderr == ""
    assert "hard_gate" not in run_cli("list", "ops").stdout  # not installed: not there


def test_a_spec_using_the_plugin_checks_to_the_compiled_modules_numbers(site, tmp_path):
    spec = write_spec(tmp_path, GATED)
    checked = archspec(site, "check", str(spec), "--format", "json")
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    # Ground truth: the compiled module's tensors and FlopCounterMode over a real forward pass.
    measured = python(
        site,
        textwrap.dedent(f"""
            import torch
            from torch.utils.flop_counter import FlopCounterMode
            import archspec
            model = archspec.compile({str(spec)!r})
            with FlopCounterMode(display=False) as counter:
                out = model(torch.randn(1, 3, 32, 32))
            print(repr((sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers()),
                        counter.get_total_flops() // 2, tuple(out.shape),
                        sorted(model.state_dict()))))
        """),
    )
    params, buffers, macs, shape, keys = ast.literal_eval(measured)
    totals = report["totals"]
    assert (totals["params"], totals["buffers"], totals["macs"]) == (params, buffers, macs)
    assert shape == (1, 10)
    assert "0.gate.fc.weight" in keys and "1.fc.weight" in keys
    unchecked = write_spec(tmp_path, GATED, "again.yaml")
    assert run_cli("check", str(unchecked)).returncode == 1  # without the plugin: unknown op


def test_the_plugins_op_passes_the_op_contract_test(site):
    """tests/unit/test_op_contract.py's own checks, run where the plugin is installed, on its examples."""
    result = subprocess.run(
        [*CONTRACT_TEST, "-k", "hard_gate"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=subprocess_env(site),
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if line.startswith("PASSED ")]
    assert len(passed) == 6 and all("hard_gate" in line for line in passed)  # 1-D, 2-D, 3-D at batch 1 and 3


@pytest.mark.slow  # three processes importing torch
def test_build_verify_and_codegen_match(site, tmp_path):
    spec = write_spec(tmp_path, GATED)
    built = archspec(site, "build", str(spec), "--verify", "-q")
    assert built.returncode == 0, built.stderr
    generated = tmp_path / "gated_model.py"
    made = archspec(site, "codegen", str(spec), "--output", str(generated))
    assert made.returncode == 0, made.stderr
    assert "class HardGate(nn.Module)" in generated.read_text(encoding="utf-8")
    # The generated file needs only torch (run without the plugin on the path) and equals the compiled module.
    saved = tmp_path / "compiled.pt"
    python(
        site,
        f"import torch, archspec\nmodel = archspec.compile({str(spec)!r}).eval()\nx = torch.randn(2, 3, 32, 32)\n"
        f"torch.save({{'state': model.state_dict(), 'x': x, 'y': model(x)}}, {str(saved)!r})",
    )
    standalone = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy, sys, torch\nsaved = torch.load(sys.argv[2])\n"
            "model = runpy.run_path(sys.argv[1])['build_model']().eval()\n"
            "model.load_state_dict(saved['state'], strict=True)\nprint(torch.equal(model(saved['x']), saved['y']))",
            str(generated),
            str(saved),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert standalone.stdout.strip() == "True", standalone.stderr


def test_the_schema_offers_the_plugins_op_and_block(site, tmp_path):
    schema = json.loads(archspec(site, "schema").stdout)
    assert {"op.hard_gate", "block.gated_conv"} <= set(schema["$defs"])
    assert "op.hard_gate" not in json.loads(run_cli("schema").stdout)["$defs"]


def test_check_stays_torch_free_and_scans_only_for_names_that_are_not_built_in(site, tmp_path):
    spec = write_spec(tmp_path, GATED)
    probe = (
        "import sys, archspec.cli\n"
        "assert archspec.cli.main(['check', sys.argv[1], '-q']) == 0\n"
        "print(repr(sorted(m for m in sys.modules if m.startswith(('torch', 'archspec_plugin_example')))))"
    )

    def imported(target: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", probe, target], capture_output=True, text=True, env=subprocess_env(site)
        )
        assert result.returncode == 0, result.stderr
        return ast.literal_eval(result.stdout)

    assert imported(str(spec)) == ["archspec_plugin_example", "archspec_plugin_example.ops"]
    assert imported("lenet5") == []  # built-in names only: the entry points are never read


# Broken plugins, each a distribution of its own written by hand.


def fake_plugin(site: Path, name: str, files: dict[str, str], attributes: str = "") -> None:
    """A distribution ``NAME`` whose entry point ``NAME`` names the package ``NAME`` holding ``files``."""
    package = site / name
    package.mkdir(parents=True)
    for file, text in files.items():
        (package / file).write_text(textwrap.dedent(text), encoding="utf-8")
    if attributes:
        init = package / "__init__.py"
        init.write_text((init.read_text(encoding="utf-8") if init.exists() else "") + attributes, encoding="utf-8")
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[archspec.plugins]\n{name} = {name}\n", encoding="utf-8")


OP_MODULE = """
    from archspec.ops.base import Op
    from archspec.ops.registry import register

    @register
    class Fine(Op):
        '''A pass-through.'''
        name = "{first}"

    @register
    class Second(Op):
        '''Another.'''
        name = "{second}"
"""


def test_a_plugin_that_fails_to_import_is_disabled_with_a_warning(tmp_path):
    site = tmp_path / "site"
    fake_plugin(site, "broken_import", {"__init__.py": "import no_such_module_anywhere\n"})
    listing = run_cli("list", "ops", env=subprocess_env(site))
    assert listing.returncode == 0 and "conv " in listing.stdout
    assert "archspec: warning: plugin 'broken_import' (broken_import, from broken_import) is disabled" in listing.stderr
    assert "ModuleNotFoundError" in listing.stderr and "Traceback" not in listing.stderr
    spec = write_spec(tmp_path, "archspec: 1\nname: s\ninput: [3, 8, 8]\nlayers:\n  - broken_op\n")
    checked = run_cli("check", str(spec), env=subprocess_env(site))
    assert checked.returncode == 1
    assert "unknown op 'broken_op'" in checked.stderr
    assert "plugin broken_import failed to load: see its warning above" in checked.stderr
    assert checked.stderr.count("archspec: warning:") == 1 and "Traceback" not in checked.stderr


def test_a_plugin_taking_a_built_in_name_is_disabled_and_registers_nothing(tmp_path):
    site = tmp_path / "site"
    fake_plugin(site, "clash", {"__init__.py": OP_MODULE.format(first="clash_fine", second="relu")})
    listing = run_cli("list", "ops", env=subprocess_env(site))
    assert listing.returncode == 0
    assert "it registers the op 'relu', a name the built-in op already has" in listing.stderr
    assert "clash_fine" not in listing.stdout  # what it registered before the clash is gone too
    assert "relu " in listing.stdout and "Traceback" not in listing.stderr


def test_two_plugins_with_one_name_the_second_is_disabled(tmp_path):
    site = tmp_path / "site"
    fake_plugin(site, "first_plugin", {"__init__.py": OP_MODULE.format(first="shared_name", second="own_one")})
    fake_plugin(site, "second_plugin", {"__init__.py": OP_MODULE.format(first="own_two", second="shared_name")})
    listing = run_cli("list", "ops", env=subprocess_env(site))
    assert "plugin 'second_plugin'" in listing.stderr and "the op of plugin 'first_plugin'" in listing.stderr
    assert "own_one" in listing.stdout and "own_two" not in listing.stdout


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ("blocks:\n  b: [unclosed\n", "<plugin bad_blocks>/blocks.yaml:3:1: error: <spec>: YAML syntax"),
        (
            "archspec: 1\nname: x\ninput: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - convv: {out: 8}\n"
            "layers:\n  - b\n",
            "<plugin bad_blocks>/blocks.yaml:7:9: error: blocks.b.layers[0].convv: unknown op 'convv'",
        ),
        (
            "archspec: 1\nname: x\ninput: [3, 8, 8]\nblocks:\n  residual:\n    layers:\n      - relu\n"
            "layers:\n  - relu\n",
            "its block 'residual' has the name of a built-in block",
        ),
    ],
    ids=["yaml", "unknown-op", "name-clash"],
)
def test_a_bad_block_file_disables_the_plugins_blocks_not_its_ops(tmp_path, blocks, message):
    site = tmp_path / "site"
    module = OP_MODULE.format(first="kept_op", second="kept_too")
    fake_plugin(
        site, "bad_blocks", {"__init__.py": module, "blocks.yaml": blocks}, "ARCHSPEC_BLOCKS = ['blocks.yaml']\n"
    )
    spec = write_spec(
        tmp_path, "archspec: 1\nname: s\ninput: [3, 8, 8]\nlayers:\n  - kept_op\n  - residual: {out: 3}\n"
    )
    checked = run_cli("check", str(spec), "-q", env=subprocess_env(site))
    assert checked.returncode == 0, checked.stderr  # its op and the built-in blocks still work
    assert "archspec: warning:" in checked.stderr and message in checked.stderr, checked.stderr
    assert "plugin 'bad_blocks'" in checked.stderr and "Traceback" not in checked.stderr


LAYER_OP = """
    from archspec.ops.base import Op
    from archspec.ops.registry import register

    @register
    class Layered(Op):
        '''Built from the plugin's own layer class.'''
        name = "layered_op"

        def build(self, nn, args, x):
            return nn.Layered()
"""


@pytest.mark.parametrize("command", ["build", "codegen"])
def test_a_layer_module_that_cannot_be_used_is_an_error_naming_the_plugin(tmp_path, command):
    site = tmp_path / "site"
    files = {"__init__.py": LAYER_OP, "layers.py": "raise ImportError('no torch here')\n"}
    layers = "ARCHSPEC_LAYERS = ['bad_layers.layers', 'bad_layers.missing']\n"
    fake_plugin(site, "bad_layers", files, layers)
    spec = write_spec(tmp_path, "archspec: 1\nname: s\ninput: [3, 8, 8]\nlayers:\n  - layered_op\n")
    assert run_cli("check", str(spec), "-q", env=subprocess_env(site)).returncode == 0  # check never imports them
    result = run_cli(command, str(spec), *(["-q"] if command == "build" else []), env=subprocess_env(site))
    assert result.returncode == 1, result.stderr
    assert "error: <spec>: plugin 'bad_layers' (bad_layers, from bad_layers): " in result.stderr
    expected = "importing bad_layers.layers failed: ImportError" if command == "build" else "bad_layers.missing"
    assert expected in result.stderr and "Traceback" not in result.stderr


CONTAINER_MODULE = """
    from archspec.ops.containers._merge import Elementwise
    from archspec.ops.containers.base import ContainerExample
    from archspec.ops.registry import register_container

    @register_container
    class Summed(Elementwise):
        '''Sums its branches (a plugin's container reusing archspec's Add module).'''
        name, order = "summed", 90
        module = "Add"
        flow_step = "add"
        examples = [ContainerExample({}, [[{"conv": {"out": 4, "kernel": 3, "padding": 1}}], []], (4, 6, 6))]
"""


def test_a_plugins_container_parses_checks_and_passes_the_contract_test(tmp_path):
    site = tmp_path / "site"
    fake_plugin(site, "summing", {"__init__.py": CONTAINER_MODULE})
    text = (
        "archspec: 1\nname: s\ninput: [4, 8, 8]\nlayers:\n  - summed: {branches: [[conv: {out: 4, kernel: 1}], []]}\n"
    )
    spec = write_spec(tmp_path, text)
    checked = run_cli("check", str(spec), "--format", "json", env=subprocess_env(site))
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["totals"]["params"] == 4 * 4 + 4  # the 1×1 conv: weight and bias
    listing = run_cli("list", "containers", env=subprocess_env(site))
    assert "summed" in listing.stdout and "from plugin 'summing'" in listing.stdout
    result = subprocess.run(
        [*CONTRACT_TEST, "-k", "container_example and summed"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=subprocess_env(site),
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len([line for line in result.stdout.splitlines() if line.startswith("PASSED ")]) == 2  # batch 1 and 3
