"""Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth") as torchvision.ops.StochasticDepth
computes it: the same draws from torch's generator in the same order, so a seeded run gives torchvision's output
(torchvision is not a dependency of archspec)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class StochasticDepth(nn.Module):
    """In training, zeroes the input of each sample (``row``) or of the whole batch (``batch``) with
    probability ``p`` and divides what survives by ``1 - p``; the identity in eval and for ``p == 0``."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
        if mode not in ("batch", "row"):
            raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return input
        survival_rate = 1.0 - self.p
        size: list[int] = [1] * input.dim()
        if self.mode == "row":
            size[0] = input.shape[0]
        # torchvision.ops.stochastic_depth: torch.empty(size).bernoulli_(survival), divided by it if nonzero
        noise = torch.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return input * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"
