"""``archspec check --tile N``: the tiling of each report's input, from the network's receptive field
(archspec.analysis.tiling), with the tile itself analysed as an input so that its output length is known."""

from __future__ import annotations

import argparse
from typing import Any

from archspec.commands.options import input_shape
from archspec.commands.shared import UsageError
from archspec.errors import Diagnostic, SpecError


def tile_sizes(text: str | None) -> list[int] | None:
    """``--tile 64`` or ``--tile 64,48``: the tile's size per spatial dim (one size: every dim)."""
    if text is None:
        return None
    try:
        return input_shape(text)
    except UsageError as error:
        raise UsageError(str(error).replace("--input", "--tile").replace("3,224,224", "64 or 64,48")) from None


def add_tiling(spec: Any, network: Any, report: Any, tile: list[int], args: argparse.Namespace) -> None:
    """Set ``report.tiling`` for tiles of ``tile`` inputs.

    Raises:
        SpecError: located where the field stops being exact, or at the spec when a tile is too small or is not
            a valid input of the network.
    """
    from archspec.analysis.tiling import TilingError, tiling
    from archspec.commands.reports import analyse_spec

    if report.input_vocab is not None or len(report.input_shape) < 3:
        raise _error(network, report, "the network takes no spatial input, so it has no tiles", None)
    spatial = report.input_shape[2:]
    field = output_field(network, report)
    sizes = tile * len(spatial) if len(tile) == 1 else tile
    try:
        if len(sizes) != len(spatial):
            raise TilingError(
                f"--tile has {len(tile)} sizes but the input has {len(spatial)} spatial dims",
                f"give one size or {len(spatial)}, comma-separated",
            )
        tile_out = _tile_output(spec, report, sizes, args, analyse_spec)
        report.tiling = tiling(field, spatial, report.output_shape[2:], sizes, tile_out)
    except TilingError as error:
        raise _error(network, report, error.message, error.fix) from None


def _tile_output(spec: Any, report: Any, sizes: list[int], args: argparse.Namespace, analyse_spec: Any) -> list[int]:
    """The network's output length per spatial dim for one tile (the tile must be an input it accepts)."""
    from archspec.analysis.tiling import TilingError

    try:
        tile_report = analyse_spec(spec, [report.input_shape[1], *sizes], args)[1]
    except SpecError as error:
        first = error.diagnostics[0]
        raise TilingError(
            f"a tile of {sizes} is not a valid input of the network: {first.message}",
            f"use a tile the network accepts (smallest valid input {report.min_input})",
        ) from None
    out = tile_report.output_shape[2:]
    if len(out) != len(sizes):
        raise TilingError("the network's output has no spatial dims, so it has no tiles", "tile a spatial network")
    return out


def output_field(network: Any, report: Any) -> Any:
    """The field of the network's main output: its last top-level module off the heads (the report's network
    field skips trailing maps of size 1, which a tile must not: a global pool there reads every tile)."""
    main = [child for child in network.root.children if not child.in_head]
    return report.layer(main[-1].path).rf if main else None


def _error(network: Any, report: Any, message: str, fix: str | None) -> SpecError:
    """At the first module whose field is what makes the network's field not exact (else at the spec)."""
    field = output_field(network, report)
    where = network.root
    spec_path: Any = where.spec_path
    location = where.location
    if field is not None and field.kind != "exact":
        for layer in report.layers:
            if layer.rf is not None and layer.rf.kind == field.kind and layer.rf.reason == field.reason:
                if layer.location is not None:
                    spec_path, location = layer.spec_path, layer.location
                break
    return SpecError([Diagnostic(f"--tile: {message}", spec_path, location, fix)])
