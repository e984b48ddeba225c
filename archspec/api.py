"""The Python API (DESIGN.md §4): ``load``, ``analyze``, ``compile``, ``expand``, ``load_checkpoint``,
``load_weights_in_order``, and ``summary`` (``analyze`` called as ``torchinfo.summary`` is).

Every function checks all of its arguments (:mod:`archspec.arguments`) before it reads a file or builds
anything: a misuse raises :class:`~archspec.arguments.ArgumentError`, a :class:`SpecError` naming the
argument, what was given and what is accepted.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from archspec.analysis.report import Report, build_report
from archspec.arguments import Arguments, describe
from archspec.errors import Diagnostic, Location, SpecError
from archspec.ir.expand import ExpandLimits
from archspec.ir.expand import expand as _expand
from archspec.ir.graph import Network
from archspec.limits import DEFAULT_MAX_NODES
from archspec.loading.resolve import load_document
from archspec.loading.yaml_loader import LoadLimits
from archspec.ops.base import Context
from archspec.spec.model import MAX_DIMENSION, Spec, TokenInput
from archspec.spec.validate import validate
from archspec.user_text import shortened

SpecLike = Spec | str | os.PathLike[str] | dict[str, Any]
ShapeLike = Sequence[int]
_OTHER_SOURCES = ", a bundled spec's name, a dict or an archspec Spec"


def load(
    source: SpecLike,
    overrides: dict[str, Any] | None = None,
    limits: LoadLimits | None = None,
    scale: str | None = None,
) -> Spec:
    """Load and validate a spec from a path, a bundled spec's name (``"vgg16"``) or a dict.

    ``overrides`` maps param names to values (as ``--set`` does); ``scale`` names one of the spec's ``scales``
    (as ``--scale`` does), whose values apply first, so an override of the same param wins; ``limits`` caps what
    reading the text may cost (:class:`~archspec.loading.yaml_loader.LoadLimits`; nothing is read when ``source``
    is a Spec).

    Raises:
        SpecError: listing every problem, each with file, line, column, spec path and a fix.
        ArgumentError: (a SpecError) when an argument has the wrong type or value.
    """
    args = Arguments("load")
    checked_overrides = args.overrides("overrides", overrides)
    checked_limits = args.instance("limits", limits, LoadLimits, "from archspec import LoadLimits")
    if scale is not None and not isinstance(scale, str):
        raise args.fail("scale", f"must be a scale's name (a str), got {describe(scale)}", "pass e.g. scale='x0_5'")
    return _load(args, "source", source, checked_overrides, checked_limits, scale)


def expand(
    spec: SpecLike,
    input_shape: ShapeLike | None = None,
    batch: int = 1,
    train: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Network:
    """The IR of ``spec``: every module with its arguments and shapes.

    Raises:
        SpecError: also, located at the item whose expansion passes it, when the network would have more than
            ``max_nodes`` modules (default :data:`archspec.limits.DEFAULT_MAX_NODES`); counted while expanding,
            so a runaway spec is refused before its modules are built.
    """
    network, _ = _expansion(Arguments("expand"), spec, input_shape, batch, train, max_nodes)
    return network


def analyze(
    spec: SpecLike,
    input_shape: ShapeLike | None = None,
    batch: int = 1,
    train: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Report:
    """Static analysis, without torch: shapes, parameters, buffers, MACs, memory, receptive fields."""
    network, context = _expansion(Arguments("analyze"), spec, input_shape, batch, train, max_nodes)
    return build_report(network, context.batch, context)


def compile(
    spec: SpecLike | Network,
    input_shape: ShapeLike | None = None,
    in_place: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
    weights: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    strict: bool = True,
) -> Any:
    """A ``torch.nn.Module`` whose submodule paths, shapes and counts equal the static report's.

    ``in_place`` (default, as torchvision does) lets ReLU-like ops overwrite their input where it is the
    fresh output of the previous layer that nothing else reads; outputs and gradients are the same either
    way. Turn it off to inspect every layer's own output with forward hooks. ``max_nodes`` is the module
    budget of :func:`expand` (a :class:`Network` passed in was expanded under its own).

    ``weights`` loads a state dict into the module: the path of a local file (``.pth``/``.pt`` read with
    ``torch.load(weights_only=True)``, ``.safetensors`` with the safetensors package; one wrapper level such as
    ``{"model": state_dict, ...}`` is unwrapped) or a dict of names to tensors. ``strict`` (default) requires
    every entry to fit; ``strict=False`` loads those that fit and warns (``UserWarning``) about the rest.

    Raises:
        SpecError: ``FILE: error:`` when the weights file cannot be read or holds no state dict, and one line per
            entry (within a bound) when the weights do not fit: missing, unexpected, of another shape or type.
    """
    args = Arguments("compile")
    checked_in_place = args.flag("in_place", in_place)
    checked_strict = args.flag("strict", strict)
    if weights is None and not checked_strict:
        raise args.fail("strict", "applies to weights=..., and none are given", "pass weights=PATH or drop strict")
    if weights is not None and not isinstance(weights, Mapping):
        args.path("weights", weights, also=", a state dict (a dict of names to tensors) or None", example="w.pth")
    if isinstance(spec, Network):
        if input_shape is not None:
            # An expanded network has its shapes already: silently ignoring the shape would be a silent change.
            raise args.fail(
                "input_shape",
                "cannot be given with an expanded Network, whose shapes are fixed",
                "pass the spec itself with input_shape=..., or archspec.expand(spec, input_shape)",
            )
        network = spec
    else:
        network, _ = _expansion(args, spec, input_shape, 1, False, max_nodes)
    # Here, not at the top: the backend imports torch, which analysing a spec never needs.
    from archspec.backend.torch_backend import compile_network

    if weights is None:
        return compile_network(network, checked_in_place)
    from archspec.backend.weight_files import read_weights, weights_from_mapping
    from archspec.backend.weight_fit import API_HINTS, load_state

    # Read before compiling: a missing or damaged file is reported before the slow part.
    state = weights_from_mapping(weights, "compile") if isinstance(weights, Mapping) else read_weights(weights)
    model = compile_network(network, checked_in_place)
    notes = load_state(model, state, checked_strict, API_HINTS)
    if notes:
        warnings.warn("\n".join(str(note) for note in notes), UserWarning, stacklevel=2)
    return model


def load_checkpoint(path: str | os.PathLike[str]) -> Any:
    """The ``torch.nn.Module`` saved in ``path`` by ``archspec build --save``: compiled again from the saved
    spec, overrides and input shape, with the saved weights and buffers loaded. Like any new module it is in
    training mode; call ``.eval()`` for inference.

    Raises:
        SpecError: (a ``ValueError``) when the file is not an archspec checkpoint, is damaged, or its weights do
            not fit the module its spec builds.
        ArgumentError: (a SpecError) when ``path`` is not a non-empty path (``None``, ``''``, a number...).
    """
    Arguments("load_checkpoint").path("path", path, example="vgg16.pt")
    # Here, not at the top: the backend imports torch, which analysing a spec never needs.
    from archspec.backend.checkpoint import load_weights, read_checkpoint

    checkpoint = read_checkpoint(path)
    model = compile(checkpoint.spec, checkpoint.input_shape)
    load_weights(model, checkpoint)
    return model


def load_weights_in_order(target: Any, source: Any, strict_dtype: bool = True) -> None:
    """Copy ``source``'s state (an ``nn.Module`` or a state dict) into the module ``target`` entry by entry,
    in registration order, for sources whose names differ (torchvision's, say).

    Raises:
        WeightMismatch: naming the first pair of entries that disagree, with both keys and shapes.
        ArgumentError: (a SpecError) when an argument has the wrong type.
    """
    # Here, not at the top: the backend imports torch, which analysing a spec never needs.
    from archspec.backend.weights import load_weights_in_order as copy_in_order

    args = Arguments("load_weights_in_order")
    args.torch_module("target", target)
    args.torch_module("source", source, or_state_dict=True)
    copy_in_order(target, source, args.flag("strict_dtype", strict_dtype))


# torchinfo.summary's arguments that mean nothing for a static report: (why, what to do instead).
_TORCHINFO_ONLY = {
    "input_data": ("archspec runs no forward pass, so it takes no tensors", "give input_size=(N, C, H, W)"),
    "cache_forward_pass": ("archspec runs no forward pass to cache", "drop it: analysing again is as fast"),
    "col_names": (
        "archspec's table has fixed columns (output shape, params, MACs, receptive field)",
        "drop it; every number of every module is in the returned report (report.layers, report.to_dict())",
    ),
    "col_width": ("archspec's table sizes its columns to their contents", "drop it"),
    "device": ("archspec computes on no device", "drop it"),
    "dtypes": ("the report counts float32 elements (4 bytes)", "drop it"),
    "row_settings": ("archspec's table always shows the module tree by depth", "drop it"),
}


def summary(
    spec: SpecLike,
    input_size: Sequence[int] | None = None,
    input_data: Any = None,
    batch_dim: int | None = None,
    cache_forward_pass: Any = None,
    col_names: Any = None,
    col_width: Any = None,
    depth: int | None = 3,
    device: Any = None,
    dtypes: Any = None,
    mode: str | None = None,
    row_settings: Any = None,
    verbose: int | None = None,
    **kwargs: Any,
) -> Report:
    """:func:`analyze`, called as ``torchinfo.summary(model, input_size, ...)`` is: the arguments in its order.

    ``input_size`` holds the batch, ``(N, C, *spatial)`` (or ``[(N, C, *spatial)]``); with ``batch_dim=0`` it is
    ``(C, *spatial)`` at batch 1; None: the spec's input at batch 1. ``depth``: the table's (and a notebook's)
    depth, 3 as torchinfo's; 0 totals only, None every module. ``mode``: ``"eval"`` (None) or ``"train"``.
    ``verbose``: 0 prints nothing, 1 the table, 2 the table of every module; None as torchinfo: 0 in an
    interactive session, else 1. Returns the report, which a notebook shows at ``depth``.

    torchinfo's other arguments (``input_data``, ``cache_forward_pass``, ``col_names``, ``col_width``,
    ``device``, ``dtypes``, ``row_settings``, keywords for ``forward``) raise an ArgumentError that says why.
    """
    args = Arguments("summary")
    given = {"input_data": input_data, "cache_forward_pass": cache_forward_pass, "col_names": col_names}
    given |= {"col_width": col_width, "device": device, "dtypes": dtypes, "row_settings": row_settings}
    for name, value in given.items():
        if value is not None:
            why, fix = _TORCHINFO_ONLY[name]
            raise args.fail(name, f"torchinfo's {name} is not archspec's: {why}; got {describe(value)}", fix)
    if kwargs:
        name, value = next(iter(kwargs.items()))
        raise args.fail(
            name,
            f"is not an argument of archspec.summary (torchinfo passes it to forward; archspec runs none), got "
            f"{describe(value)}",
            "drop it",
        )
    if batch_dim is not None and (args.count("batch_dim", batch_dim, minimum=0, example=0) != 0):
        raise args.fail(
            "batch_dim", f"archspec's batch is dim 0, got {describe(batch_dim)}", "pass batch_dim=0 or None"
        )
    if (
        isinstance(input_size, list | tuple)
        and input_size
        and all(isinstance(sizes, list | tuple) for sizes in input_size)
    ):  # torchinfo's list of the inputs' sizes
        if len(input_size) > 1:
            raise args.fail("input_size", f"archspec networks take one input, got {len(input_size)} sizes", "give one")
        input_size = input_size[0]
    sizes = args.shape("input_size", input_size, MAX_DIMENSION, batched=batch_dim is None)
    batch, shape = (1, sizes) if batch_dim is not None or sizes is None else (sizes[0], sizes[1:])
    checked_depth = None if depth is None else args.count("depth", depth, minimum=0, example=3)
    if mode not in (None, "eval", "train"):
        raise args.fail("mode", f"expected 'eval', 'train' or None, got {describe(mode)}", "pass mode='train'")
    if verbose is None:
        verbose = 0 if getattr(sys, "ps1", None) else 1  # torchinfo's rule: an interactive session shows the result
    else:
        verbose = args.count("verbose", verbose, minimum=0, maximum=2)
    tokens_fix = (
        "give the batch size and the sequence length (e.g. input_size=[1, 64])"
        if batch_dim is None
        else "give one size, the sequence length (e.g. input_size=[64])"
    )
    network, context = _expansion(
        args,
        spec,
        shape,
        batch,
        mode == "train",
        DEFAULT_MAX_NODES,
        (
            "input_size",
            f"input_size={list(sizes or ())}{', after its batch size,' if batch_dim is None else ''}",
            tokens_fix,
        ),
    )
    report = build_report(network, context.batch, context)
    report.display_depth = checked_depth
    if verbose:
        from archspec.render.table import render_table

        print(render_table(report, None if verbose == 2 else checked_depth))
    return report


def _load(
    args: Arguments,
    argument: str,
    source: Any,
    overrides: dict[str, Any],
    limits: LoadLimits | None = None,
    scale: str | None = None,
) -> Spec:
    """``source`` (the function's ``argument``) read and validated, after checking what kind of value it is."""
    if isinstance(source, Spec):
        if overrides or scale is not None:
            raise args.fail(
                "overrides" if overrides else "scale",
                "apply when a spec is read, and this one is an already loaded Spec",
                "pass the path, bundled name or dict with overrides=... instead",
            )
        return source
    if not isinstance(source, dict):
        args.path(argument, source, also=_OTHER_SOURCES)
    try:
        document = load_document(source, limits)
    except OSError as error:  # e.g. a name too long for the file system: about the file, not a bug
        name = shortened(os.fspath(source))
        raise SpecError(
            [
                Diagnostic(
                    f"cannot read the file: {error.strerror or error}",
                    (),
                    Location(name),
                    "check the path (or give a bundled spec's name: see 'archspec list')",
                )
            ]
        ) from None
    return validate(document, overrides, scale=scale)


def _expansion(
    args: Arguments,
    spec: Any,
    input_shape: Any,
    batch: Any,
    train: Any,
    max_nodes: Any,
    checked_shape: tuple[str, str, str] | None = None,
) -> tuple[Network, Context]:
    """Check the arguments every analysing function shares (all before the spec is read), then expand.

    ``checked_shape``: (argument, what was given, the fix for a token input) where the caller has checked
    ``input_shape`` as another argument (summary's ``input_size``, which holds the batch): what a dims error names."""
    shape = input_shape if checked_shape else args.shape("input_shape", input_shape, MAX_DIMENSION)
    argument, given, tokens_fix = checked_shape or (
        "input_shape",
        f"input_shape={list(shape or ())}",
        "give one size, the sequence length (e.g. input_shape=[64])",
    )
    # A batch is a size like any other (README, Limits): torch's kernels take C ints.
    context = Context(batch=args.count("batch", batch, maximum=MAX_DIMENSION), train=args.flag("train", train))
    limits = ExpandLimits(max_nodes=args.count("max_nodes", max_nodes, example=DEFAULT_MAX_NODES))
    loaded = _load(args, "spec", spec, {})
    if shape is not None and len(shape) != len(loaded.input):
        tokens = isinstance(loaded.input, TokenInput)
        raise args.fail_at(
            argument,
            f"{given} has {len(shape)} sizes but the spec takes integer tokens"
            if tokens
            else f"{given} has {len(shape) - 1} spatial dims but the "
            f"spec is written for {len(loaded.input) - 1} ({list(loaded.input)})",
            tokens_fix if tokens else "keep the number of dimensions",
            loaded.source.locate(("input",)),
            ("input",),
        )
    return _expand(loaded, shape, context, limits), context
