"""``archspec.load_weights_in_order``: torchvision's weights into a compiled bundled spec, by position.

Ground truth is torchvision's own forward pass: after the transfer both modules compute the same outputs.
"""

from __future__ import annotations

import pytest
import torch
import torchvision

import archspec


def random_state(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            if key.endswith("running_var"):
                tensor.uniform_(0.5, 1.5, generator=generator)
            else:
                tensor.uniform_(-0.3, 0.3, generator=generator)
    return model.eval()


@pytest.mark.parametrize("name", ["resnet18", "alexnet"])
def test_torchvision_weights_give_torchvision_outputs(name):
    reference = random_state(getattr(torchvision.models, name)(weights=None), seed=3)
    compiled = archspec.compile(name).eval()
    archspec.load_weights_in_order(compiled, reference.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), reference(x), rtol=1e-4, atol=1e-5)


def test_a_module_is_a_source_too():
    reference = random_state(torchvision.models.resnet18(weights=None), seed=5)
    compiled = archspec.compile("resnet18")
    archspec.load_weights_in_order(compiled, reference)
    assert torch.equal(compiled.get_submodule("fc").weight, reference.fc.weight)


def test_different_layer_counts_are_refused():
    compiled = archspec.compile("resnet18")
    with pytest.raises(archspec.WeightMismatch, match=r"the source has \d+ state entries, the target \d+"):
        archspec.load_weights_in_order(compiled, torchvision.models.resnet34(weights=None))


def test_a_shape_mismatch_names_both_entries():
    compiled = archspec.compile("resnet18", [3, 32, 32])
    spec = archspec.load("resnet18", overrides={"num_classes": 10})
    other = archspec.compile(spec, [3, 32, 32])
    with pytest.raises(archspec.WeightMismatch, match=r"entry \d+: 'fc.weight' is \[1000, 512\] float32 but the "
                                                      r"source's 'fc.weight' is \[10, 512\] float32"):
        archspec.load_weights_in_order(compiled, other)
    assert issubclass(archspec.WeightMismatch, ValueError)
