"""Weights from another module with the same layers, matched by registration order rather than by name.

The bundled specs have torchvision's names (``model.load_state_dict(torchvision_model.state_dict())`` works);
this is for other sources whose names differ but whose layers are registered in the same order. Where the keys
are the same (in another order: GoogLeNet's aux heads are registered where they branch off here, after
inception5b in torchvision), entries are paired by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class WeightMismatch(ValueError):
    """The two state dicts do not line up: a different number of entries, or a shape that differs."""


def load_weights_in_order(target: Any, source: Any, strict_dtype: bool = True) -> None:
    """Copy ``source``'s state (an ``nn.Module`` or a state dict) into ``target`` entry by entry, in order.

    Every parameter and buffer is matched by position — by key, where both have the same keys; shapes (and
    dtypes, with ``strict_dtype``) must agree.

    Raises:
        WeightMismatch: naming the first pair of entries that disagree, with both keys and shapes.
    """
    import torch  # here: WeightMismatch can be imported (and caught) without paying for torch

    source_state = source.state_dict() if hasattr(source, "state_dict") else source
    if not isinstance(source_state, Mapping):
        raise TypeError(f"source must be a module or a state dict, got {type(source).__name__}")
    target_state = target.state_dict()
    if len(source_state) != len(target_state):
        raise WeightMismatch(
            f"the source has {len(source_state)} state entries, the target "
            f"{len(target_state)}: the layers differ (compare print(model) of both)"
        )
    transferred = {}
    pairs = zip(target_state.items(), source_state.items(), strict=True)
    if set(target_state) == set(source_state):
        pairs = (((key, ours), (key, source_state[key])) for key, ours in target_state.items())
    for position, ((key, ours), (their_key, theirs)) in enumerate(pairs):
        if not isinstance(theirs, torch.Tensor):
            raise WeightMismatch(f"entry {position} of the source ({their_key!r}) is not a tensor")
        if ours.shape != theirs.shape or (strict_dtype and ours.dtype != theirs.dtype):
            raise WeightMismatch(
                f"entry {position}: {key!r} is {_describe(ours)} but the source's {their_key!r} "
                f"is {_describe(theirs)}: the layers differ or are registered in another order"
            )
        transferred[key] = theirs
    target.load_state_dict(transferred)


def _describe(tensor: Any) -> str:
    return f"{list(tensor.shape)} {str(tensor.dtype).removeprefix('torch.')}"
