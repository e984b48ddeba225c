"""The Python API (DESIGN.md §4): ``load``, ``analyze``, ``compile``, ``expand``."""

from __future__ import annotations

import os
from typing import Any

from archspec.analysis.report import Report, build_report
from archspec.errors import Diagnostic, SpecError
from archspec.ir.expand import ExpandLimits
from archspec.ir.expand import expand as _expand
from archspec.ir.graph import Network
from archspec.limits import DEFAULT_MAX_NODES
from archspec.loading.resolve import load_document
from archspec.loading.yaml_loader import LoadLimits
from archspec.ops.base import Context
from archspec.spec.model import MAX_DIMENSION, Spec
from archspec.spec.validate import validate

SpecLike = Spec | str | os.PathLike[str] | dict[str, Any]


def load(source: SpecLike, overrides: dict[str, Any] | None = None, limits: LoadLimits | None = None) -> Spec:
    """Load and validate a spec from a path, a bundled spec's name (``"vgg16"``) or a dict.

    Raises:
        SpecError: listing every problem, each with file, line, column, spec path and a fix.
    """
    if isinstance(source, Spec):
        if overrides:
            raise ValueError("overrides apply when loading; pass the path or name instead of a Spec")
        return source
    return validate(load_document(source, limits), overrides)


def expand(spec: SpecLike, input_shape: list[int] | tuple[int, ...] | None = None, batch: int = 1,
           train: bool = False, max_nodes: int = DEFAULT_MAX_NODES) -> Network:
    """The IR of ``spec``: every module with its arguments and shapes.

    Raises:
        SpecError: also, located at the item whose expansion passes it, when the network would have more than
            ``max_nodes`` modules (default :data:`archspec.limits.DEFAULT_MAX_NODES`); counted while expanding,
            so a runaway spec is refused before its modules are built.
    """
    loaded = load(spec)
    shape = _check_input(loaded, input_shape)
    _check_batch(batch)
    return _expand(loaded, shape, Context(batch=batch, train=train), ExpandLimits(max_nodes=max_nodes))


def analyze(spec: SpecLike, input_shape: list[int] | tuple[int, ...] | None = None, batch: int = 1,
            train: bool = False, max_nodes: int = DEFAULT_MAX_NODES) -> Report:
    """Static analysis, without torch: shapes, parameters, buffers, MACs, memory, receptive fields."""
    network = expand(spec, input_shape, batch, train, max_nodes)
    return build_report(network, batch, Context(batch=batch, train=train))


def compile(spec: SpecLike | Network, input_shape: list[int] | tuple[int, ...] | None = None,
            in_place: bool = True, max_nodes: int = DEFAULT_MAX_NODES) -> Any:
    """A ``torch.nn.Module`` whose submodule paths, shapes and counts equal the static report's.

    ``in_place`` (default, as torchvision does) lets ReLU-like ops overwrite their input where it is the
    fresh output of the previous layer that nothing else reads; outputs and gradients are the same either
    way. Turn it off to inspect every layer's own output with forward hooks. ``max_nodes`` is the module
    budget of :func:`expand` (a :class:`Network` passed in was expanded under its own)."""
    from archspec.backend.torch_backend import compile_network

    network = spec if isinstance(spec, Network) else expand(spec, input_shape, max_nodes=max_nodes)
    return compile_network(network, in_place)


def _check_input(spec: Spec, shape: list[int] | tuple[int, ...] | None) -> tuple[int, ...] | None:
    if shape is None:
        return None
    shape = tuple(shape)
    if not 1 <= len(shape) <= 4 or not all(isinstance(s, int) and not isinstance(s, bool) and
                                           1 <= s <= MAX_DIMENSION for s in shape):
        raise SpecError([Diagnostic(f"input shape {list(shape)} must be [C, *spatial] with 0 to 3 spatial "
                                    f"dims, all from 1 to {MAX_DIMENSION:,}", ("input",),
                                    spec.source.locate(("input",)), "e.g. --input 3,224,224")])
    if len(shape) != len(spec.input):
        raise SpecError([Diagnostic(f"input shape {list(shape)} has {len(shape) - 1} spatial dims but the spec "
                                    f"is written for {len(spec.input) - 1} ({list(spec.input)})", ("input",),
                                    spec.source.locate(("input",)), "keep the number of dimensions")])
    return shape


def _check_batch(batch: int) -> None:
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise SpecError([Diagnostic(f"batch must be a whole number >= 1, got {batch!r}", (), None,
                                    "pass e.g. batch=1 (--batch 1)")])
