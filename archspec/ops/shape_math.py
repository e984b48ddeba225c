"""Output-size arithmetic shared by every op, each formula exactly PyTorch's (REFERENCE.md §1).

All functions work on one spatial dimension; ops apply them per dimension.
"""

from __future__ import annotations

import math

from archspec.errors import OpError


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Extent a dilated kernel covers.

    >>> effective_kernel(3, dilation=2)
    5
    """
    return dilation * (kernel - 1) + 1


def effective_kernels(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """:func:`effective_kernel` per dimension.

    >>> effective_kernels((3, 5), (2, 1))
    (5, 5)
    """
    return tuple(effective_kernel(k, d) for k, d in zip(kernel, dilation, strict=True))


def conv_output_size(
    length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, extra_padding: int = 0
) -> int:
    """``(L + 2p - d(k-1) - 1) // s + 1``; ``extra_padding`` adds an odd extra on one side (``same``).

    >>> conv_output_size(224, 7, stride=2, padding=3)
    112
    >>> conv_output_size(32, 5)
    28
    """
    return (length + 2 * padding + extra_padding - effective_kernel(kernel, dilation)) // stride + 1


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """Left and right padding of PyTorch's ``padding='same'``: the odd extra goes right.

    >>> same_padding(4)
    (1, 2)
    >>> same_padding(3, dilation=2)
    (2, 2)
    """
    total = effective_kernel(kernel, dilation) - 1
    return total // 2, total - total // 2


def pool_output_size(
    length: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """PyTorch's pooling size, including the ceil-mode rule that a window may not start in the right padding.

    >>> pool_output_size(112, 3, 2, 0, ceil_mode=True)
    56
    >>> pool_output_size(6, 2, 2, 1, ceil_mode=True)
    4
    >>> pool_output_size(5, 2, 2, 1, ceil_mode=True)
    3
    """
    span = length + 2 * padding - effective_kernel(kernel, dilation)
    if not ceil_mode:
        return span // stride + 1
    size = -(-span // stride) + 1
    if (size - 1) * stride >= length + padding:
        size -= 1
    return size


def transposed_output_size(
    length: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0
) -> int:
    """``(L-1)s - 2p + d(k-1) + output_padding + 1``.

    >>> transposed_output_size(7, 4, stride=2, padding=1)
    14
    """
    return (length - 1) * stride - 2 * padding + effective_kernel(kernel, dilation) + output_padding


def adaptive_bin(index: int, length: int, output: int) -> tuple[int, int]:
    """Input range ``[start, end)`` that adaptive pooling reads for output ``index``.

    >>> adaptive_bin(1, 10, 3)
    (3, 7)
    """
    return (index * length) // output, -(-((index + 1) * length) // output)


def interpolated_size(length: int, scale: float) -> int:
    """Size ``nn.Upsample`` produces for a scale factor: ``floor(L * scale)`` in double precision.

    >>> interpolated_size(100, 0.29)
    28
    """
    return math.floor(float(length) * float(scale))


def divisor_near(value: int, wanted: int) -> int:
    """The divisor of ``value`` closest to ``wanted``, the smaller on a tie: the fix for a number of attention
    heads that does not divide the features. Divisors come in pairs (d, value // d), so √value steps find all.

    >>> divisor_near(768, 10), divisor_near(7, 2), divisor_near(96, 5)
    (8, 1, 4)
    """
    divisors = set()
    for low in range(1, math.isqrt(value) + 1):
        if value % low == 0:
            divisors.update((low, value // low))
    return min(divisors, key=lambda d: (abs(d - wanted), d))


def check_heads_divide(heads: int, features: int, what: str, symbol: str, shown_input: str) -> None:
    """Refuse ``heads`` that do not divide the ``features`` (named ``what``: features, channels) an attention op
    splits among its heads, with the nearest number of heads that does as the fix."""
    if features % heads:
        raise OpError(
            f"{heads} heads do not divide the input's {features} {what} (input {shown_input}): each head takes "
            f"{symbol} / heads of them",
            f"use heads that divide {features} (e.g. {divisor_near(features, heads)})",
            "heads",
        )
