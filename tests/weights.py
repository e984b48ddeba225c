"""Weights for parity tests: deterministic random values for a reference (torchvision or hand-written) model,
and their transfer into a compiled spec: by name (strictly, for the specs that follow torchvision), or in
registration order (hand-written references and mutated specs, whose names differ) (DESIGN.md §5).

Why random batchnorm statistics and affine parameters: torchvision's own init leaves every batchnorm at
weight 1, bias 0, running mean 0, running variance 1, i.e. ``x / sqrt(1 + eps)`` in eval mode — a positive
scaling, which commutes with ReLU and pooling. A spec that put a batchnorm before instead of after a ReLU (or
ignored a buffer, or swapped two batchnorms of the same width) would then compute the same outputs.
"""

from __future__ import annotations

import torch


def randomise(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Deterministic random values for every parameter and buffer of ``model`` (in place; returned).

    Weights (2-D and up) are He-uniform over the fan-in, so activations keep their scale through deep
    networks; 1-D weights (batchnorm's gamma) lie in [0.5, 1.5], biases (beta included) in [-0.1, 0.1],
    running means in [-0.2, 0.2] and running variances in [0.5, 1.5]; ``num_batches_tracked`` is 0; other
    integer buffers (indices) stay as they are.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in model.state_dict(keep_vars=True).items():
            if key.endswith("num_batches_tracked"):
                tensor.zero_()
            elif not tensor.is_floating_point():
                continue  # an index, not a weight: Swin's relative_position_index says where the table is read
            elif key.endswith("running_var"):
                tensor.uniform_(0.5, 1.5, generator=generator)
            elif key.endswith("running_mean"):
                tensor.uniform_(-0.2, 0.2, generator=generator)
            elif tensor.dim() > 1:
                bound = (6 / (tensor[0].numel())) ** 0.5  # He-uniform over the fan-in
                tensor.uniform_(-bound, bound, generator=generator)
            elif key.endswith("weight"):
                tensor.uniform_(0.5, 1.5, generator=generator)
            else:
                tensor.uniform_(-0.1, 0.1, generator=generator)
    return model


def copy_weights(source: torch.nn.Module, target: torch.nn.Module) -> None:
    """``source``'s state dict values into ``target``'s keys, paired in registration order, shapes and
    dtypes checked.

    ``assign=True`` adopts the tensors, so a module compiled on the meta device becomes a real one. Parameters
    are shared (nothing here changes them); buffers are copied, since training-mode batchnorm updates them.
    """
    source_state, target_state = source.state_dict(keep_vars=True), target.state_dict(keep_vars=True)
    assert len(source_state) == len(target_state), (
        f"{len(source_state)} reference entries, {len(target_state)} archspec entries"
    )
    parameter_ids = {id(p) for p in source.parameters()}
    transferred = {}
    for (key, ours), (their_key, theirs) in zip(target_state.items(), source_state.items(), strict=True):
        assert ours.shape == theirs.shape, f"{their_key} {tuple(theirs.shape)} -> {key} {tuple(ours.shape)}"
        assert ours.dtype == theirs.dtype, (key, their_key)
        transferred[key] = theirs.detach() if id(theirs) in parameter_ids else theirs.detach().clone()
    target.load_state_dict(transferred, strict=True, assign=True)


def load_by_name(source: torch.nn.Module, target: torch.nn.Module) -> None:
    """``source``'s state dict into ``target`` by key, as users load torchvision's weights:
    ``load_state_dict(strict=True)``, so every key must be the same on both sides.

    ``assign=True`` adopts the tensors (a module compiled on the meta device becomes a real one); parameters are
    shared, buffers copied, as in :func:`copy_weights`."""
    parameter_ids = {id(p) for p in source.parameters()}
    state = {
        key: value.detach() if id(value) in parameter_ids else value.detach().clone()
        for key, value in source.state_dict(keep_vars=True).items()
    }
    target.load_state_dict(state, strict=True, assign=True)


def numel(tensors) -> int:
    return sum(t.numel() for t in tensors)
