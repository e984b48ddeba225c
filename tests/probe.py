"""Empirical receptive field of a compiled module: which input positions influence one output element.

The probe is measurement, independent of archspec's static analysis. It must never miss a dependency, so it
removes the two ways a real network hides one from the gradient:

- max pooling passes gradient only to the arg-max: every ``nn.MaxPoolNd`` becomes a depthwise convolution
  of ones with the same kernel, stride, padding and dilation (ceil mode is emulated by extra right padding,
  and the output size is asserted equal to the pool's); adaptive max pooling becomes adaptive average
  pooling over the same bins;
- ReLU (and friends) pass no gradient below zero, saturating ones (tanh, sigmoid, relu6) none at the
  extremes: every weight is made positive and normalised (each output is a positive convex-like
  combination of its inputs plus a small positive bias), batchnorm uses mean 0 / variance 1 and positive
  affine parameters, the input is strictly positive, and the work is done in float64. So every
  pre-activation stays positive and of order one, where all the activations have non-zero slope.

The output element's channels are weighted by random positive numbers before backprop (a plain sum over a
channel softmax has zero gradient). Nonzero input-gradient positions give the span per spatial dim.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

Span = tuple[int, int]

_MAXPOOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
_ADAPTIVE_MAXPOOLS = {
    nn.AdaptiveMaxPool1d: F.adaptive_avg_pool1d,
    nn.AdaptiveMaxPool2d: F.adaptive_avg_pool2d,
    nn.AdaptiveMaxPool3d: F.adaptive_avg_pool3d,
}
_CONVS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX_POOLS = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}


def _tuple(value: int | Sequence[int], dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


class OnesPool:
    """A depthwise convolution of ones over exactly the windows of a max pool (ceil mode included)."""

    def __init__(self, pool: nn.Module, dims: int):
        self.dims = dims
        self.kernel = _tuple(pool.kernel_size, dims)
        self.stride = _tuple(pool.stride if pool.stride is not None else pool.kernel_size, dims)
        self.padding = _tuple(pool.padding, dims)
        self.dilation = _tuple(pool.dilation, dims)
        self.ceil_mode = pool.ceil_mode

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            expected = _MAX_POOLS[self.dims](
                x, self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode
            ).shape
        pads: list[tuple[int, int]] = []
        for d in range(self.dims):
            k, s, p, dil, length = self.kernel[d], self.stride[d], self.padding[d], self.dilation[d], x.shape[2 + d]
            extent = dil * (k - 1) + 1
            # the window of the pool's last output must fit: extra zeros on the right emulate ceil mode
            extra = max(0, (expected[2 + d] - 1) * s + extent - (length + 2 * p))
            pads.append((p, p + extra))
        flat = [v for left, right in reversed(pads) for v in (left, right)]
        channels = x.shape[1]
        weight = torch.ones(channels, 1, *self.kernel, dtype=x.dtype)
        y = _CONVS[self.dims](F.pad(x, flat), weight, stride=self.stride, dilation=self.dilation, groups=channels)
        assert y.shape == expected, f"ones-conv stand-in gives {tuple(y.shape)}, the max pool {tuple(expected)}"
        return y


def _stand_in(module: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Replace ``module``'s computation in place (containers may hold direct references to their children,
    so swapping the child object in its parent is not enough); paths and hooks stay as they are."""
    module.forward = forward


