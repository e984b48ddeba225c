"""``archspec.load_weights_in_order``: torchvision's weights into a compiled bundled spec, by position (by key
where both have the same keys).

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
    with pytest.raises(
        archspec.WeightMismatch,
        match=r"entry \d+: 'fc.weight' is \[1000, 512\] float32 but the "
        r"source's 'fc.weight' is \[10, 512\] float32",
    ):
        archspec.load_weights_in_order(compiled, other)
    assert issubclass(archspec.WeightMismatch, ValueError)


def test_googlenet_with_aux_heads_pairs_equal_keys_by_name():
    # The aux heads are registered where they branch off here, after inception5b in torchvision: by position
    # the entries would not line up, by key they do.
    reference = random_state(torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False), 6)
    compiled = archspec.compile("googlenet")
    assert list(compiled.state_dict()) != list(reference.state_dict())  # another order...
    archspec.load_weights_in_order(compiled, reference)
    theirs = reference.state_dict()
    assert all(torch.equal(value, theirs[key]) for key, value in compiled.state_dict().items())  # ...by key


def test_other_names_are_still_paired_by_position():
    reference = random_state(torchvision.models.resnet18(weights=None), seed=7)
    renamed = {f"entry{index}": value for index, value in enumerate(reference.state_dict().values())}
    compiled = archspec.compile("resnet18").eval()
    archspec.load_weights_in_order(compiled, renamed)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), reference(x), rtol=1e-4, atol=1e-5)
