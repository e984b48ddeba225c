"""The module compiled from ``archspec explain``'s spec is the module compiled from the spec it explains: the same
state-dict keys, the same submodule paths with the same classes, and — with the original's weights loaded
strictly — the same outputs in eval mode. Ground truth: the two modules compiled from the two specs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch

import archspec
from archspec.render.explain import render_explained


def compiled_pair(name: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.yaml"
        path.write_text(render_explained(archspec.expand(name)), encoding="utf-8")
        return archspec.compile(name), archspec.compile(path)


def example_input(name: str) -> torch.Tensor:
    shape = archspec.expand(name).input
    vocab = getattr(shape, "vocab", None)
    if vocab is not None:  # a token input: random indices of its length
        return torch.randint(0, vocab, (2, *shape), generator=torch.Generator().manual_seed(0))
    return torch.randn(2, *shape, generator=torch.Generator().manual_seed(0))


# lenet5: plain; resnet18: blocks with inlined merges; googlenet: blocks, train-only heads of one inlined block
# (InceptionAux); unet: routed `from` skips; convnext_tiny: parameter items; gpt_tiny: a token input.
NETWORKS = ["lenet5", "resnet18", "googlenet", "unet", "convnext_tiny", "gpt_tiny"]


@pytest.mark.parametrize("name", NETWORKS)
def test_the_explained_spec_compiles_to_the_same_keys_paths_and_classes(name):
    original, explained = compiled_pair(name)
    assert list(explained.state_dict()) == list(original.state_dict())
    assert [(path, type(module).__name__) for path, module in explained.named_modules()] == [
        (path, type(module).__name__) for path, module in original.named_modules()
    ]
    assert [(k, p.shape) for k, p in explained.named_parameters()] == [
        (k, p.shape) for k, p in original.named_parameters()
    ]


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "unet", "gpt_tiny", "googlenet"])
def test_with_the_originals_weights_the_outputs_are_the_same(name):
    original, explained = compiled_pair(name)
    explained.load_state_dict(original.state_dict(), strict=True)
    original.eval(), explained.eval()
    x = example_input(name)
    with torch.no_grad():
        expected, actual = original(x), explained(x)
    assert torch.equal(actual, expected)
