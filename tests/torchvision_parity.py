"""What every torchvision parity test measures: MACs as FlopCounterMode / 2 on the reference with autograd on,
and a strict load of the reference's state dict followed by equal outputs in eval mode."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode


def measured_macs(model: torch.nn.Module, shape: list[int], fused_attention: bool = False) -> int:
    """FlopCounterMode / 2 with autograd enabled (under no_grad, fused paths can hide their matmuls), on the model's
    device (the meta device counts the same). ``fused_attention`` counts CPU fused attention by its formula too
    (archspec.backend.verify.flop_counter), which torch's counter misses."""
    if fused_attention:
        from archspec.backend.verify import flop_counter

        counter = flop_counter()
    else:
        counter = FlopCounterMode(display=False)
    device = next(model.parameters()).device
    with counter:
        model(torch.zeros(1, *shape, device=device))
    return counter.get_total_flops() // 2


def assert_loads_strictly_and_matches(
    ours: torch.nn.Module,
    reference: torch.nn.Module,
    shape: list[int],
    same_order: bool = False,
    tolerance: float = 1e-5,
) -> None:
    """``reference``'s state dict loads into ``ours`` with strict=True and no missing or unexpected key (in the same
    order and shapes where ``same_order``); then both give the same outputs in eval mode on a batch of 2."""
    result = ours.load_state_dict(reference.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    if same_order:
        assert [t.shape for t in ours.state_dict().values()] == [t.shape for t in reference.state_dict().values()]
    ours.eval()
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=tolerance, atol=tolerance)
