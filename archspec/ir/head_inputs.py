"""The input a train-only head is built for when it cannot run at the network's input.

In eval mode a train-only head never runs (torchvision's auxiliary classifiers), so it must not constrain the
eval-mode input: Inception v3's aux head needs 299×299 images in training, yet the network classifies 224×224
ones in eval. Its modules still exist (the network holds their weights), so they are built for the smallest
input the head accepts — as torch builds them whatever the input will be.
"""

from __future__ import annotations

from collections.abc import Callable

from archspec.ops.base import MAX_SIZE, Shape


def raised(x: Shape, size: int) -> Shape:
    """``x`` with every spatial size raised to at least ``size`` (channels kept).

    >>> raised((768, 12, 20), 17)
    (768, 17, 20)
    """
    return (x[0], *(max(s, size) for s in x[1:]))


def smallest_accepted(accepts: Callable[[Shape], bool], x: Shape) -> Shape | None:
    """The least ``raised(x, t)`` that ``accepts`` (``x`` itself is rejected), or None if none up to
    :data:`MAX_SIZE` is.

    Acceptance is taken to grow with the size, as for every chain of convolutions and pools: ``t`` doubles
    from the smallest spatial size until accepted, then the bracket is halved — about 2·log2(t) probes.

    >>> smallest_accepted(lambda shape: min(shape[1:]) >= 17, (8, 12, 13))
    (8, 17, 17)
    >>> smallest_accepted(lambda shape: False, (8, 4)) is None
    True
    """
    if len(x) < 2:
        return None
    low = min(x[1:])  # raised(x, low) is x: rejected
    high = low
    while True:
        high = min(high * 2, MAX_SIZE)
        if accepts(raised(x, high)):
            break
        if high == MAX_SIZE:
            return None
        low = high
    while high - low > 1:
        middle = (low + high) // 2
        if accepts(raised(x, middle)):
            high = middle
        else:
            low = middle
    return raised(x, high)
