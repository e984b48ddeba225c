"""Parity with torchvision (DESIGN.md §5): the compiled spec has torchvision's parameter count and MACs and,
given torchvision's weights (copied in registration order), computes the same outputs.

torchvision models are built with ``weights=None`` (nothing is downloaded) and given seeded random weights;
they are as good as trained ones for checking that both modules compute the same function.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

import archspec

# name -> (bundled spec, overrides)
NETWORKS = {
    "alexnet": ("alexnet", {}),
    "vgg11": ("vgg11", {}),
    "vgg16": ("vgg16", {}),
    "vgg11_bn": ("vgg11", {"batchnorm": True}),
}
SMALL_INPUT, SMALL_BATCH = [3, 64, 64], 2


def torchvision_macs(model: torch.nn.Module, shape: list[int]) -> int:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(*shape))
    return counter.get_total_flops() // 2


def randomise(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Deterministic random values for every parameter and buffer, with variance-preserving weights and
    non-trivial batchnorm statistics (torchvision's own init leaves running_mean 0 / running_var 1, which would
    hide a swapped or ignored buffer)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in model.state_dict(keep_vars=True).items():
            if key.endswith("num_batches_tracked"):
                tensor.zero_()
            elif key.endswith("running_var"):
                tensor.uniform_(0.5, 1.5, generator=generator)
            elif key.endswith("running_mean"):
                tensor.uniform_(-0.2, 0.2, generator=generator)
            elif tensor.dim() > 1:
                bound = (6 / (tensor[0].numel())) ** 0.5  # He-uniform over the fan-in
                tensor.uniform_(-bound, bound, generator=generator)
            elif key.endswith("weight"):
                tensor.uniform_(0.5, 1.5, generator=generator)
            else:
                tensor.uniform_(-0.1, 0.1, generator=generator)
    return model


def copy_weights(source: torch.nn.Module, target: torch.nn.Module) -> None:
    """torchvision's state dict values into ``target``'s keys, in registration order, shapes checked.

    ``assign=True`` adopts the tensors, so a module compiled on the meta device becomes a real one. Parameters
    are shared (nothing here changes them); buffers are copied, since training-mode batchnorm updates them.
    """
    source_state, target_state = source.state_dict(keep_vars=True), target.state_dict(keep_vars=True)
    assert len(source_state) == len(target_state)
    parameter_ids = {id(p) for p in source.parameters()}
    transferred = {}
    for (key, ours), (tv_key, theirs) in zip(target_state.items(), source_state.items(), strict=True):
        assert ours.shape == theirs.shape, (key, tv_key)
        assert ours.dtype == theirs.dtype, (key, tv_key)
        transferred[key] = theirs.detach() if id(theirs) in parameter_ids else theirs.detach().clone()
    target.load_state_dict(transferred, assign=True)


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def pair(request):
    """(name, spec, torchvision model, archspec model with torchvision's weights), both in eval mode.

    Both are constructed on the meta device (no time spent on initialisation that is overwritten anyway); the
    torchvision model then gets random weights and the archspec module receives them in registration order.
    """
    name = request.param
    spec_name, overrides = NETWORKS[name]
    spec = archspec.load(spec_name, overrides=overrides)
    with torch.device("meta"):
        reference = getattr(torchvision.models, name)(weights=None)
        ours = archspec.compile(spec)
    # The compiled module owns exactly torchvision's parameters and buffers, before any copying.
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())
    assert sum(b.numel() for b in ours.buffers()) == sum(b.numel() for b in reference.buffers())
    reference = randomise(reference.to_empty(device="cpu"), seed=0).eval()
    copy_weights(reference, ours)
    ours.eval()
    assert all(t.device.type == "cpu" for t in ours.state_dict().values())
    yield name, spec, reference, ours
    del reference, ours


def test_parameter_and_buffer_counts(pair):
    _, spec, reference, ours = pair
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())
    assert sum(b.numel() for b in ours.buffers()) == sum(b.numel() for b in reference.buffers())
    assert sum(p.numel() for p in ours.parameters() if p.requires_grad) == \
        sum(p.numel() for p in reference.parameters() if p.requires_grad)
    report = archspec.analyze(spec)
    assert report.totals.params == sum(p.numel() for p in reference.parameters())
    assert report.totals.buffers == sum(b.numel() for b in reference.buffers())


def test_state_dict_shapes_in_registration_order(pair):
    _, _, reference, ours = pair
    assert [t.shape for t in ours.state_dict().values()] == [t.shape for t in reference.state_dict().values()]


def test_same_outputs(pair):
    _, _, reference, ours = pair
    x = torch.randn(SMALL_BATCH, *SMALL_INPUT, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, actual = reference(x), ours(x)
    assert actual.shape == expected.shape == (SMALL_BATCH, 1000)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


def test_same_outputs_on_a_non_square_input(pair):
    name, _, reference, ours = pair
    shape = (1, 3, 64, 96) if name == "alexnet" else (1, 3, 32, 48)  # alexnet needs at least 63x63
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)


def test_macs_equal_torchvision_flop_counter(pair):
    _, spec, reference, _ = pair
    measured = torchvision_macs(reference, [SMALL_BATCH, *SMALL_INPUT])
    assert archspec.analyze(spec, SMALL_INPUT, batch=SMALL_BATCH).totals.macs == measured


@pytest.mark.slow
def test_same_outputs_at_224(pair):
    _, _, reference, ours = pair
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_macs_equal_torchvision_flop_counter_at_224(pair):
    _, spec, reference, _ = pair
    assert archspec.analyze(spec).totals.macs == torchvision_macs(reference, [1, 3, 224, 224])


@pytest.mark.slow
def test_training_mode_batchnorm_matches(pair):
    """In training mode batchnorm normalises with batch statistics and updates its running buffers. Compare the
    feature extractors, where no dropout acts, and the buffers afterwards."""
    _, _, reference, ours = pair
    x = torch.randn(2, *SMALL_INPUT, generator=torch.Generator().manual_seed(4))
    reference.features.train()
    ours.features.train()
    try:
        with torch.no_grad():
            torch.testing.assert_close(ours.features(x), reference.features(x), rtol=1e-4, atol=1e-5)
        for theirs, mine in zip(reference.features.buffers(), ours.features.buffers(), strict=True):
            torch.testing.assert_close(mine, theirs)
    finally:
        reference.eval()
        ours.eval()
