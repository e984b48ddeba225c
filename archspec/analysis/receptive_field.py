"""Receptive field of every module's output with respect to the network input (REFERENCE.md §5).

Per spatial dimension we carry size R, jump J and effective (left) padding P; ``start = R/2 - P`` is the
0.5-based centre of output index 0, and output index i depends on inputs ``[iJ - P, iJ - P + R - 1]``.

R, J and P are exact integers. They may not pass :data:`MAX_FIELD`: no input has more than 2**31 - 1
positions per dimension, so a field 2**32 times larger than any input is a runaway (strides of 2**31 - 1
chained), and past it the numbers would grow without bound (a million such layers make numbers of millions
of digits). Such a spec is refused at the layer where its field outgrows the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from archspec.analysis.warnings import ReportWarning, warning_at
from archspec.errors import Diagnostic, SpecError
from archspec.ir.graph import Network, Node
from archspec.ops.base import Global, PositionDependent, Rearrange, WindowStep
from archspec.ops.containers import FieldMerge, keep_main


class FieldKind(str, Enum):
    """What a receptive field is; the JSON report writes the value. Renderers import these, never retype them
    (a ``str`` enum: members equal their values, so readers of ``"exact"`` keep working)."""

    EXACT = "exact"  # size, jump and padding hold for every output position
    GLOBAL = "global"  # every output reads the whole input
    POSITION_DEPENDENT = "position_dependent"  # the field differs between output positions
    # A spatial dim was merged with another or split (a reshape of H, W into H·W, a flatten), selected away, or
    # moved where an op that does not say it is pointwise there reads it: no field is claimed.
    NOT_TRACKED = "not_tracked"


EXACT, GLOBAL, POSITION_DEPENDENT = FieldKind.EXACT, FieldKind.GLOBAL, FieldKind.POSITION_DEPENDENT
NOT_TRACKED = FieldKind.NOT_TRACKED
MAX_FIELD = 2**63 - 1  # also what an int64 (JSON readers, numpy) holds exactly


@dataclass(frozen=True)
class Field:
    """The field of one feature map. ``size``/``jump``/``padding`` are set only when ``kind`` is exact."""

    kind: FieldKind
    size: tuple[int, ...] = ()
    jump: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    reason: str = ""
    # Where each spatial dim of the network input now lies: its 0-based index in the feature shape (after a
    # permute to channels last, [H, W, C]: (0, 1)). Empty: where it started, [C, *spatial] (1, 2, ...).
    axes: tuple[int, ...] = ()

    @property
    def placed(self) -> tuple[int, ...]:
        """The feature index of each spatial dim (``axes``, or 1, 2, ... where they have not moved)."""
        return self.axes or tuple(range(1, len(self.size) + 1))

    @property
    def start(self) -> tuple[float, ...]:
        """``R/2 - P``, from the exact integer ``R - 2P`` (one correctly rounded division: no overflow, and
        exact for every field a real network has)."""
        return tuple((r - 2 * p) / 2 for r, p in zip(self.size, self.padding, strict=True))

    @property
    def dims(self) -> int:
        return len(self.size)

    def span(self, index: int, dim: int = 0) -> tuple[int, int]:
        """Input positions ``[first, last]`` (unclipped) that output ``index`` depends on."""
        first = index * self.jump[dim] - self.padding[dim]
        return first, first + self.size[dim] - 1

    def to_dict(self) -> dict[str, object]:
        if self.kind != EXACT:
            return {
                "kind": self.kind.value,
                "size": None,
                "jump": None,
                "start": None,
                "padding": None,
                "reason": self.reason,
            }
        exact: dict[str, object] = {
            "kind": EXACT.value,
            "size": list(self.size),
            "jump": list(self.jump),
            "start": list(self.start),
            "padding": list(self.padding),
        }
        if self.axes:  # moved by a layout op: the torch dim (batch 0) of each entry
            exact["dims"] = [axis + 1 for axis in self.axes]
        return exact


def input_field(spatial_dims: int) -> Field:
    return Field(EXACT, (1,) * spatial_dims, (1,) * spatial_dims, (0,) * spatial_dims)


def apply_step(field: Field, step: object, x: tuple[int, ...] = (), pointwise_along_channels: bool = True) -> Field:
    """One op's effect: ``R += (k-1)J; P += pJ; J *= s`` per dimension.

    A step speaks of the op's input ``x`` as ``[C, *spatial]``: entry d of a window is feature dim d + 1. Where
    layout ops moved the spatial dims (``Field.axes``), each takes the entry of the dim it lies on; one lying on
    feature dim 0 (the channels) keeps its field only through ops that are pointwise there
    (``Op.pointwise_along_channels``), and :class:`Rearrange` steps move them."""
    if field.kind != EXACT:
        return field
    if isinstance(step, Rearrange):
        return _rearranged(field, step)
    if 0 in field.placed and not pointwise_along_channels:
        return Field(NOT_TRACKED, reason="a spatial dim lies on dim 1 (channels), which this op mixes")
    if step is None:
        return field
    if isinstance(step, PositionDependent):
        return Field(POSITION_DEPENDENT, reason=step.reason)
    if isinstance(step, Global):
        if not field.axes:
            return Field(GLOBAL, reason=step.reason)
        # Whole along every dim but the channels, on which a moved spatial dim may lie (pointwise there).
        step = WindowStep(tuple(x[1:]), (0,) * (len(x) - 1), (0,) * (len(x) - 1))
    assert isinstance(step, WindowStep)
    if field.axes:  # the entries of the dims the spatial dims lie on (the channels: pointwise)
        kernel = tuple(1 if a == 0 else step.kernel[a - 1] for a in field.axes)
        stride = tuple(1 if a == 0 else step.stride[a - 1] for a in field.axes)
        left = tuple(0 if a == 0 else step.padding[a - 1] for a in field.axes)
        step = WindowStep(kernel, stride, left)
        if all(s == 0 for s in stride):
            return Field(GLOBAL, reason="the op reads every position of every spatial dim")
    size = tuple(r + (k - 1) * j for r, k, j in zip(field.size, step.kernel, field.jump, strict=True))
    padding = tuple(p + q * j for p, q, j in zip(field.padding, step.padding, field.jump, strict=True))
    jump = tuple(j * s for j, s in zip(field.jump, step.stride, strict=True))
    return _bounded(Field(EXACT, size, jump, padding, axes=field.axes))


def _rearranged(field: Field, step: Rearrange) -> Field:
    """A layout op's effect: each spatial dim moves to the output dim that is its input dim, where a slice
    reads positions ``start + i·step`` of it (a window of 1 with stride ``step`` and left padding ``-start``).
    A spatial dim that no output dim is (merged, split, selected away) has no field any more."""
    axes, size, jump, padding = [], [], [], []
    for d, axis in enumerate(field.placed):
        if axis not in step.source:
            return Field(
                NOT_TRACKED,
                reason=f"spatial dim {d + 1} of the input was merged with another dim, split or selected",
            )
        k = step.source.index(axis)
        axes.append(k)
        size.append(field.size[d])
        padding.append(field.padding[d] - step.start[k] * field.jump[d])
        jump.append(field.jump[d] * step.step[k])
    placed = tuple(axes)
    standard = placed == tuple(range(1, len(placed) + 1)) and len(step.source) == len(placed) + 1
    return _bounded(Field(EXACT, tuple(size), tuple(jump), tuple(padding), axes=() if standard else placed))


class FieldTooLarge(Exception):
    """A receptive field outgrew :data:`MAX_FIELD`; the pass turns it into a located error."""

    def __init__(self, field: Field):
        super().__init__("receptive field too large")
        self.field = field


def _bounded(field: Field) -> Field:
    if max(*field.size, *field.jump, *(abs(p) for p in field.padding)) > MAX_FIELD:
        raise FieldTooLarge(field)
    return field


def merge_fields(fields: list[Field | None]) -> Field | None:
    """Union of the branches' fields (used by parallel containers); None where no branch is spatial."""
    present = [f for f in fields if f is not None]
    if len(present) < len(fields):
        return None if not present else Field(GLOBAL, reason="a merged branch has no spatial dimensions")
    if len(fields) == 1:
        return fields[0]
    if len({f.placed for f in fields if f.kind == EXACT}) > 1:
        return Field(NOT_TRACKED, reason="merged branches hold the spatial dims in different places")
    for kind in (NOT_TRACKED, POSITION_DEPENDENT, GLOBAL):
        odd = next((f for f in fields if f.kind == kind), None)
        if odd is not None:
            return odd
    jumps = {f.jump for f in fields}
    if len(jumps) > 1:
        return Field(POSITION_DEPENDENT, reason="merged branches have different jumps")
    first = tuple(min(-f.padding[d] for f in fields) for d in range(fields[0].dims))
    last = tuple(max(f.size[d] - 1 - f.padding[d] for f in fields) for d in range(fields[0].dims))
    return _bounded(
        Field(
            EXACT,
            tuple(b - a + 1 for a, b in zip(first, last, strict=True)),
            fields[0].jump,
            tuple(-a for a in first),
            axes=fields[0].axes,
        )
    )


