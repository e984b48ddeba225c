"""Parameter-free layout and selection modules for the ops that torch.nn has no module for (``permute``,
``transpose``, ``reshape``, ``select``, ``slice``; torch has ``nn.Flatten``, ``nn.Unflatten`` and
``nn.ChannelShuffle``). Dims are torch's, batch included. No parameters and no buffers, so state dicts are
unaffected (torchvision's ConvNeXt and Swin use ``torchvision.ops.misc.Permute``, which has none either).
"""

import torch
from torch import nn


class Permute(nn.Module):
    """``x.permute(*dims)``, as ``torchvision.ops.misc.Permute``."""

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Transpose(nn.Module):
    """``x.transpose(dim0, dim1)``."""

    def __init__(self, dim0: int, dim1: int):
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)

    def extra_repr(self) -> str:
        return f"dim0={self.dim0}, dim1={self.dim1}"


class Reshape(nn.Module):
    """``x.reshape(N, *shape)``: the features in another shape, the batch kept."""

    def __init__(self, shape: list[int]):
        super().__init__()
        self.shape = list(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape([x.shape[0]] + self.shape)  # noqa: RUF005 (TorchScript cannot unpack a list here)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Select(nn.Module):
    """``x.select(dim, index)``: ``x[:, 0]`` is ``Select(1, 0)``."""

    def __init__(self, dim: int, index: int):
        super().__init__()
        self.dim, self.index = dim, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.select(self.dim, self.index)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, index={self.index}"


class Slice(nn.Module):
    """``x[..., start:stop:step, ...]`` along ``dim`` (Python's rules for negative start and stop)."""

    def __init__(self, dim: int, start: int, stop: int | None, step: int):
        super().__init__()
        self.dim, self.start, self.stop, self.step = dim, start, stop, step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten.slice(x, self.dim, self.start, self.stop, self.step)

    def extra_repr(self) -> str:
        stop = "" if self.stop is None else str(self.stop)
        return f"dim={self.dim}, {self.start}:{stop}:{self.step}"
