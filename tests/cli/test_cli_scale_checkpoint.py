"""A checkpoint saved from a scaled spec keeps its scale: ``load_checkpoint`` rebuilds the same module, and
``build CHECKPOINT --scale`` is refused like ``--set`` (the saved params cannot change)."""

from __future__ import annotations

import torch
from clitools import run_cli, write_spec

import archspec
from archspec.backend.checkpoint import save

SPEC = """archspec: 1
name: small
input: [3, 12, 12]
params: {width: 8}
scales: {n: {width: 4}}
layers:
  - conv: {out: $width, kernel: 3, padding: 1}
  - global_avgpool
  - flatten
  - linear: {out: 5}
"""


def test_a_scaled_checkpoint_rebuilds_with_its_scale(tmp_path):
    spec = archspec.load(write_spec(tmp_path, SPEC), scale="n")
    model = archspec.compile(spec)
    path = tmp_path / "small.pt"
    save(model, spec, path)
    assert torch.load(path, weights_only=True)["scale"] == "n"
    loaded = archspec.load_checkpoint(path)
    assert loaded.get_submodule("0").out_channels == 4
    x = torch.randn(2, 3, 12, 12)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), model.eval()(x))
    refused = run_cli("build", str(path), "--scale", "n")
    assert refused.returncode == 2 and "--set, --scale and --input cannot change them" in refused.stderr