def prepare(module: nn.Module, seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Module:
    """An eval-mode copy of ``module`` in ``dtype`` in which every dependency shows up in the gradient."""
    model = copy.deepcopy(module).to(dtype).eval()
    generator = torch.Generator().manual_seed(seed)
    for sub in model.modules():
        if isinstance(sub, _MAXPOOLS):
            _stand_in(sub, OnesPool(sub, _MAXPOOLS.index(type(sub)) + 1))
        elif type(sub) in _ADAPTIVE_MAXPOOLS:
            _stand_in(sub, functools.partial(_ADAPTIVE_MAXPOOLS[type(sub)], output_size=sub.output_size))
    with torch.no_grad():
        for sub in model.modules():
            for name, param in sub.named_parameters(recurse=False):
                values = 0.5 + torch.rand(param.shape, generator=generator, dtype=param.dtype)
                if name == "weight" and param.dim() >= 2:
                    # conv / linear: each output's weights sum to about 1 over its fan-in
                    fan_in = (
                        param[0].numel()
                        if not isinstance(sub, nn.modules.conv._ConvTransposeNd)
                        else param.shape[0] * param[0, 0].numel()
                    )
                    values = values / fan_in
                elif name == "bias":
                    values = values * 0.01
                param.copy_(values)
            if isinstance(sub, nn.modules.batchnorm._BatchNorm):
                # batch statistics would couple the batch elements that receptive_spans probes separately
                assert sub.track_running_stats, "the probe needs batchnorm with running statistics"
                sub.running_mean.zero_()
                sub.running_var.fill_(1.0)
    model._probe_dtype = dtype  # marks a prepared copy: receptive_spans uses it as it is
    return model


class _Stop(Exception):
    def __init__(self, output: torch.Tensor):
        self.output = output


def _forward_to(model: nn.Module, x: torch.Tensor, path: str | None) -> torch.Tensor:
    """The output of submodule ``path`` (the whole model when None); stops the forward pass there."""
    if path is None:
        return model(x)

    def hook(_module, _inputs, output):
        raise _Stop(output)

    handle = model.get_submodule(path).register_forward_hook(hook)
    try:
        model(x)
    except _Stop as stop:
        return stop.output
    finally:
        handle.remove()
    raise AssertionError(f"submodule {path!r} never ran")


def receptive_spans(
    module: nn.Module,
    input_shape: Sequence[int],
    indices: Sequence[Sequence[int]],
    path: str | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> list[list[Span]]:
    """For each output index (one int per spatial dim), per spatial dim the ``[first, last]`` input positions
    that influence that element of the output of ``path`` (the model's output when None).

    One forward and one backward pass: batch element ``b`` is probed at ``indices[b]`` (in eval mode the
    batch elements are independent). float64 by default; float32 is much faster and still safe for networks
    without saturating activations, where the smallest gradient is roughly (1/kernel volume)^depth.
    ``module`` may be a copy already made by :func:`prepare` (to probe several paths of a large network).
    """
    prepared = getattr(module, "_probe_dtype", None)
    model, dtype = (module, prepared) if prepared is not None else (prepare(module, seed, dtype), dtype)
    generator = torch.Generator().manual_seed(seed + 1)
    batch = len(indices)
    x = (0.5 + torch.rand(batch, *input_shape, generator=generator, dtype=dtype)).requires_grad_()
    y = _forward_to(model, x, path)
    dims = len(input_shape) - 1
    assert y.dim() == dims + 2, f"output {tuple(y.shape)} does not have the input's {dims} spatial dims"
    weights = 0.5 + torch.rand(y.shape[1], generator=generator, dtype=dtype)
    total = y.new_zeros(())
    for b, index in enumerate(indices):
        index = tuple(index)
        assert len(index) == dims and all(0 <= i < n for i, n in zip(index, y.shape[2:], strict=True)), (
            f"index {index} outside the output {tuple(y.shape[2:])}"
        )
        total = total + (y[(b, slice(None), *index)] * weights).sum()
    (grad,) = torch.autograd.grad(total, x)
    spans: list[list[Span]] = []
    for b, index in enumerate(indices):
        nonzero = grad[b].abs().sum(0).nonzero()
        assert len(nonzero), f"output {tuple(index)} depends on no input position"
        spans.append([(int(nonzero[:, d].min()), int(nonzero[:, d].max())) for d in range(dims)])
    return spans


def receptive_span(
    module: nn.Module,
    input_shape: Sequence[int],
    index: Sequence[int],
    path: str | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> list[Span]:
    """Per spatial dim, the ``[first, last]`` input positions that influence output element ``index``."""
    return receptive_spans(module, input_shape, [index], path, seed, dtype)[0]


def clipped(span: Span, length: int) -> Span:
    """A static (unclipped) span restricted to the input ``[0, length - 1]``."""
    return max(span[0], 0), min(span[1], length - 1)


def probe_indices(sizes: Sequence[int]) -> list[tuple[int, ...]]:
    """First, middle and last output positions (every dim together), plus a mixed corner in 2-D."""
    picks = [tuple(0 for _ in sizes), tuple((n - 1) // 2 for n in sizes), tuple(n - 1 for n in sizes)]
    if len(sizes) == 2:
        picks.append((0, sizes[1] - 1))
    return list(dict.fromkeys(picks))
