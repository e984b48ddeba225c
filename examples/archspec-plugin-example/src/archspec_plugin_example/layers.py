"""The torch module of ``hard_gate``. Imports only torch: archspec's code generator copies this file's source."""

import torch
from torch import nn


class HardGate(nn.Module):
    """x · hardsigmoid(fc(mean of x over its spatial dims))."""

    def __init__(self, channels: int, bias: bool = True) -> None:
        super().__init__()
        self.fc = nn.Linear(channels, channels, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = list(range(2, x.dim()))
        gate = nn.functional.hardsigmoid(self.fc(x.mean(dim=spatial)))
        return x * gate.reshape(gate.shape + (1,) * len(spatial))
