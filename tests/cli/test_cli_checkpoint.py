"""Checkpoints (``build --save``): ``torch.load(weights_only=True)`` reads them, the public
``archspec.load_checkpoint`` rebuilds the same module (same outputs), ``build CHECKPOINT`` reports and
rebuilds one, and ``check CHECKPOINT`` says what the file is instead of failing to read it as text."""

from __future__ import annotations

import json
import re

import pytest
import torch
from clitools import cli_runner, write_spec

import archspec
import archspec.api
from archspec.backend.checkpoint import save

SMALL = """archspec: 1
name: small
input: [3, 12, 12]
params: {width: 8}
layers:
  - conv: {out: $width, kernel: 3, padding: 1, bias: false}
  - batchnorm
  - relu
  - maxpool: {kernel: 2}
  - global_avgpool
  - flatten
  - linear: {out: 5}
"""


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture
def trained(tmp_path):
    """A model with random weights and batchnorm statistics (not the initial ones), saved to a checkpoint."""
    spec = archspec.load(write_spec(tmp_path, SMALL, "small.yaml"), overrides={"width": 6})
    model = archspec.compile(spec)
    torch.manual_seed(0)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5)
    path = tmp_path / "small.pt"
    save(model, spec, path)
    return model, path


def outputs(model, x):
    with torch.no_grad():
        return model.eval()(x)


def test_load_checkpoint_is_public_and_gives_the_same_outputs(trained):
    model, path = trained
    loaded = archspec.load_checkpoint(path)
    assert isinstance(loaded, torch.nn.Module)
    assert loaded.get_submodule("0").out_channels == 6  # the override is saved with the spec
    x = torch.randn(3, 3, 12, 12)
    assert torch.equal(outputs(loaded, x), outputs(model, x))
    assert "load_checkpoint" in archspec.__all__


def test_checkpoint_loads_with_weights_only(trained):
    model, path = trained
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "archspec-checkpoint/1"
    assert payload["overrides"] == {"width": 6}
    assert payload["input"] == [3, 12, 12]
    for key, tensor in model.state_dict().items():
        assert torch.equal(payload["state_dict"][key], tensor), key


def test_cli_save_round_trip(cli, tmp_path, monkeypatch):
    """The module that ``build --save`` wrote and the one load_checkpoint rebuilds compute the same thing."""
    built = []
    honest = archspec.api.compile
    monkeypatch.setattr(archspec.api, "compile", lambda *a, **k: built.append(honest(*a, **k)) or built[-1])
    path = tmp_path / "lenet.pt"
    code, _, err = cli("build", "lenet5", "--set", "num_classes=3", "--save", str(path), "-q")
    assert code == 0, err
    monkeypatch.setattr(archspec.api, "compile", honest)
    x = torch.randn(2, 1, 32, 32)
    assert torch.equal(outputs(archspec.load_checkpoint(path), x), outputs(built[0], x))


def test_load_checkpoint_rejects_other_torch_files(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not an archspec checkpoint"):
        archspec.load_checkpoint(path)


def test_check_says_a_checkpoint_is_not_a_spec(cli, trained):
    _, path = trained
    code, out, err = cli("check", str(path))
    assert code == 1
    assert out == ""
    assert err.startswith(f"{path}: error: {path} is an archspec checkpoint")
    assert "archspec.load_checkpoint" in err and f"archspec build {path}" in err
    assert "UTF-8" not in err and "Traceback" not in err


def test_check_says_another_torch_file_is_not_a_spec(cli, tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    code, _, err = cli("check", str(path))
    assert code == 1
    assert re.match(rf"^{re.escape(str(path))}: error: the file is a zip archive", err), err


def test_build_rebuilds_a_checkpoint(cli, trained, tmp_path):
    model, path = trained
    code, out, err = cli("build", str(path), "--verify", "--format", "json", "--batch", "2")
    assert code == 0, err
    report = json.loads(out)
    assert report["name"] == "small"
    assert report["totals"]["params"] == sum(p.numel() for p in model.parameters())
    assert report["outputs"] == [{"name": "output", "shape": [2, 5]}]
    copy = tmp_path / "copy.pt"
    code, _, err = cli("build", str(path), "--save", str(copy), "-q")
    assert code == 0, err
    x = torch.randn(1, 3, 12, 12)
    assert torch.equal(outputs(archspec.load_checkpoint(copy), x), outputs(model, x))  # the weights carried over


@pytest.mark.parametrize("option", [["--set", "width=4"], ["--input", "3,16,16"]])
def test_build_cannot_change_a_checkpoint(cli, trained, option):
    _, path = trained
    code, _, err = cli("build", str(path), *option)
    assert code == 2
    assert "checkpoint" in err and option[0] in err
