"""PyTorch's output-size formulas per spatial dim (REFERENCE.md §1), written out here independently of
archspec so the strategies can build specs that are valid by construction."""

from __future__ import annotations

import math


def extent(kernel: int, dilation: int = 1) -> int:
    return dilation * (kernel - 1) + 1


def conv_out(
    length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, right_padding: int | None = None
) -> int:
    right = padding if right_padding is None else right_padding
    return (length + padding + right - extent(kernel, dilation)) // stride + 1


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def pool_out(
    length: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> int:
    num = length + 2 * padding - extent(kernel, dilation)
    if not ceil_mode:
        return num // stride + 1
    out = -(-num // stride) + 1
    if (out - 1) * stride >= length + padding:
        out -= 1
    return out


def transposed_out(
    length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0
) -> int:
    return (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def upsampled(length: int, scale: float) -> int:
    return math.floor(length * scale)
