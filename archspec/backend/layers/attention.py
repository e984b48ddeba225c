"""Attention: self-attention over a sequence with ``nn.MultiheadAttention``'s parameters (ViT's encoder, a
GPT-style decoder), and Swin's shifted window attention over a channels-last map (torchvision's
``ShiftedWindowAttention``: the same parameter and buffer names, the same arithmetic in the same order).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.MultiheadAttention):
    """Multi-head self-attention over one ``[N, L, D]`` tensor (query, key and value alike), as torchvision's
    ViT ``EncoderBlock`` calls ``nn.MultiheadAttention(D, heads, dropout, batch_first=True)``:
    ``attn(x, x, x, need_weights=False)[0]``. A subclass, so the state-dict keys stay ``in_proj_weight``,
    ``in_proj_bias``, ``out_proj.weight``, ``out_proj.bias`` and torch's fused inference path still runs.
    ``causal``: position i attends to positions 0..i only (a decoder)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, causal: bool = False):
        super().__init__(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True)
        self.causal = causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        future: torch.Tensor | None = None
        if self.causal:
            # True above the diagonal: a position may not attend to later ones. With is_causal, torch hands the
            # mask to scaled_dot_product_attention as its causal flag (nn.MultiheadAttention requires both).
            length = x.shape[1]
            future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
        if torch.jit.is_scripting():  # TorchScript compiles no super() call: the same computation, spelt out
            return self._scripted(x, future)
        return super().forward(x, x, x, need_weights=False, attn_mask=future, is_causal=self.causal)[0]

    def _scripted(self, x: torch.Tensor, future: torch.Tensor | None) -> torch.Tensor:
        """nn.MultiheadAttention's general path (its fused inference kernel is not scriptable), sequence first."""
        sequence = x.transpose(0, 1)
        out = F.multi_head_attention_forward(
            sequence,
            sequence,
            sequence,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            need_weights=False,
            attn_mask=future,
            is_causal=self.causal,
        )[0]
        return out.transpose(0, 1)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, causal={self.causal}"