def receptive_fields(network: Network, warnings: list[ReportWarning] | None = None) -> dict[str, Field | None]:
    """The field at every module path; None where the output has no spatial dimensions.

    Merges whose branches are not centred alike append a warning to ``warnings``.

    Raises:
        SpecError: located at the layer whose field outgrows :data:`MAX_FIELD`.
    """
    fields: dict[str, Field | None] = {}
    in_spec_file: list[Node] = []  # the innermost enclosing node located in the user's file (not a library's)

    def visit(node: Node, field: Any) -> Field | None:
        anchored = node.location.file == network.file
        if anchored:
            in_spec_file.append(node)
        try:
            if node.is_leaf:
                result = _leaf_field(node, field) if field is not None else None
            else:
                if node.container.splits_input and field is not None and 0 in field.placed and field.kind == EXACT:
                    # The parts are ranges of dim 1, where a spatial dim lies: each branch sees a shifted part.
                    field = Field(NOT_TRACKED, reason=f"'{node.kind}' splits a spatial dim into parts")

                def merge(branch_fields: list[Field | None]) -> Field | None:
                    if _shifted(node, branch_fields):
                        return Field(POSITION_DEPENDENT, reason=f"'{node.kind}' joins branches along a spatial dim")
                    merged = merge_fields(branch_fields)
                    if warnings is not None and _misaligned(branch_fields):
                        centres = sorted({f.start for f in branch_fields if f and f.kind == EXACT})
                        warnings.append(
                            warning_at(
                                node,
                                in_spec_file[-1] if in_spec_file else network.root,
                                f"the branches merged by module '{node.path}' are not aligned: their fields are "
                                f"centred at {centres}, so output i of each branch sees a different place",
                                "if that is not meant, pad the branches alike (odd kernels with padding kernel // 2 "
                                "keep every branch centred)",
                            )
                        )
                    return merged

                result = node.container.propagate(field, node.children, visit, merge, keep_main)
        except FieldTooLarge as exc:
            raise _too_large(exc.field, node, in_spec_file[-1] if in_spec_file else network.root) from None
        finally:
            if anchored:
                in_spec_file.pop()
        result = _fit(result, node.output)
        fields[node.path] = result
        return result

    visit(network.root, input_field(len(network.input) - 1) if len(network.input) > 1 else None)
    return fields


