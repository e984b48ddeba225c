"""Layer normalisation over the channel dim of ``[N, C, *spatial]`` at every position: torchvision's
``LayerNorm2d`` (torchvision/models/convnext.py: permute to channels-last, ``F.layer_norm``, permute back) and
its 1-D and 3-D kin. They are ``nn.LayerNorm`` subclasses with ``normalized_shape == (C,)``, so their
parameters are ``weight`` and ``bias`` and torchvision's state dicts load as they are."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F


class _ChannelsLayerNorm(nn.LayerNorm):
    """``F.layer_norm`` over dim 1 of an input with spatial dims: channels moved last and back."""

    def forward(self, x: Tensor) -> Tensor:
        x = x.movedim(1, -1)  # torchvision's x.permute(0, 2, 3, 1) in 2-D
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)


class LayerNorm1d(_ChannelsLayerNorm):
    """Layer norm over C at every position of ``[N, C, L]``."""


class LayerNorm2d(_ChannelsLayerNorm):
    """Layer norm over C at every position of ``[N, C, H, W]`` (torchvision.models.convnext.LayerNorm2d)."""


class LayerNorm3d(_ChannelsLayerNorm):
    """Layer norm over C at every position of ``[N, C, D, H, W]``."""