class ShiftedWindowAttention(nn.Module):
    """Swin's window attention (Liu et al. 2021, §3.2) over ``[N, H, W, C]``: the map is padded on the bottom
    and right to whole windows, cyclically shifted by ``shift_size`` (no shift along a dim that one window
    covers), cut into windows of ``window_size``; each window runs multi-head attention with a learned
    relative position bias, positions that the shift brought together from opposite edges masked apart
    (-100 before the softmax); then the windows are put back, the shift undone and the padding cut off.

    Parameters as torchvision's ``ShiftedWindowAttention`` (``qkv``, ``proj``,
    ``relative_position_bias_table``, created in that order so a seed draws the same numbers) and its
    persistent ``relative_position_index`` buffer; the arithmetic is torchvision's, op for op, so outputs
    are bitwise equal with the same weights."""

    def __init__(
        self,
        dim: int,
        window_size: list[int],
        shift_size: list[int],
        num_heads: int,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        attention_dropout: float = 0.0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.window_size = list(window_size)
        self.shift_size = list(shift_size)
        self.num_heads = num_heads
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        rows, cols = self.window_size
        # One learned bias per head for every relative offset (dh, dw) in (-(wh-1)..wh-1) × (-(ww-1)..ww-1).
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * rows - 1) * (2 * cols - 1), num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer("relative_position_index", relative_position_index(rows, cols))

    def relative_position_bias(self) -> torch.Tensor:
        """``[1, heads, N, N]``: the table's entry for the offset between window tokens i and j."""
        tokens = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index].view(tokens, tokens, -1)
        return bias.permute(2, 0, 1).contiguous().unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, height, width, channels = x.shape
        rows, cols = self.window_size
        x = F.pad(x, (0, 0, 0, -width % cols, 0, -height % rows))
        padded_h, padded_w = x.shape[1], x.shape[2]
        # A window as large as the (padded) map along a dim: shifting along it would change nothing but the mask.
        shift_h = 0 if rows >= padded_h else self.shift_size[0]
        shift_w = 0 if cols >= padded_w else self.shift_size[1]
        shifted = shift_h + shift_w > 0
        if shifted:
            x = torch.roll(x, shifts=(-shift_h, -shift_w), dims=(1, 2))
        grid_h, grid_w = padded_h // rows, padded_w // cols
        windows = grid_h * grid_w
        tokens = rows * cols
        x = _to_windows(x, rows, cols).reshape(batch * windows, tokens, channels)

        head_dim = channels // self.num_heads
        qkv = F.linear(x, self.qkv.weight, self.qkv.bias)
        q, k, v = qkv.reshape(batch * windows, tokens, 3, self.num_heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        attention = (q * head_dim**-0.5).matmul(k.transpose(-2, -1))
        attention = attention + self.relative_position_bias()
        if shifted:
            mask = _shift_mask(x, padded_h, padded_w, rows, cols, shift_h, shift_w)
            attention = attention.view(batch, windows, self.num_heads, tokens, tokens) + mask.unsqueeze(1).unsqueeze(0)
            attention = attention.view(-1, self.num_heads, tokens, tokens)
        attention = F.softmax(attention, dim=-1)
        attention = F.dropout(attention, p=self.attention_dropout, training=self.training)
        x = attention.matmul(v).transpose(1, 2).reshape(batch * windows, tokens, channels)
        x = F.linear(x, self.proj.weight, self.proj.bias)
        x = F.dropout(x, p=self.dropout, training=self.training)

        x = x.view(batch, grid_h, grid_w, rows, cols, channels).permute(0, 1, 3, 2, 4, 5)
        x = x.reshape(batch, padded_h, padded_w, channels)
        if shifted:
            x = torch.roll(x, shifts=(shift_h, shift_w), dims=(1, 2))
        return x[:, :height, :width, :].contiguous()

    def extra_repr(self) -> str:
        return f"window_size={self.window_size}, shift_size={self.shift_size}, num_heads={self.num_heads}"


def relative_position_index(rows: int, cols: int) -> torch.Tensor:
    """For every pair (i, j) of tokens of a rows × cols window (row-major), the row of the bias table that
    holds their offset: ``(dh + rows - 1) * (2 * cols - 1) + (dw + cols - 1)``, flattened (int64)."""
    token_row = torch.arange(rows).repeat_interleave(cols)
    token_col = torch.arange(cols).repeat(rows)
    dh = token_row[:, None] - token_row[None, :] + (rows - 1)
    dw = token_col[:, None] - token_col[None, :] + (cols - 1)
    return (dh * (2 * cols - 1) + dw).flatten()


def _to_windows(x: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """``[N, H, W, C]`` → ``[N, H/rows, W/cols, rows, cols, C]``: the windows in row-major order."""
    batch, height, width, channels = x.shape
    return x.view(batch, height // rows, rows, width // cols, cols, channels).permute(0, 1, 3, 2, 4, 5)


def _shift_mask(
    like: torch.Tensor, height: int, width: int, rows: int, cols: int, shift_h: int, shift_w: int
) -> torch.Tensor:
    """``[windows, N, N]``: -100 between tokens of one window that come from different regions of the
    unshifted map, 0 elsewhere (Swin's mask for the cyclic shift). Along a shifted dim the rolled map has
    three regions (:func:`_regions`); along an unshifted dim, one."""

    label = _regions(height, rows, shift_h, like)[:, None] * 3 + _regions(width, cols, shift_w, like)[None, :]
    label = _to_windows(label[None, :, :, None], rows, cols).reshape(-1, rows * cols)
    apart = label.unsqueeze(1) != label.unsqueeze(2)
    return like.new_zeros(apart.shape).masked_fill(apart, -100.0)


def _regions(length: int, window: int, shift: int, like: torch.Tensor) -> torch.Tensor:
    """The region of each position along one dim of the rolled map: 0 up to the last window, 1 for the part of
    the last window that stayed, 2 for what wrapped round from the start; all 0 without a shift."""
    position = torch.arange(length, device=like.device)
    if shift == 0:
        return torch.zeros_like(position)
    return (position >= length - window).long() + (position >= length - shift).long()
