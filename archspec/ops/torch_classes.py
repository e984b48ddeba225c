"""Picking the torch module class of an op family by the number of spatial dimensions (``nn.Conv1d/2d/3d``).

Op files are torch-free: the backend hands their builders ``torch.nn``, and a builder names its family here.
"""

from __future__ import annotations

from typing import Any


def spatial_class(nn: Any, family: str, dims: int) -> Any:
    """The class ``nn.<family><dims>d``: ``nn.Conv2d`` for ``("Conv", 2)``.

    >>> from types import SimpleNamespace
    >>> spatial_class(SimpleNamespace(MaxPool3d="the 3-D max pool"), "MaxPool", 3)
    'the 3-D max pool'
    >>> spatial_class(SimpleNamespace(), "Conv", 4)
    Traceback (most recent call last):
    ...
    ValueError: Conv has 1-D, 2-D and 3-D forms, not 4-D
    """
    if not 1 <= dims <= 3:  # getattr would find nothing, or a module class of another kind
        raise ValueError(f"{family} has 1-D, 2-D and 3-D forms, not {dims}-D")
    return getattr(nn, f"{family}{dims}d")
