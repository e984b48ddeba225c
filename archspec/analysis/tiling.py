"""Tiled (sliding-window) inference from the network's static receptive field (``archspec check --tile N``).

Per spatial dim the network field has size R, jump J and left padding P: output i reads inputs
``[iJ - P, iJ - P + R - 1]``. A tile of N inputs starting at input ``a`` (a multiple of J, so the tile's output
grid is the image's, shifted by ``a / J``) computes output j exactly as the whole image does wherever that field
lies inside the tile: ``first <= j <= last`` with ``first = max(0, ceil(P / J))`` and
``last = min(floor((N - R + P) / J), tile output length - 1)``. Keeping those ``keep = last - first + 1``
outputs of every tile, tiles step by ``stride = keep * J`` inputs and overlap by ``N - stride``; the halo before
the kept part is ``first * J`` inputs and after it ``N - stride - first * J``. The stride is the largest for
which kept outputs of neighbouring tiles leave no gap, so one halo pixel fewer (a stride one jump longer) makes
an output read past its tile's edge. Outputs whose field crosses the image's own border are computed with the
network's padding untiled and with the tile's padding tiled: only outputs whose field lies in the image are
claimed equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspec.analysis.receptive_field import EXACT, Field


@dataclass(frozen=True)
class Tiling:
    """The tiled inference of one input size for tiles of ``tile`` inputs, per spatial dim."""

    tile: list[int]
    halo_before: list[int]  # inputs before the kept part of a tile
    halo_after: list[int]  # inputs after it
    stride: list[int]  # between tile starts (a multiple of the network's jump)
    overlap: list[int]  # tile - stride: the inputs two neighbouring tiles share
    keep_first: list[int]  # the first output of a tile to keep (0-based, in the tile's output)
    keep: list[int]  # how many outputs of a tile to keep from there
    tiles: list[int]  # tiles along each dim to cover the image's outputs whose field lies in the image
    count: int  # tiles in all

    def to_dict(self) -> dict[str, Any]:
        return {
            "tile": self.tile,
            "halo_before": self.halo_before,
            "halo_after": self.halo_after,
            "stride": self.stride,
            "overlap": self.overlap,
            "keep_first": self.keep_first,
            "keep": self.keep,
            "tiles": self.tiles,
            "count": self.count,
        }


class TilingError(ValueError):
    """No finite tiling: the field is not exact, or the tile is too small (the message says which)."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def tiling(field: Field | None, image: list[int], image_out: list[int], tile: list[int], tile_out: list[int]) -> Tiling:
    """The tiling of an image of ``image`` inputs per spatial dim (its output ``image_out`` long) into tiles of
    ``tile`` inputs (each output ``tile_out`` long).

    Raises:
        TilingError: the field is not exact (global, position dependent, not tracked, none) or a tile is too
            small for one output to see its whole field.
    """
    if field is None:
        raise TilingError("the network's output has no spatial dims, so it has no tiles", "tile a spatial network")
    if field.kind != EXACT:
        raise TilingError(
            f"the network's receptive field is {field.kind.value.replace('_', ' ')} ({field.reason}): no finite "
            "halo makes a tile's outputs equal the untiled ones",
            "tile only networks whose receptive field is exact (archspec check prints it)",
        )
    dims = field.dims
    if len(tile) == 1:
        tile = tile * dims
    if len(tile) != dims:
        raise TilingError(
            f"--tile has {len(tile)} sizes but the network has {dims} spatial dims",
            f"give one size or {dims}, comma-separated",
        )
    result: dict[str, list[int]] = {name: [] for name in ("before", "after", "stride", "first", "keep", "tiles")}
    for d in range(dims):
        size, jump, padding = field.size[d], field.jump[d], field.padding[d]
        first = max(0, _ceil_div(padding, jump))
        last = min((tile[d] - size + padding) // jump, tile_out[d] - 1)
        keep = last - first + 1
        if keep < 1:
            # The smallest tile with one output seeing its whole field (ignoring the output length).
            least = first * jump + size - padding
            raise TilingError(
                f"a tile of {tile[d]} inputs along spatial dim {d + 1} is too small: no output of it sees its whole "
                f"receptive field (size {size}, jump {jump}, padding {padding}), which needs a tile of at least "
                f"{least}",
                f"use a larger --tile (more than {least} inputs keep more than one output per tile)",
            )
        stride = keep * jump
        # The image's outputs whose field lies in the image: tile k keeps outputs [first + k*keep, ...).
        valid = min((image[d] - size + padding) // jump, image_out[d] - 1) - first + 1
        result["before"].append(first * jump)
        result["after"].append(tile[d] - stride - first * jump)
        result["stride"].append(stride)
        result["first"].append(first)
        result["keep"].append(keep)
        result["tiles"].append(max(1, _ceil_div(valid, keep)))
    count = 1
    for n in result["tiles"]:
        count *= n
    return Tiling(
        tile=list(tile),
        halo_before=result["before"],
        halo_after=result["after"],
        stride=result["stride"],
        overlap=[t - s for t, s in zip(tile, result["stride"], strict=True)],
        keep_first=result["first"],
        keep=result["keep"],
        tiles=result["tiles"],
        count=count,
    )
