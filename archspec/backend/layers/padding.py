"""Zero padding at the end of one dim (the ``pad`` op), as torchvision's Swin pads an odd map before patch merging
(``F.pad(x, (0, 0, 0, W % 2, 0, H % 2))``). No parameters and no buffers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Pad(nn.Module):
    """Appends zeros to dim ``dim`` (torch numbering, batch included): ``after`` of them, then more until the
    length is a multiple of ``multiple``."""

    def __init__(self, dim: int, after: int = 0, multiple: int = 1) -> None:
        super().__init__()
        self.dim, self.after, self.multiple = dim, after, multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dim = self.dim % x.dim()
        grown = x.shape[dim] + self.after
        amount = self.after + (self.multiple - grown % self.multiple) % self.multiple  # no negative %: TorchScript
        # F.pad lists (before, after) pairs from the last dim backwards: zeros for the dims after this one.
        pairs = [0] * (2 * (x.dim() - 1 - dim)) + [0, amount]
        return F.pad(x, pairs)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, after={self.after}, multiple={self.multiple}"
