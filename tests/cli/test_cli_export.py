"""``archspec export SPEC --format onnx|torchscript|exported-program -o FILE`` (issue 12 §3): the file is
written only after it was loaded back and run against the eager module; what it computes is checked here
again, independently, against the module archspec.load_checkpoint rebuilds from a checkpoint with trained-looking
(random, saved) weights. Failures are one located line without a traceback, and leave no file behind."""

from __future__ import annotations

import io
import sys
import warnings

import pytest
import torch
import yaml
from clitools import cli_runner, run_cli, write_spec

import archspec

# Small enough to export in a second in every format; an adaptive pool, so that --input can change the size.
SMALL = {
    "archspec": 1,
    "name": "small",
    "input": [3, 16, 16],
    "layers": [
        {"conv": {"out": 8, "kernel": 3, "padding": 1}},
        {"batchnorm": {}},
        "relu",
        {"adaptive_avgpool": {"output": 2}},
        "flatten",
        {"linear": {"out": 5}},
    ],
}


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture
def checkpoint(tmp_path, cli):
    """A ``build --save`` checkpoint of SMALL whose weights and batch-norm statistics are random (not the initial
    ones), and the module they make, in eval mode."""
    spec = write_spec(tmp_path, yaml.safe_dump(SMALL))
    path = tmp_path / "small.pt"
    assert cli("build", str(spec), "--save", str(path), "-q")[0] == 0
    state = torch.load(path, weights_only=True)
    generator = torch.Generator().manual_seed(3)
    for tensor in state["state_dict"].values():
        if tensor.is_floating_point():
            tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)  # variances stay positive
    torch.save(state, path)
    return path, archspec.load_checkpoint(path).eval()


def load(form: str, path) -> torch.nn.Module:
    if form == "torchscript":
        return torch.jit.load(str(path))
    return torch.export.load(str(path)).module()


def run_onnx(path, x: torch.Tensor) -> torch.Tensor:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
@pytest.mark.parametrize("form", ["onnx", "torchscript", "exported-program"])
def test_the_file_computes_what_the_checkpoint_does(tmp_path, cli, checkpoint, form):
    path, model = checkpoint
    output = tmp_path / f"small.{form}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = cli("export", str(path), "--format", form, "-o", str(output))
    assert code == 0, err
    assert out == ""  # progress notes go to standard error, as build's do
    assert f"wrote {output}" in err and "its output matches the eager module's" in err
    assert "Traceback" not in err
    assert [str(w.message) for w in caught] == []  # none leaks (torch's notice that TorchScript is deprecated)
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(5))  # not the input export verified on
    with torch.no_grad():
        expected = model(x)
        actual = run_onnx(output, x) if form == "onnx" else load(form, output)(x)
    assert expected.abs().max() > 0.1  # the saved weights, not a dead network
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
    if form != "onnx":
        assert set(load(form, output).state_dict()) == set(model.state_dict())


def test_input_and_batch_set_the_exported_shape(tmp_path, cli):
    spec = write_spec(tmp_path, yaml.safe_dump(SMALL))
    output = tmp_path / "small.pt2"
    code, _, err = cli("export", str(spec), "--format", "exported-program", "-o", str(output))
    assert code == 0, err
    code, _, err = cli(
        "export", str(spec), "--format", "exported-program", "-o", str(output), "--input", "3,24,20", "--batch", "3"
    )
    assert code == 0, err
    assert "random input of shape [3, 3, 24, 20]" in err
    program = torch.export.load(str(output))
    assert program.module()(torch.randn(3, 3, 24, 20)).shape == (3, 5)
    with pytest.raises(Exception, match=r"24|shape"):  # exported for that shape, not another
        program.module()(torch.randn(3, 3, 16, 16))


def test_set_overrides_reach_the_exported_module(tmp_path, cli):
    output = tmp_path / "lenet.pt2"
    code, _, err = cli("export", "lenet5", "--set", "num_classes=7", "--format", "exported-program", "-o", str(output))
    assert code == 0, err
    assert torch.export.load(str(output)).module()(torch.randn(1, 1, 32, 32)).shape == (1, 7)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_an_export_failure_is_one_located_line_and_leaves_the_old_file(tmp_path, cli):
    """TorchScript refuses parameter items (their steps look a parameter up by a name read at run time)."""
    spec = {
        "archspec": 1,
        "name": "tokens",
        "input": [4, 6],
        "layers": [{"class_token": None, "name": "class_token"}, "flatten", {"linear": {"out": 2}}],
    }
    output = tmp_path / "tokens.pt"
    output.write_bytes(b"old")
    code, out, err = cli("export", str(write_spec(tmp_path, yaml.safe_dump(spec))), "--format", "torchscript", "-o",
                         str(output))  # fmt: skip
    assert code == 2 and out == ""
    note, error = err.splitlines()  # the progress note, then one line
    assert note == "exporting tokens as torchscript for inputs of shape [1, 4, 6] ..."
    assert error.startswith("archspec: error: --format torchscript: cannot export tokens: torch.jit.script failed: ")
    assert "class_token" in error and error.endswith(" — try --format onnx or exported-program")
    assert "Traceback" not in err
    assert output.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml", "tokens.pt"]  # no temporary file left
    # the formats that trace the module take it
    assert cli("export", str(tmp_path / "spec.yaml"), "--format", "exported-program", "-o", str(output))[0] == 0


