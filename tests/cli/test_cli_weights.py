"""``archspec build SPEC --weights FILE [--no-strict]`` (issue 12 §1): the module is built with the file's
weights — checked against torchvision's resnet18 computing the same outputs — and saved, verified and reported
like any other; what does not fit is a ``FILE: error:`` (exit 1), or with ``--no-strict`` a warning (exit 0);
misused options are usage errors (exit 2). Every bad file's message is in the error corpus (tests/errors,
weights_corpus)."""

from __future__ import annotations

import pytest
import torch
import torchvision
from clitools import cli_runner, run_cli, write_spec

import archspec

TINY = """archspec: 1
name: tiny
input: [2, 6, 6]
params: {classes: 3}
layers:
  - conv: {out: 4, kernel: 3}
  - batchnorm
  - relu
  - global_avgpool
  - flatten
  - linear: {out: $classes}
"""


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory):
    """torchvision's resnet18 (seeded, with batch-norm statistics that are not the initial ones), and its state
    dict saved as a training script does: inside {"model": ..., "epoch": ...}."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("running_mean"):
                tensor.normal_(0, 0.1)
            elif name.endswith("running_var"):
                tensor.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("weights") / "resnet18_epoch90.pth"
    torch.save({"model": model.state_dict(), "epoch": 90}, path)
    return model.eval(), path


@pytest.fixture
def tiny(tmp_path):
    """The tiny spec and a state dict of its module with seeded values: (spec path, weights path, state)."""
    spec = write_spec(tmp_path, TINY, "tiny.yaml")
    torch.manual_seed(1)
    state = archspec.compile(spec).state_dict()
    weights = tmp_path / "tiny.pth"
    torch.save(state, weights)
    return spec, weights, state


def test_build_with_weights_saves_a_checkpoint_that_computes_what_torchvision_computes(cli, resnet18_file, tmp_path):
    source, weights = resnet18_file
    code, out, err = cli("build", "resnet18", "--weights", str(weights), "--save", str(tmp_path / "r18.pt"))
    assert code == 0, err
    assert "resnet18" in out  # the report
    assert f"weights: 122 entries read from {weights} (its 'model' entry)" in err
    model = archspec.load_checkpoint(tmp_path / "r18.pt").eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), source(x))


def test_verify_and_quiet_work_with_weights(cli, tiny):
    spec, weights, _ = tiny
    code, out, err = cli("build", str(spec), "--weights", str(weights), "--verify", "-q")
    assert (code, out, err) == (0, "", "")
    code, _, err = cli("build", str(spec), "--weights", str(weights), "--verify", "--strict")
    assert code == 0, err
    assert "verify: 6 modules" in err


def test_a_misfit_is_an_error_and_no_strict_loads_the_rest_with_warnings(cli, tiny, tmp_path):
    spec, _, state = tiny
    other = dict(state)
    other["5.weight"] = torch.zeros(10, 4)  # saved for another num_classes
    path = tmp_path / "ten_classes.pth"
    torch.save(other, path)
    code, out, err = cli("build", str(spec), "--weights", str(path), "-q")
    assert code == 1 and out == ""
    assert err.splitlines()[1] == (
        f"{path}: error: '5.weight' is 10×4 float32 in the file but 3×4 float32 in the module — build the network "
        "with the params the weights were saved with (--set KEY=VALUE), or pass --no-strict to keep the module's "
        "own '5.weight'"
    )
    saved = tmp_path / "partly.pt"
    code, out, err = cli("build", str(spec), "--weights", str(path), "--no-strict", "-q", "--save", str(saved))
    assert code == 0 and out == ""
    # Warnings are printed even with -q: a module that is not what the file holds must not go unnoticed.
    assert err.splitlines()[0] == (
        f"{path}: warning: loaded 8 of the module's 9 entries from the file; 1 is of another shape — the module "
        "keeps its own values for the entries not loaded"
    )
    model = archspec.load_checkpoint(saved)
    assert torch.equal(model.get_submodule("0").weight, state["0.weight"])
    assert model.get_submodule("5").weight.shape == (3, 4)


def test_misused_options_are_usage_errors(cli, tiny, tmp_path):
    spec, weights, _ = tiny
    assert cli("build", str(spec), "--no-strict")[0] == 2
    code, _, err = cli("build", str(spec), "--strict")
    assert code == 2
    assert "archspec: error: --strict applies to --weights FILE, and none is given" in err
    checkpoint = tmp_path / "tiny.pt"
    assert cli("build", str(spec), "--save", str(checkpoint), "-q")[0] == 0
    code, _, err = cli("build", str(checkpoint), "--weights", str(weights))
    assert code == 2
    assert "is a checkpoint and holds its own weights" in err


def test_a_weights_file_that_is_missing_is_reported_with_the_file_beside_it(cli, tiny):
    spec, weights, _ = tiny
    code, out, err = cli("build", str(spec), "--weights", str(weights.with_suffix(".pt")))
    assert (code, out) == (1, "")
    assert err == f"{weights.with_suffix('.pt')}: error: no such file — did you mean '{weights}'?\n"


def test_help_text(capsys):
    from archspec.cli import main

    with pytest.raises(SystemExit):
        main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--weights FILE" in text and "--strict, --no-strict" in text
    assert "torch.load(weights_only=True)" in text and ".safetensors" in text


def test_real_process(tiny):
    spec, weights, _ = tiny
    result = run_cli("build", str(spec), "--weights", str(weights), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"weights: 9 entries read from {weights}\n"
