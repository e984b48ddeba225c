"""How an error inside nested blocks names the uses that lead to it, from the top-level item down:
``layers[2] → block 'bc' at layers[0] → block 'conv_bn_relu' at layers[0].conv``."""

from __future__ import annotations

from collections.abc import Sequence

from archspec.errors import SpecPath, format_spec_path

MAX_STEPS = 8  # a runaway recursion's chain shows its ends


def use_chain(top: SpecPath, uses: Sequence[tuple[str, SpecPath, SpecPath]]) -> str:
    """``top`` is the top-level item's path; each use is (block name, the block's own path, the path inside
    it of the next use or of the fault). Each position is written relative to the block just named, so a
    block used in several places, or a bundled block inside a bundled block, is found at every level.

    >>> use_chain(("layers", 2), [("bc", ("blocks", "bc"), ("blocks", "bc", "layers", 0)),
    ...                           ("conv_bn_relu", ("blocks", "conv_bn_relu"),
    ...                            ("blocks", "conv_bn_relu", "layers", 0, "conv"))])
    "layers[2] → block 'bc' at layers[0] → block 'conv_bn_relu' at layers[0].conv"
    """
    steps = [format_spec_path(top)]
    for block, block_path, inner in uses:
        relative = inner[len(block_path) :] if inner[: len(block_path)] == block_path else inner
        steps.append(f"block '{block}' at {format_spec_path(relative)}")
    if len(steps) > MAX_STEPS:
        hidden = len(steps) - MAX_STEPS + 1
        head = MAX_STEPS // 2
        steps = [*steps[:head], f"… {hidden} more uses …", *steps[len(steps) - (MAX_STEPS - 1 - head) :]]
    return " → ".join(steps)