def test_a_file_that_disagrees_with_the_module_is_not_written(tmp_path, cli, monkeypatch):
    from archspec.backend import export

    save, run = export._FORMATS["exported-program"]
    monkeypatch.setitem(export._FORMATS, "exported-program", (save, lambda data, x: [t + 1 for t in run(data, x)]))
    output = tmp_path / "lenet.pt2"
    code, _, err = cli("export", "lenet5", "--format", "exported-program", "-o", str(output))
    assert code == 3
    assert "--format exported-program: the exported file's outputs differ from the module's by up to 1" in err
    assert "please report it" in err and not output.exists()


def test_a_missing_onnx_package_is_named_with_the_command_that_installs_it(tmp_path, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # importlib.util.find_spec then finds nothing
    output = tmp_path / "lenet.onnx"
    code, out, err = cli("export", "lenet5", "--format", "onnx", "-o", str(output))
    assert code == 2 and out == ""
    assert err == (
        "archspec: error: --format onnx needs onnxruntime, not installed here: pip install onnx onnxscript "
        "onnxruntime  (or: pip install 'archspec[onnx]')\n"
    )
    assert not output.exists()


@pytest.mark.parametrize(
    ("target", "reason"),
    [("missing/lenet.onnx", "the directory missing does not exist"), (".", "is a directory; give a file name")],
)
def test_an_unwritable_output_is_a_usage_error_before_anything_is_compiled(tmp_path, cli, monkeypatch, target, reason):
    monkeypatch.chdir(tmp_path)
    compiled = []
    monkeypatch.setattr(archspec.api, "compile", lambda *a, **k: compiled.append(a))
    code, _, err = cli("export", "lenet5", "--format", "torchscript", "-o", target)
    assert code == 2
    assert err == f"archspec: error: --output {target}: {reason}\n"
    assert compiled == []


@pytest.mark.parametrize(("argv", "missing"), [(["-o", "x.onnx"], "--format"), (["--format", "onnx"], "--output/-o")])
def test_format_and_output_are_required(cli, capsys, argv, missing):
    with pytest.raises(SystemExit) as exit_status:
        cli("export", "lenet5", *argv)
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: the following arguments are required: {missing}\n")


def test_the_command_prints_no_warning_in_a_fresh_process(tmp_path):
    """The whole command as users run it: only the note, nothing from torch's exporters or onnxruntime's log."""
    output = tmp_path / "lenet.onnx"
    result = run_cli("export", "lenet5", "--format", "onnx", "-o", str(output), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("exporting lenet5 as onnx for inputs of shape [1, 1, 32, 32] ...\nwrote ")
    assert result.stderr.count("\n") == 2, result.stderr
    model = io.BytesIO(output.read_bytes())
    import onnx

    onnx.checker.check_model(onnx.load(model))


def test_a_full_disk_is_a_usage_error_after_the_export(cli):
    code, out, err = cli("export", "lenet5", "--format", "exported-program", "-o", "/dev/full", "-q")
    assert (code, out) == (2, "")
    assert err == "archspec: error: --output /dev/full: cannot write the file: No space left on device\n"


def test_the_parser_offers_the_formats_the_backend_exports():
    from archspec.backend import export
    from archspec.commands.parsers import EXPORT_FORMATS

    assert EXPORT_FORMATS == export.FORMATS == tuple(export._FORMATS)


def test_a_token_network_is_exported_for_integer_tokens(tmp_path, cli):
    output = tmp_path / "gpt.pt2"
    code, _, err = cli("export", "gpt_tiny", "--format", "exported-program", "-o", str(output), "--batch", "2")
    assert code == 0, err
    tokens = torch.randint(0, 512, (2, 64), generator=torch.Generator().manual_seed(7))
    assert torch.export.load(str(output)).module()(tokens).shape == (2, 64, 512)