def _shifted(node: Node, branch_fields: list[Field | None]) -> bool:
    """Whether the container joins its branches along a dim where a spatial dim of the input lies."""
    joined = node.container.joined_dim(node.args, len(node.output))
    if joined is None:
        return node.container.field_merge(node.args, len(node.output)) is FieldMerge.SHIFTED
    exact = [f for f in branch_fields if f is not None and f.kind == EXACT]
    return joined in (exact[0].placed if exact else range(1, len(node.output)))


def _leaf_field(node: Node, field: Field) -> Field:
    step = node.op.receptive_field(node.args, node.input, node.output)
    if not isinstance(step, Rearrange) and len(node.input) != len(node.output) and field.kind == EXACT:
        # A rank change outside a layout op (flatten): the spatial dims were merged.
        return Field(NOT_TRACKED, reason=f"'{node.kind}' merges or splits spatial dimensions")
    return apply_step(field, step, node.input, node.op.pointwise_along_channels(node.args, node.input))


def _too_large(field: Field, node: Node, anchor: Node) -> SpecError:
    """The error for ``node``'s field, located at ``anchor`` (``node`` itself unless inside a bundled block)."""
    numbers = ", ".join(
        f"{name} {max(values):.3e}"
        for name, values in (("size", field.size), ("jump", field.jump), ("padding", [abs(p) for p in field.padding]))
    )
    return SpecError(
        [
            Diagnostic(
                f"the receptive field outgrows 2**63 - 1 input positions at module '{node.path}': {numbers}; no input "
                "is larger than 2**31 - 1 positions, so strides and kernels this large only run away",
                anchor.spec_path,
                anchor.location,
                "use smaller strides and kernels (the jump is the product of the strides before this layer)",
            )
        ]
    )


def _misaligned(branch_fields: list[Field | None]) -> bool:
    starts = {f.start for f in branch_fields if f is not None and f.kind == EXACT}
    return len(starts) > 1


def _fit(field: Field | None, output: tuple[int, ...]) -> Field | None:
    """Shapes without spatial dims have no field; a change in the number of spatial dims loses exactness."""
    dims = len(output) - 1
    if dims == 0 or field is None:
        return None
    if field.kind == EXACT and (max(field.placed) > dims or (not field.axes and field.dims != dims)):
        return Field(NOT_TRACKED, reason="spatial dimensions were merged or split")
    return field


def network_field(network: Network, fields: dict[str, Field | None]) -> Field | None:
    """The field of the final feature map: the last main-path module whose output has a spatial dim > 1.

    Heads are off the main path; the branches inside a merge are not the main path either (the merge is).
    The walk goes backwards (children last to first, then their parent), so it stops at the first match:
    near the end for every real network, however many modules come before."""
    stack: list[tuple[Node, bool]] = [(child, False) for child in network.root.children]
    while stack:
        node, children_seen = stack.pop()
        if node.in_head:
            continue
        if children_seen or node.is_leaf or node.container.merges:
            if len(node.output) > 1 and max(node.output[1:]) > 1:
                return fields.get(node.path)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in node.children)
    return None
